package web_test

import (
	"bytes"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/media/mediatest"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/blob"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// A post's attachments show on its thread page and in listings (the
// community's page, a tag's page): an image as its preview with its
// size and alt text, linking to the file, which is served; a document
// as a download link. A remote post's cached image goes through /media.
func TestPagesShowAttachments(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		f := seeded(t, db)
		ctx := t.Context()
		var err error
		if f.svc.Blobs, err = blob.NewLocal(t.TempDir()); err != nil {
			t.Fatal(err)
		}
		alice, err := db.GetLocalActor(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		photo := mediatest.PNG(mediatest.Photo(1200, 900))
		img, err := f.svc.UploadMedia(ctx, alice, federation.Upload{Name: "kit.png", File: bytes.NewReader(photo), Size: int64(len(photo)),
			Description: `A phonics kit <on> a "table"`})
		if err != nil {
			t.Fatal(err)
		}
		doc, err := f.svc.UploadMedia(ctx, alice, federation.Upload{Name: "plan.pdf", File: bytes.NewReader(mediatest.PDF), Size: int64(len(mediatest.PDF))})
		if err != nil {
			t.Fatal(err)
		}
		o, err := f.svc.Post(ctx, alice, federation.NewPost{Community: "practice", Title: "Kits", Text: "Our kit #phonics", Media: []int64{img.ID, doc.ID}})
		if err != nil {
			t.Fatal(err)
		}
		// A reply's attachment shows in the thread too.
		replyDoc, err := f.svc.UploadMedia(ctx, alice, federation.Upload{Name: "notes.pdf", File: bytes.NewReader(mediatest.PDF), Size: int64(len(mediatest.PDF))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Post(ctx, alice, federation.NewPost{InReplyTo: o.URI, Text: "And the notes", Media: []int64{replyDoc.ID}}); err != nil {
			t.Fatal(err)
		}
		replyDoc, _ = db.GetMedia(ctx, replyDoc.ID)
		img, _ = db.GetMedia(ctx, img.ID)
		doc, _ = db.GetMedia(ctx, doc.ID)
		if img.ThumbKey == "" || img.ThumbWidth == 0 {
			t.Fatalf("upload has no preview: %+v", img)
		}
		base := f.svc.URLs.Base
		wantImg := fmt.Sprintf(`<a href="%s/media/%s"><img src="%s/media/%s" width="%d" height="%d" alt="%s"`,
			base, img.FileKey, base, img.ThumbKey, img.ThumbWidth, img.ThumbHeight, html.EscapeString(img.Description))
		wantDoc := fmt.Sprintf(`<a href="%s/media/%s" download>`, base, doc.FileKey)

		// A remote post whose image is cached here (or will be, on first view).
		group, _ := db.GetLocalActor(ctx, "practice")
		remote := &storage.Object{URI: "https://remote.example/notes/7", Type: "Note", AuthorActorID: alice.ID,
			CommunityActorID: &group.ID, Content: "<p>from afar</p>", PublishedAt: time.Now().Add(-time.Hour)}
		if err := db.CreateObject(ctx, remote); err != nil {
			t.Fatal(err)
		}
		rm := &storage.MediaAttachment{AccountActorID: alice.ID, ObjectID: &remote.ID, Kind: storage.MediaImage, ContentType: "image/jpeg",
			FileKey: "r1/full.jpg", ThumbKey: "r1/small.jpg", Width: 800, Height: 600, ThumbWidth: 480, ThumbHeight: 360,
			Description: "remote alt", RemoteURL: "https://remote.example/files/a.jpg"}
		if err := db.CreateMedia(ctx, rm); err != nil {
			t.Fatal(err)
		}
		wantRemote := fmt.Sprintf(`<img src="%s/media/r1/small.jpg" width="480" height="360" alt="remote alt"`, base)

		thread := f.get(strings.TrimPrefix(o.URI, base), acceptHTML)
		mustStatus(t, thread, http.StatusOK)
		community := f.get("/c/practice", acceptHTML)
		mustStatus(t, community, http.StatusOK)
		tag := f.get("/tags/phonics", acceptHTML)
		mustStatus(t, tag, http.StatusOK)
		for name, res := range map[string]response{"thread": thread, "community": community, "tag": tag} {
			body := string(res.body)
			for _, want := range []string{wantImg, wantDoc, ">" + doc.FileKey[strings.LastIndex(doc.FileKey, "/")+1:] + "</a>", "(application/pdf, "} {
				if !strings.Contains(body, want) {
					t.Errorf("%s page lacks %q", name, want)
				}
			}
			if name == "community" && !strings.Contains(body, wantRemote) {
				t.Errorf("community page lacks the remote image %q", wantRemote)
			}
			if t.Failed() {
				t.Logf("%s page:\n%s", name, body)
			}
		}
		if want := fmt.Sprintf(`<a href="%s/media/%s" download>`, base, replyDoc.FileKey); !strings.Contains(string(thread.body), want) {
			t.Errorf("thread page lacks the reply's attachment %q", want)
		}
		if n := len(regexp.MustCompile(`<img `).FindAllString(string(thread.body), -1)); n != 1 {
			t.Errorf("thread page has %d images, want 1", n)
		}

	})
}
