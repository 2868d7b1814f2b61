package federation

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/commonplace/commonplace/federation/media/mediatest"
	"github.com/commonplace/commonplace/federation/policy"
	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/blob"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// Attachments as Mastodon, GoToSocial and Lemmy send them; links to
// pages, profile fields and bad URLs are no media.
func TestRemoteAttachments(t *testing.T) {
	obj, err := vocab.ParseObject([]byte(`{"id":"https://m.example/s/1","type":"Note","attachment":[
		{"type":"Document","mediaType":"image/jpeg","url":"https://files.m.example/a.jpg","name":"A board","blurhash":"UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH","focalPoint":[0.5,-0.5],"width":1200,"height":800},
		{"type":"Image","mediaType":"image/webp","url":"https://gts.example/b.webp","summary":"<b>bold</b> alt","blurhash":"not a hash!"},
		{"type":"Document","mediaType":"application/pdf","url":"https://files.m.example/c.pdf"},
		{"type":"Link","href":"https://example.com/article","mediaType":"text/html"},
		{"type":"Document","mediaType":"video/mp4","url":"javascript:alert(1)"},
		{"type":"PropertyValue","name":"x","value":"y"},
		{"type":"Document","mediaType":"audio/ogg","url":"https://files.m.example/d.ogg","focalPoint":[3,0]},
		{"type":"Document","mediaType":"image/png","url":"https://files.m.example/fifth.png"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got := remoteAttachments(obj)
	if len(got) != MaxAttachments {
		t.Fatalf("got %d: %+v", len(got), got)
	}
	a := got[0]
	if a.Kind != storage.MediaImage || a.RemoteURL != "https://files.m.example/a.jpg" || a.Description != "A board" || a.Blurhash == "" ||
		a.FocusX != 0.5 || a.FocusY != -0.5 || a.Width != 1200 || a.Height != 800 {
		t.Errorf("mastodon's: %+v", a)
	}
	if b := got[1]; b.Blurhash != "" || b.Description != "bold alt" {
		t.Errorf("gts's: %+v", b)
	}
	if got[2].Kind != storage.MediaUnknown || got[3].Kind != storage.MediaAudio || got[3].FocusX != 0 {
		t.Errorf("pdf, audio: %+v %+v", got[2], got[3])
	}

	// Lemmy's pages, from its own test suite.
	dir := sharedSamples(t)
	for file, want := range map[string]int{"page.json": 1, "page_image_and_link.json": 1} {
		data, err := os.ReadFile(filepath.Join(dir, "from-lemmy-tests", "lemmy", "objects", file))
		if err != nil {
			t.Fatal(err)
		}
		page, err := vocab.ParseObject(data)
		if err != nil {
			t.Fatal(err)
		}
		got := remoteAttachments(page)
		if len(got) != want || got[0].Kind != storage.MediaImage || got[0].RemoteURL != "https://enterprise.lemmy.ml/pictrs/image/eOtYb9iEiB.png" {
			t.Errorf("%s: %+v", file, got)
		}
	}
}

// An attachment on a private address is refused by the guard before any
// connection is made: nothing is stored, and it is not tried again.
func TestRemoteMediaPrivateAddress(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		var hits atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.Write(mediatest.JPEGWithGPS(20, 20, 1))
		}))
		defer srv.Close()
		s := NewService(db, "http://cp.example", nil)
		s.Client = transport.New(transport.Options{AllowPrivate: false})
		var err error
		if s.Blobs, err = blob.NewLocal(t.TempDir()); err != nil {
			t.Fatal(err)
		}
		author := &storage.Actor{URI: "https://m.example/users/a", Type: storage.TypePerson, Username: "a", Domain: "m.example"}
		if err := db.CreateActor(ctx, author); err != nil {
			t.Fatal(err)
		}
		o := &storage.Object{URI: "https://m.example/s/1", Type: "Note", AuthorActorID: author.ID, Visibility: storage.VisibilityPublic, ContextURI: "https://m.example/s/1"}
		if err := db.CreateObject(ctx, o); err != nil {
			t.Fatal(err)
		}
		obj := &vocab.Object{Attachment: vocab.Attachments{{Type: "Document", MediaType: "image/jpeg", URL: vocab.IRI(srv.URL + "/a.jpg")}}}
		if err := s.storeRemoteMedia(ctx, db, o, obj); err != nil {
			t.Fatal(err)
		}
		rows, err := db.MediaOfObjects(ctx, []int64{o.ID})
		if err != nil || len(rows[o.ID]) != 1 {
			t.Fatalf("rows %v %v", rows, err)
		}
		m := &rows[o.ID][0]
		for range 2 {
			if _, err := s.EnsureMedia(ctx, m); !errors.Is(err, ErrMediaUnavailable) {
				t.Fatalf("EnsureMedia: %v", err)
			}
			if m, err = db.GetMedia(ctx, m.ID); err != nil {
				t.Fatal(err)
			}
		}
		if hits.Load() != 0 || m.Refused != "refused: not a public address" || m.FetchedAt != nil {
			t.Errorf("hits %d, refused %q", hits.Load(), m.Refused)
		}
		if _, err := s.Blobs.Get(ctx, m.FileKey); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("file stored: %v", err)
		}
	})
}

// sharedSamples finds ../shared/ap-samples beside the repository or a
// folder above it (worktrees sit deeper), or skips.
func sharedSamples(t *testing.T) string {
	if d := os.Getenv("COMMONPLACE_SHARED"); d != "" {
		return filepath.Join(d, "ap-samples")
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "shared", "ap-samples")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("no shared/ap-samples above the package")
	return ""
}

// Own files may be served from the store's public address; remote ones
// always come through /media, which fetches them.
func TestFileURL(t *testing.T) {
	s := &Service{URLs: URLs{Base: "https://cp.example"}}
	if got := s.FileURL("ab12/original.jpg"); got != "https://cp.example/media/ab12/original.jpg" {
		t.Errorf("served here: %s", got)
	}
	s.MediaPublicBase = "https://media.cp.example/bucket/"
	if got := s.FileURL("ab12/original.jpg"); got != "https://media.cp.example/bucket/ab12/original.jpg" {
		t.Errorf("public: %s", got)
	}
	if got := s.MediaURL("ab12/original.jpg"); got != "https://cp.example/media/ab12/original.jpg" {
		t.Errorf("remote files: %s", got)
	}
	m := &storage.MediaAttachment{Kind: storage.MediaImage, ContentType: "image/jpeg", FileKey: "ab12/original.jpg"}
	if a := s.attachmentDoc(m); string(a.URL) != "https://media.cp.example/bucket/ab12/original.jpg" {
		t.Errorf("attachment url: %s", a.URL)
	}
}

// A domain rule that rejects media keeps the author's files from being
// fetched; the post and its attachment rows stay, and lifting the rule
// lets the file come.
func TestRemoteMediaRejected(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		var hits atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.Write(mediatest.JPEGWithGPS(20, 20, 1))
		}))
		defer srv.Close()
		s := NewService(db, "http://cp.example", nil)
		s.Client = transport.New(transport.Options{AllowPrivate: true})
		var err error
		if s.Blobs, err = blob.NewLocal(t.TempDir()); err != nil {
			t.Fatal(err)
		}
		author := &storage.Actor{URI: "https://m.example/users/a", Type: storage.TypePerson, Username: "a", Domain: "m.example"}
		if err := db.CreateActor(ctx, author); err != nil {
			t.Fatal(err)
		}
		o := &storage.Object{URI: "https://m.example/s/1", Type: "Note", AuthorActorID: author.ID, Visibility: storage.VisibilityPublic, ContextURI: "https://m.example/s/1"}
		if err := db.CreateObject(ctx, o); err != nil {
			t.Fatal(err)
		}
		if err := s.storeRemoteMedia(ctx, db, o, &vocab.Object{Attachment: vocab.Attachments{{Type: "Image", URL: vocab.IRI(srv.URL + "/a.jpg")}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Policy.Block(ctx, "admin", policy.BlockInput{Domain: "m.example", Severity: "limit", RejectMedia: true}); err != nil {
			t.Fatal(err)
		}
		rows, _ := db.MediaOfObjects(ctx, []int64{o.ID})
		m := &rows[o.ID][0]
		if _, err := s.EnsureMedia(ctx, m); !errors.Is(err, ErrMediaUnavailable) || hits.Load() != 0 {
			t.Fatalf("rejected media fetched: %v, %d requests", err, hits.Load())
		}
		if _, err := s.Policy.Remove(ctx, "admin", storage.RuleBlock, "m.example"); err != nil {
			t.Fatal(err)
		}
		got, err := s.EnsureMedia(ctx, m)
		if err != nil || got.FetchedAt == nil || hits.Load() != 1 {
			t.Fatalf("after lifting the rule: %v, %d requests", err, hits.Load())
		}
	})
}
