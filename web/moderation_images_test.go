package web_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/blob"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// TestCommunityImages: a moderator gives the community an icon from the
// queue page, and the Group names it; a member who does not moderate is
// refused; an SVG is refused with a reason on the page; the icon is
// removed again.
func TestCommunityImages(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		s := newModSite(t, db)
		var err error
		if s.svc.Blobs, err = blob.NewLocal(t.TempDir()); err != nil {
			t.Fatal(err)
		}
		alice, bob := s.signedIn(t, "alice"), s.signedIn(t, "bob")
		icon := pngImage(t, 600, 300)

		bob.uploadAs("/c/practice", "/c/practice/moderation/images", "icon", "icon.png", icon, nil).must(t, 404)
		if g := s.groupIcon(t); g != "" {
			t.Fatalf("a member who does not moderate set the icon: %q", g)
		}

		alice.uploadAs("/c/practice/moderation", "/c/practice/moderation/images", "icon", "icon.png", icon, nil).must(t, 303)
		group, err := db.GetLocalActor(t.Context(), "practice")
		if err != nil || group.AvatarKey == "" {
			t.Fatalf("community after the upload: %+v %v", group, err)
		}
		want := s.svc.FileURL(group.AvatarKey)
		if g := s.groupIcon(t); g != want {
			t.Fatalf("Group icon %q, want %q", g, want)
		}
		alice.get("/c/practice/moderation").must(t, 200, `src="`+want+`"`, `name="remove_icon"`)
		s.browser().get("/c/practice").must(t, 200, `<img src="`+want+`"`)
		if m, err := db.GetMediaByKey(t.Context(), group.AvatarKey); err != nil || m.ContentType != "image/png" || m.Purpose != storage.MediaAvatar {
			t.Fatalf("icon file: %+v %v", m, err)
		}

		svg := `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>`
		alice.uploadAs("/c/practice/moderation", "/c/practice/moderation/images", "header", "header.svg", svg, nil).
			must(t, 422, "JPEG, PNG, WebP or GIF")
		if g, _ := db.GetLocalActor(t.Context(), "practice"); g.HeaderKey != "" || g.AvatarKey != group.AvatarKey {
			t.Fatalf("the SVG changed the images: %+v", g)
		}

		// A header larger than server's default body limit (1 MiB) is
		// within the media limits, so the form takes it.
		header := noisePNG(t, 800, 500)
		if len(header) <= 1<<20 {
			t.Fatalf("header of %d bytes is not over the default body limit", len(header))
		}
		alice.uploadAs("/c/practice/moderation", "/c/practice/moderation/images", "header", "header.png", header, nil).must(t, 303)
		if g, _ := db.GetLocalActor(t.Context(), "practice"); g.HeaderKey == "" {
			t.Fatal("the large header was not stored")
		}

		alice.submit("/c/practice/moderation", "/c/practice/moderation/images", url.Values{}).must(t, 422, "Choose an image, or tick remove.")
		alice.submit("/c/practice/moderation", "/c/practice/moderation/images", url.Values{"remove_icon": {"1"}}).must(t, 303)
		if g := s.groupIcon(t); g != "" {
			t.Fatalf("Group icon after removal: %q", g)
		}
	})
}

// groupIcon is the url of the icon in the community's Group document.
func (s *site) groupIcon(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+"/c/practice", nil)
	req.Header.Set("Accept", "application/activity+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		Icon *struct {
			URL string `json:"url"`
		} `json:"icon"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Icon == nil {
		return ""
	}
	return doc.Icon.URL
}

func pngImage(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// noisePNG is a PNG that does not compress: about 4 bytes a pixel.
func noisePNG(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// uploadAs posts a multipart form with a file in field, with the CSRF
// token of the page at from.
func (b *browser) uploadAs(from, action, field, filename, content string, fields url.Values) page {
	b.t.Helper()
	m := csrfRe.FindStringSubmatch(b.get(from).body)
	if m == nil {
		b.t.Fatalf("%s has no form with a CSRF token", from)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("authenticity_token", m[1])
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, err := mw.CreateFormFile(field, filename)
	if err != nil {
		b.t.Fatal(err)
	}
	fw.Write([]byte(content))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.s.url+action, strings.NewReader(body.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", acceptHTML)
	return b.do(req)
}
