package fedtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rwcarlsen/goexif/exif"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/media/mediatest"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/blob"
	"github.com/commonplace/commonplace/storage/blob/blobtest"
)

// fileHost is a remote server's file store (Mastodon's files.example):
// it serves fixtures by path and counts the requests for each.
type fileHost struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newFileHost(t *testing.T) *fileHost {
	h := &fileHost{hits: map[string]int{}}
	photo := mediatest.JPEGWithGPS(320, 240, 1)
	files := map[string][]byte{
		"/photo.jpg":    photo,
		"/protocol.pdf": mediatest.PDF,
		"/bomb.png":     mediatest.PNGBomb(100_000, 100_000),
		"/logo.svg":     mediatest.SVG,
		"/cat.png":      mediatest.HTML,
	}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.hits[r.URL.Path]++
		h.mu.Unlock()
		if r.URL.Path == "/huge.jpg" {
			// A "2 GB image": the header says so, and the body would go on.
			w.Header().Set("Content-Type", "image/jpeg")
			w.Header().Set("Content-Length", "2147483648")
			w.WriteHeader(200)
			w.Write(photo[:1000])
			return
		}
		if r.URL.Path == "/endless.jpg" {
			// No length: bytes until the reader stops.
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(photo[:2])
			chunk := make([]byte, 64<<10)
			for i := 0; i < 1000; i++ { // bounded: 64 MB at most
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			return
		}
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png") // servers lie; the bytes decide
		w.Write(b)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *fileHost) url(p string) string { return h.srv.URL + p }

func (h *fileHost) count(p string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[p]
}

func readAPI(t *testing.T, u string, out any) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d %s", u, res.StatusCode, b)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func fetchFile(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

type apiMedia struct {
	ID          string  `json:"id"`
	Type        string  `json:"type"`
	URL         string  `json:"url"`
	PreviewURL  *string `json:"preview_url"`
	RemoteURL   *string `json:"remote_url"`
	Description *string `json:"description"`
	Blurhash    *string `json:"blurhash"`
	Meta        struct {
		Original struct{ Width, Height int } `json:"original"`
		Focus    struct{ X, Y float64 }      `json:"focus"`
	} `json:"meta"`
}

// A Mastodon member's post with a photo and a PDF arrives in a community:
// both are listed at once, fetched from the remote file host when first
// viewed (the photo re-encoded without its EXIF, the PDF as it came),
// then served from here without another fetch; after the cache is pruned
// they are fetched again. A post whose attachments are a 2 GB "image",
// an endless one, a decompression bomb, an SVG, or HTML named .png
// arrives too; each of those files is refused and nothing is stored.
func TestRemoteMediaFromMastodon(t *testing.T) {
	for _, c := range []struct {
		name string
		d    storage.Dialect
		s3   bool
	}{{"sqlite", storage.SQLite, false}, {"postgres", storage.Postgres, false}, {"postgres+s3", storage.Postgres, true}} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			a := fedtest.StartWith(t, c.d, func(cfg *config.Config) {
				if c.s3 {
					useS3(t, cfg)
				}
			})
			a.Member("olga")
			group := a.Community("practice", false, "olga").Actor
			m := fedtest.NewMastodon(t)
			if _, code := m.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
				t.Fatalf("Follow answered %d", code)
			}
			fedtest.Eventually(t, "alice is a member", accepted(a, group.URI, m.ActorURI()))
			files := newFileHost(t)

			noteID, code := m.PostToGroupWith(group.URI, a.Handle("practice"), group.InboxURI, "Our ward's handover board and protocol", []any{
				map[string]any{"type": "Document", "mediaType": "image/jpeg", "url": files.url("/photo.jpg"), "name": "The handover board",
					"blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH", "focalPoint": []float64{0.25, -0.5}, "width": 320, "height": 240},
				map[string]any{"type": "Document", "mediaType": "application/pdf", "url": files.url("/protocol.pdf"), "name": "Protocol"},
			})
			if code != http.StatusAccepted {
				t.Fatalf("Create answered %d", code)
			}
			var post *storage.Object
			fedtest.Eventually(t, "the post with attachments arrives", func() (bool, error) {
				var err error
				post, err = object(a, noteID)
				return err == nil, nil
			})
			var st struct {
				Media []apiMedia `json:"media_attachments"`
			}
			readAPI(t, a.URL+"/api/v1/statuses/"+itoa(post.ID), &st)
			if len(st.Media) != 2 {
				t.Fatalf("attachments: %+v", st.Media)
			}
			img, pdf := st.Media[0], st.Media[1]
			if img.Type != "image" || img.RemoteURL == nil || *img.RemoteURL != files.url("/photo.jpg") || img.Description == nil || *img.Description != "The handover board" ||
				img.Meta.Focus.X != 0.25 || img.Meta.Focus.Y != -0.5 || !strings.HasPrefix(img.URL, a.URL+"/media/") || img.PreviewURL == nil {
				t.Errorf("image attachment: %+v", img)
			}
			if pdf.Type != "unknown" || !strings.HasPrefix(pdf.URL, a.URL+"/media/") {
				t.Errorf("pdf attachment: %+v", pdf)
			}
			if files.count("/photo.jpg") != 0 {
				t.Error("the photo was fetched before anyone looked at it")
			}

			res, body := fetchFile(t, img.URL)
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
				t.Fatalf("cached photo: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
			}
			if _, err := exif.Decode(bytes.NewReader(body)); err == nil {
				t.Error("the cached photo has EXIF")
			}
			if res, _ := fetchFile(t, *img.PreviewURL); res.StatusCode != 200 {
				t.Errorf("preview: %d", res.StatusCode)
			}
			res, body = fetchFile(t, pdf.URL)
			if res.StatusCode != 200 || !bytes.Equal(body, mediatest.PDF) || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
				t.Errorf("cached pdf: %d %v", res.StatusCode, res.Header)
			}
			fetchFile(t, img.URL)
			if n := files.count("/photo.jpg"); n != 1 {
				t.Errorf("photo fetched %d times, want once", n)
			}
			readAPI(t, a.URL+"/api/v1/statuses/"+itoa(post.ID), &st)
			if st.Media[0].Meta.Original.Width != 320 || st.Media[0].Blurhash == nil {
				t.Errorf("after fetch: %+v", st.Media[0])
			}

			// The cache is pruned; the next view fetches again.
			if n, err := a.Service.PruneRemoteMedia(ctx, time.Now().Add(time.Minute), 100); err != nil || n != 2 {
				t.Fatalf("pruned %d: %v", n, err)
			}
			if res, _ := fetchFile(t, img.URL); res.StatusCode != 200 || files.count("/photo.jpg") != 2 {
				t.Errorf("after prune: %d, fetched %d times", res.StatusCode, files.count("/photo.jpg"))
			}

			// Hostile attachments: the post arrives, the files do not.
			var bad []any
			for _, p := range []string{"/huge.jpg", "/bomb.png", "/logo.svg", "/cat.png"} {
				bad = append(bad, map[string]any{"type": "Document", "mediaType": "image/png", "url": files.url(p)})
			}
			badID, code := m.PostToGroupWith(group.URI, a.Handle("practice"), group.InboxURI, "Look at these", bad)
			if code != http.StatusAccepted {
				t.Fatalf("Create answered %d", code)
			}
			endlessID, code := m.PostToGroupWith(group.URI, a.Handle("practice"), group.InboxURI, "And this", []any{
				map[string]any{"type": "Image", "url": files.url("/endless.jpg")}})
			if code != http.StatusAccepted {
				t.Fatalf("Create answered %d", code)
			}
			for _, id := range []string{badID, endlessID} {
				fedtest.Eventually(t, "the post with refused attachments arrives", func() (bool, error) {
					o, err := object(a, id)
					if err == nil {
						post = o
					}
					return err == nil, nil
				})
				readAPI(t, a.URL+"/api/v1/statuses/"+itoa(post.ID), &st)
				for _, att := range st.Media {
					if res, _ := fetchFile(t, att.URL); res.StatusCode != 404 {
						t.Errorf("%s: %d", *att.RemoteURL, res.StatusCode)
					}
				}
				rows, err := a.DB.MediaOfObjects(ctx, []int64{post.ID})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows[post.ID] {
					if !strings.HasPrefix(r.Refused, "refused:") || r.FetchedAt != nil || r.FileSize != 0 {
						t.Errorf("%s: refused %q, fetched %v, size %d", r.RemoteURL, r.Refused, r.FetchedAt, r.FileSize)
					}
					for _, k := range []string{r.FileKey, r.ThumbKey} {
						if k == "" {
							continue
						}
						if _, err := a.Service.Blobs.Get(ctx, k); !errors.Is(err, blob.ErrNotFound) {
							t.Errorf("%s: %s stored (%v)", r.RemoteURL, k, err)
						}
					}
				}
				readAPI(t, a.URL+"/api/v1/statuses/"+itoa(post.ID), &st)
				for _, att := range st.Media {
					if att.Type != "unknown" {
						t.Errorf("refused %s shown as %s", *att.RemoteURL, att.Type)
					}
				}
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A member's post with a photo reaches a Mastodon member of the community
// as a boost whose status carries the attachment as Mastodon reads one,
// and the file it names is served, without EXIF.
func TestMediaToMastodon(t *testing.T) {
	ctx := context.Background()
	a := fedtest.Start(t, storage.SQLite)
	olga := a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	m := fedtest.NewMastodon(t)
	if _, code := m.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
		t.Fatalf("Follow answered %d", code)
	}
	fedtest.Eventually(t, "alice is a member", accepted(a, group.URI, m.ActorURI()))
	photo := mediatest.JPEGWithGPS(300, 200, 1)
	up, err := a.Service.UploadMedia(ctx, olga, federation.Upload{Name: "board.jpg", File: bytes.NewReader(photo), Size: int64(len(photo)),
		Description: "The handover board", Focus: "0.1,0.2"})
	if err != nil {
		t.Fatal(err)
	}
	post, err := a.Service.Post(ctx, olga, federation.NewPost{Community: group.URI, Text: "Our board", Media: []int64{up.ID}})
	if err != nil {
		t.Fatal(err)
	}
	boost := m.WaitFor("boost of olga's post", isAnnounceOf(post.URI))
	if boost.BoostErr != nil {
		t.Fatalf("Mastodon could not render the boost: %v", boost.BoostErr)
	}
	atts, _ := boost.Boost["attachment"].([]any)
	if len(atts) != 1 {
		t.Fatalf("attachments of the boosted status: %v", boost.Boost["attachment"])
	}
	att, _ := atts[0].(map[string]any)
	// What Mastodon's MediaAttachmentParser reads.
	if att["type"] != "Document" || att["mediaType"] != "image/jpeg" || att["name"] != "The handover board" ||
		att["width"] != 300.0 || att["height"] != 200.0 || att["blurhash"] != up.Blurhash {
		t.Errorf("attachment: %v", att)
	}
	if fp, _ := att["focalPoint"].([]any); len(fp) != 2 || fp[0] != 0.1 || fp[1] != 0.2 {
		t.Errorf("focalPoint: %v", att["focalPoint"])
	}
	u, _ := att["url"].(string)
	res, body := fetchFile(t, u)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("Mastodon fetches %s: %d", u, res.StatusCode)
	}
	if _, err := exif.Decode(bytes.NewReader(body)); err == nil {
		t.Error("the file Mastodon fetches has EXIF")
	}

	// The community's new icon reaches its members' servers in an Update.
	logo := mediatest.PNG(mediatest.Photo(300, 300))
	g, err := a.Service.SetActorImage(ctx, group, storage.MediaAvatar, &federation.Upload{Name: "logo.png", File: bytes.NewReader(logo), Size: int64(len(logo))})
	if err != nil {
		t.Fatal(err)
	}
	m.WaitFor("the Update of the Group with its icon", func(r fedtest.Received) bool {
		obj, _ := r.Doc["object"].(map[string]any)
		icon, _ := obj["icon"].(map[string]any)
		return r.Type == "Update" && obj["type"] == "Group" && icon["url"] == a.Service.FileURL(g.AvatarKey)
	})
}

// A Mastodon member's avatar is recorded when their actor is fetched,
// fetched from their server when first shown, re-encoded to avatar size,
// and replaced when they change it.
func TestRemoteAvatar(t *testing.T) {
	ctx := context.Background()
	a := fedtest.Start(t, storage.SQLite)
	a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	files := newFileHost(t)
	m := fedtest.NewMastodon(t)
	m.SetIcon(files.url("/photo.jpg"))
	if _, code := m.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
		t.Fatalf("Follow answered %d", code)
	}
	fedtest.Eventually(t, "alice is a member", accepted(a, group.URI, m.ActorURI()))
	alice, err := a.DB.GetActorByURI(ctx, m.ActorURI())
	if err != nil {
		t.Fatal(err)
	}
	var acc struct{ Avatar, Header string }
	readAPI(t, a.URL+"/api/v1/accounts/"+itoa(alice.ID), &acc)
	if !strings.HasPrefix(acc.Avatar, a.URL+"/media/") || !strings.HasSuffix(acc.Header, "/missing.png") {
		t.Fatalf("account images: %+v", acc)
	}
	if files.count("/photo.jpg") != 0 {
		t.Error("the avatar was fetched before it was shown")
	}
	res, body := fetchFile(t, acc.Avatar)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" || files.count("/photo.jpg") != 1 {
		t.Fatalf("avatar: %d, fetched %d times", res.StatusCode, files.count("/photo.jpg"))
	}
	if _, err := exif.Decode(bytes.NewReader(body)); err == nil {
		t.Error("the cached avatar has EXIF")
	}

	// Unchanged on refetch; replaced when it changes.
	if _, err := a.Service.FetchActor(ctx, m.ActorURI()); err != nil {
		t.Fatal(err)
	}
	var again struct{ Avatar string }
	readAPI(t, a.URL+"/api/v1/accounts/"+itoa(alice.ID), &again)
	if again.Avatar != acc.Avatar {
		t.Errorf("avatar changed on refetch: %s", again.Avatar)
	}
	m.SetIcon(files.url("/bomb.png"))
	if _, err := a.Service.FetchActor(ctx, m.ActorURI()); err != nil {
		t.Fatal(err)
	}
	readAPI(t, a.URL+"/api/v1/accounts/"+itoa(alice.ID), &again)
	if again.Avatar == acc.Avatar {
		t.Fatal("avatar not replaced")
	}
	if res, _ := fetchFile(t, acc.Avatar); res.StatusCode != 404 {
		t.Errorf("old avatar still served: %d", res.StatusCode)
	}
	if res, _ := fetchFile(t, again.Avatar); res.StatusCode != 404 {
		t.Errorf("a bomb as avatar: %d", res.StatusCode)
	}
}

// Two replicas sharing a database and an S3-compatible store (a real
// S3-protocol server on loopback): a remote photo viewed through one is
// fetched once and served by the other from the shared store.
func TestRemoteMediaSharedStore(t *testing.T) {
	a := fedtest.StartWith(t, storage.Postgres, func(c *config.Config) { useS3(t, c) })
	r := a.Replica()
	a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	m := fedtest.NewMastodon(t)
	if _, code := m.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
		t.Fatalf("Follow answered %d", code)
	}
	fedtest.Eventually(t, "alice is a member", accepted(a, group.URI, m.ActorURI()))
	files := newFileHost(t)
	noteID, code := m.PostToGroupWith(group.URI, a.Handle("practice"), group.InboxURI, "Our board", []any{
		map[string]any{"type": "Document", "mediaType": "image/jpeg", "url": files.url("/photo.jpg"), "name": "The board"}})
	if code != http.StatusAccepted {
		t.Fatalf("Create answered %d", code)
	}
	var post *storage.Object
	fedtest.Eventually(t, "the post arrives", func() (bool, error) {
		var err error
		post, err = object(a, noteID)
		return err == nil, nil
	})
	var st struct {
		Media []apiMedia `json:"media_attachments"`
	}
	readAPI(t, r.URL+"/api/v1/statuses/"+itoa(post.ID), &st)
	if len(st.Media) != 1 {
		t.Fatalf("attachments: %+v", st.Media)
	}
	onReplica := strings.Replace(st.Media[0].URL, a.URL, r.URL, 1)
	res, fromReplica := fetchFile(t, onReplica)
	if res.StatusCode != 200 {
		t.Fatalf("through the replica: %d", res.StatusCode)
	}
	res, fromFirst := fetchFile(t, st.Media[0].URL)
	if res.StatusCode != 200 || !bytes.Equal(fromFirst, fromReplica) {
		t.Fatalf("through the first process: %d", res.StatusCode)
	}
	if n := files.count("/photo.jpg"); n != 1 {
		t.Errorf("fetched %d times, want once", n)
	}
}

// useS3 points c's media store at a fresh S3-protocol server on loopback.
func useS3(t *testing.T, c *config.Config) {
	s3 := blobtest.StartS3(t)
	c.MediaS3Endpoint, c.MediaS3Bucket, c.MediaS3Region = s3.Endpoint, s3.Bucket, s3.Region
	c.MediaS3AccessKey, c.MediaS3SecretKey, c.MediaS3TLS = s3.AccessKey, s3.SecretKey, false
}
