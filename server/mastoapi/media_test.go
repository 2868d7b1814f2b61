package mastoapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rwcarlsen/goexif/exif"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/media/mediatest"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/blob/blobtest"
)

// upload posts a file as the apps do: multipart, with form fields.
func (c *client) upload(path, name string, data []byte, fields ...string) response {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for i := 0; i+1 < len(fields); i += 2 {
		w.WriteField(fields[i], fields[i+1])
	}
	fw, err := w.CreateFormFile("file", name)
	if err != nil {
		c.t.Fatal(err)
	}
	fw.Write(data)
	w.Close()
	req, err := http.NewRequest("POST", c.base+path, &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res, b}
}

// fetch GETs an absolute URL with headers (name, value, ...).
func fetch(t *testing.T, u string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func init() {
	entities["MediaAttachment"] = map[string]spec{
		"id": req("string"), "type": req("string"), "url": null("string"), "preview_url": null("string"),
		"remote_url": null("string"), "preview_remote_url": opt("string"), "text_url": opt("string"),
		"meta": req("object"), "description": null("string"), "blurhash": null("string"),
	}
}

// A member uploads a photo carrying GPS EXIF with alt text and a focus,
// attaches it to a post, and the post shows it as Mastodon shapes it:
// dimensions, blurhash, alt text. The file served has no EXIF, is cached
// for long and serves ranges; the post's ActivityPub document carries
// the attachment as Mastodon sends one. A PDF is a download. Others'
// uploads, attached uploads and more than four are refused.
func TestMediaUploadAndAttach(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			n := fedtest.Start(t, d)
			mediaScenario(t, n, n)
		})
	}
	// The same with the S3-compatible store (a real S3-protocol server on
	// loopback, spoken to by the client library over HTTP), shared by two
	// replicas: files uploaded through one are attached, served, edited
	// and pruned through the other.
	t.Run("postgres+s3+replica", func(t *testing.T) {
		s3 := blobtest.StartS3(t)
		unused := filepath.Join(t.TempDir(), "unused")
		n := fedtest.StartWith(t, storage.Postgres, func(c *config.Config) {
			c.MediaS3Endpoint, c.MediaS3Bucket, c.MediaS3Region = s3.Endpoint, s3.Bucket, s3.Region
			c.MediaS3AccessKey, c.MediaS3SecretKey, c.MediaS3TLS = s3.AccessKey, s3.SecretKey, false
			c.MediaDir = unused
		})
		mediaScenario(t, n, n.Replica())
		if _, err := os.Stat(unused); !os.IsNotExist(err) {
			t.Errorf("files landed on disk: %v", err)
		}
	})
}

// mediaScenario runs the uploads test: uploads go to n, posts, edits,
// file reads and the pruning to other (n itself, or a replica of it).
func mediaScenario(t *testing.T, n, other *fedtest.Node) {
	member(t, n, "ana")
	member(t, n, "bo")
	n.Community("practice", false, "ana")
	anaTok := tokenFor(t, n, "ana", "read write")
	ana, anaO := newClient(t, n, anaTok), newClient(t, other, anaTok)
	bo := newClient(t, other, tokenFor(t, n, "bo", "read write"))
	// Addresses name n's host; the same paths are read from other.
	via := func(u string) string { return strings.Replace(u, n.URL, other.URL, 1) }

	photo := mediatest.JPEGWithGPS(300, 200, 6)
	m := expect(t, ana.upload("/api/v2/media", "IMG_0001.JPG", photo, "description", "The classroom, tables in a U", "focus", "0.5,-0.25"), 200, "MediaAttachment").(map[string]any)
	if m["type"] != "image" || m["description"] != "The classroom, tables in a U" || len(str(m["blurhash"])) < 6 {
		t.Fatalf("attachment: %v", m)
	}
	if w, h := field(m, "meta", "original", "width"), field(m, "meta", "original", "height"); w != 200.0 || h != 300.0 {
		t.Errorf("original %vx%v, want 200x300 (turned upright)", w, h)
	}
	if x, y := field(m, "meta", "focus", "x"), field(m, "meta", "focus", "y"); x != 0.5 || y != -0.25 {
		t.Errorf("focus %v,%v", x, y)
	}
	mid := str(m["id"])

	res, body := fetch(t, via(str(m["url"])))
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("file: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if _, err := exif.Decode(bytes.NewReader(body)); err == nil || bytes.Contains(body, []byte("Exif\x00")) {
		t.Error("the served file has EXIF")
	}
	if _, err := jpeg.Decode(bytes.NewReader(body)); err != nil {
		t.Errorf("served file: %v", err)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers: %v", res.Header)
	}
	if res, part := fetch(t, via(str(m["url"])), "Range", "bytes=0-9"); res.StatusCode != http.StatusPartialContent || len(part) != 10 || !bytes.Equal(part, body[:10]) {
		t.Errorf("range: %d %d bytes", res.StatusCode, len(part))
	}
	if res, _ := fetch(t, via(str(m["preview_url"]))); res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("preview: %d", res.StatusCode)
	}

	// Alt text changed before posting; bo can neither see nor use it.
	upd := anaO.ok("PUT", "/api/v1/media/"+mid, url.Values{"description": {"Tables in a U, chairs inside"}}).object(t)
	if upd["description"] != "Tables in a U, chairs inside" || field(upd, "meta", "focus", "x") != 0.5 {
		t.Errorf("updated: %v", upd)
	}
	if r := bo.do("GET", "/api/v1/media/"+mid, nil); r.StatusCode != 404 {
		t.Errorf("bo reads ana's upload: %d", r.StatusCode)
	}
	if r := bo.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice mine now"}, "media_ids[]": {mid}}); r.StatusCode != 422 {
		t.Errorf("bo attaches ana's upload: %d %s", r.StatusCode, r.body)
	}
	if r := ana.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice five"}, "media_ids[]": {mid, mid, mid, mid, mid}}); r.StatusCode != 422 {
		t.Errorf("five attachments: %d", r.StatusCode)
	}

	// Larger than the 1 MiB that bounds other request bodies.
	pdfData := append(append([]byte{}, mediatest.PDF...), bytes.Repeat([]byte("% padding\n"), 150_000)...)
	pdf := expect(t, ana.upload("/api/v1/media", "protocol.pdf", pdfData), 200, "MediaAttachment").(map[string]any)
	if pdf["type"] != "unknown" || pdf["preview_url"] != nil {
		t.Errorf("pdf: %v", pdf)
	}
	res, body = fetch(t, via(str(pdf["url"])))
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") ||
		res.Header.Get("X-Content-Type-Options") != "nosniff" || !bytes.Equal(body, pdfData) {
		t.Errorf("pdf served: %d %v", res.StatusCode, res.Header)
	}

	st := expect(t, anaO.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice our room this year"}, "media_ids[]": {mid, str(pdf["id"])}}), 200, "Status").(map[string]any)
	atts, _ := st["media_attachments"].([]any)
	if len(atts) != 2 || str(field(atts[0], "id")) != mid || field(atts[0], "description") != "Tables in a U, chairs inside" ||
		field(atts[0], "blurhash") != m["blurhash"] || field(atts[0], "meta", "original", "width") != 200.0 || field(atts[1], "type") != "unknown" {
		t.Fatalf("status attachments: %v", st["media_attachments"])
	}
	for _, a := range atts {
		conform(a, "MediaAttachment", "status attachment")
	}
	got := anaO.ok("GET", "/api/v1/statuses/"+str(st["id"]), nil).object(t)
	if l, _ := got["media_attachments"].([]any); len(l) != 2 {
		t.Errorf("status read back: %v", got["media_attachments"])
	}
	if r := ana.do("GET", "/api/v1/media/"+mid, nil); r.StatusCode != 404 {
		t.Errorf("an attached upload is still editable: %d", r.StatusCode)
	}
	if r := ana.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice again"}, "media_ids[]": {mid}}); r.StatusCode != 422 {
		t.Errorf("attached twice: %d", r.StatusCode)
	}

	// The post as other servers read it.
	_, doc := fetch(t, via(str(st["uri"])), "Accept", "application/activity+json")
	var note struct {
		Attachment []map[string]any `json:"attachment"`
	}
	if err := json.Unmarshal(doc, &note); err != nil || len(note.Attachment) != 2 {
		t.Fatalf("note attachments: %v %s", err, doc)
	}
	a0 := note.Attachment[0]
	if a0["type"] != "Document" || a0["mediaType"] != "image/jpeg" || a0["url"] != m["url"] || a0["name"] != "Tables in a U, chairs inside" ||
		a0["width"] != 200.0 || a0["height"] != 300.0 || a0["blurhash"] != m["blurhash"] || fmt.Sprint(a0["focalPoint"]) != "[0.5 -0.25]" {
		t.Errorf("note attachment: %v", a0)
	}
	if note.Attachment[1]["mediaType"] != "application/pdf" {
		t.Errorf("note attachment 2: %v", note.Attachment[1])
	}

	// An edit drops the PDF.
	ed := anaO.ok("PUT", "/api/v1/statuses/"+str(st["id"]), url.Values{"status": {"@practice our room"}, "media_ids[]": {mid}}).object(t)
	if l, _ := ed["media_attachments"].([]any); len(l) != 1 || str(field(l[0], "id")) != mid {
		t.Errorf("after edit: %v", ed["media_attachments"])
	}

	// Refused: an HTML page named .png, an SVG; nothing is stored.
	for name, data := range map[string][]byte{"cat.png": mediatest.HTML, "logo.svg": mediatest.SVG, "bomb.png": mediatest.PNGBomb(100_000, 100_000)} {
		r := ana.upload("/api/v2/media", name, data)
		if r.StatusCode != 422 || !strings.Contains(str(r.object(t)["error"]), "Validation failed") {
			t.Errorf("%s: %d %s", name, r.StatusCode, r.body)
		}
	}

	// Unattached uploads go after a day: the PDF (detached by the
	// edit) and a fresh one; the photo stays.
	spare := ana.upload("/api/v2/media", "spare.jpg", mediatest.JPEGWithGPS(20, 20, 1)).object(t)
	pruned, err := other.Service.PruneUnattachedMedia(context.Background(), time.Now().Add(time.Minute), 100)
	if err != nil || pruned != 2 {
		t.Fatalf("pruned %d: %v", pruned, err)
	}
	for _, u := range []string{str(spare["url"]), str(spare["preview_url"]), str(pdf["url"])} {
		if res, _ := fetch(t, via(u)); res.StatusCode != 404 {
			t.Errorf("pruned file %s: %d", u, res.StatusCode)
		}
	}
	if res, _ := fetch(t, via(str(m["url"]))); res.StatusCode != 200 {
		t.Errorf("attached file after prune: %d", res.StatusCode)
	}

	// Alt text edited with the post (media_attributes), as apps do.
	ed2 := anaO.ok("PUT", "/api/v1/statuses/"+str(st["id"]), url.Values{"status": {"@practice our room"},
		"media_attributes[][id]": {mid}, "media_attributes[][description]": {"Tables in a U, seen from the door"}}).object(t)
	if l, _ := ed2["media_attachments"].([]any); len(l) != 1 || field(l[0], "description") != "Tables in a U, seen from the door" {
		t.Errorf("media_attributes: %v", ed2["media_attachments"])
	}
	if _, doc := fetch(t, via(str(st["uri"])), "Accept", "application/activity+json"); !strings.Contains(string(doc), `"name":"Tables in a U, seen from the door"`) {
		t.Errorf("the edited alt text is not in the Note: %s", doc)
	}

	// Deleting the post deletes its files.
	anaO.ok("DELETE", "/api/v1/statuses/"+str(st["id"]), nil)
	for _, u := range []string{str(m["url"]), str(m["preview_url"])} {
		if res, _ := fetch(t, via(u)); res.StatusCode != 404 {
			t.Errorf("a deleted post's file %s: %d", u, res.StatusCode)
		}
	}
}

// Limits per file and per member answer Mastodon's 422 with a message.
func TestMediaLimits(t *testing.T) {
	n := fedtest.StartWith(t, dialects[0], func(c *config.Config) {
		c.MediaMaxImageBytes = 40_000
		c.MediaMaxFileBytes = 2000
		c.MediaQuotaBytes = 60_000
	})
	member(t, n, "ana")
	ana := newClient(t, n, tokenFor(t, n, "ana", "write:media"))
	big := mediatest.PNG(mediatest.Photo(300, 300)) // noisy enough to be over 40 kB? check below
	if len(big) <= 40_000 {
		big = append(mediatest.PDF, make([]byte, 50_000)...)
	}
	r := ana.upload("/api/v2/media", "big", big)
	if r.StatusCode != 422 || !strings.Contains(str(r.object(t)["error"]), "File file size must be less than") {
		t.Errorf("too big: %d %s", r.StatusCode, r.body)
	}
	doc := append(append([]byte{}, mediatest.PDF...), make([]byte, 2500)...)
	if r := ana.upload("/api/v2/media", "long.pdf", doc); r.StatusCode != 422 {
		t.Errorf("document over its limit: %d %s", r.StatusCode, r.body)
	}
	photo := mediatest.JPEGWithGPS(400, 300, 1)
	if len(photo) > 40_000 {
		t.Fatalf("fixture too large: %d", len(photo))
	}
	sent := 0
	for i := range 10 {
		r := ana.upload("/api/v2/media", "p.jpg", photo)
		if r.StatusCode == 200 {
			sent++
			continue
		}
		if r.StatusCode != 422 || !strings.Contains(str(r.object(t)["error"]), "quota") {
			t.Fatalf("upload %d: %d %s", i, r.StatusCode, r.body)
		}
		break
	}
	if sent == 0 || sent == 10 {
		t.Errorf("quota let %d uploads through", sent)
	}
}

// sendFiles sends a multipart form with files (field name → file name and
// bytes) and fields.
func (c *client) sendFiles(method, path string, files map[string][2]any, fields ...string) response {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for i := 0; i+1 < len(fields); i += 2 {
		w.WriteField(fields[i], fields[i+1])
	}
	for field, f := range files {
		fw, err := w.CreateFormFile(field, f[0].(string))
		if err != nil {
			c.t.Fatal(err)
		}
		fw.Write(f[1].([]byte))
	}
	w.Close()
	req, err := http.NewRequest(method, c.base+path, &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res, b}
}

// A member sets an avatar and a header from an app: both are re-encoded
// without EXIF and scaled to Mastodon's sizes, shown on the account and
// published in the Person as icon and image; DELETE removes the avatar.
func TestProfileImages(t *testing.T) {
	n := fedtest.Start(t, dialects[0])
	member(t, n, "ana")
	ana := newClient(t, n, tokenFor(t, n, "ana", "read write"))
	cred := expect(t, ana.sendFiles("PATCH", "/api/v1/accounts/update_credentials", map[string][2]any{
		"avatar": {"me.jpg", mediatest.JPEGWithGPS(800, 600, 1)},
		"header": {"ward.png", mediatest.PNG(mediatest.Photo(3000, 1000))},
	}, "display_name", "Ana"), 200, "CredentialAccount").(map[string]any)
	avatar, header := str(cred["avatar"]), str(cred["header"])
	if !strings.HasPrefix(avatar, n.URL+"/media/") || !strings.HasPrefix(header, n.URL+"/media/") || cred["display_name"] != "Ana" || cred["avatar_static"] != avatar {
		t.Fatalf("credentials: %v", cred)
	}
	res, body := fetch(t, avatar)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("avatar: %d", res.StatusCode)
	}
	if _, err := exif.Decode(bytes.NewReader(body)); err == nil {
		t.Error("the avatar has EXIF")
	}
	if img, err := jpeg.Decode(bytes.NewReader(body)); err != nil || img.Bounds().Dx()*img.Bounds().Dy() > 400*400 {
		t.Errorf("avatar size: %v %v", img.Bounds(), err)
	}
	_, doc := fetch(t, n.URL+"/u/ana", "Accept", "application/activity+json")
	var person struct {
		Icon, Image struct{ Type, MediaType, URL string }
	}
	if err := json.Unmarshal(doc, &person); err != nil {
		t.Fatal(err)
	}
	if person.Icon.Type != "Image" || person.Icon.URL != avatar || person.Icon.MediaType != "image/jpeg" || person.Image.URL != header || person.Image.MediaType != "image/png" {
		t.Errorf("person icon %+v image %+v", person.Icon, person.Image)
	}
	acc := ana.ok("GET", "/api/v1/accounts/lookup?acct=ana", nil).object(t)
	if acc["avatar"] != avatar || acc["header"] != header {
		t.Errorf("account: %v %v", acc["avatar"], acc["header"])
	}
	if r := ana.sendFiles("PATCH", "/api/v1/accounts/update_credentials", map[string][2]any{"avatar": {"cv.pdf", mediatest.PDF}}); r.StatusCode != 422 {
		t.Errorf("a PDF avatar: %d %s", r.StatusCode, r.body)
	}
	after := ana.ok("DELETE", "/api/v1/profile/avatar", nil).object(t)
	if !strings.HasSuffix(str(after["avatar"]), "/avatars/original/missing.png") || after["header"] != header {
		t.Errorf("after delete: %v %v", after["avatar"], after["header"])
	}
	if res, _ := fetch(t, avatar); res.StatusCode != 404 {
		t.Errorf("the removed avatar is still served: %d", res.StatusCode)
	}

	// A community's icon (set by the CLI through the same call).
	com := n.Community("practice", false, "ana")
	logo := mediatest.PNG(mediatest.Photo(500, 500))
	g, err := n.Service.SetActorImage(context.Background(), com.Actor, "avatar", &federation.Upload{Name: "logo.png", File: bytes.NewReader(logo), Size: int64(len(logo))})
	if err != nil {
		t.Fatal(err)
	}
	_, doc = fetch(t, n.URL+"/c/practice", "Accept", "application/activity+json")
	var group struct {
		Icon struct{ Type, MediaType, URL string }
	}
	if err := json.Unmarshal(doc, &group); err != nil || group.Icon.URL != n.Service.MediaURL(g.AvatarKey) || group.Icon.MediaType != "image/png" {
		t.Errorf("group icon: %+v %v", group.Icon, err)
	}
	if ga := ana.ok("GET", "/api/v1/accounts/lookup?acct=practice", nil).object(t); ga["avatar"] != group.Icon.URL {
		t.Errorf("community account avatar %v", ga["avatar"])
	}
}

// With attachments the text may be left out, as on Mastodon: a reply
// that is only a photo, and a post to a community that only mentions it.
func TestMediaOnlyPosts(t *testing.T) {
	n := fedtest.Start(t, dialects[0])
	member(t, n, "ana")
	n.Community("practice", false, "ana")
	ana := newClient(t, n, tokenFor(t, n, "ana", "read write"))
	upload := func() string {
		return str(ana.upload("/api/v2/media", "p.jpg", mediatest.JPEGWithGPS(40, 30, 1)).object(t)["id"])
	}
	top := ana.ok("POST", "/api/v1/statuses", url.Values{"status": {"@practice our room"}}).object(t)
	reply := expect(t, ana.do("POST", "/api/v1/statuses", url.Values{"in_reply_to_id": {str(top["id"])}, "media_ids[]": {upload()}}), 200, "Status").(map[string]any)
	if l, _ := reply["media_attachments"].([]any); len(l) != 1 || str(reply["in_reply_to_id"]) != str(top["id"]) {
		t.Errorf("photo-only reply: %v", reply)
	}
	only := ana.ok("POST", "/api/v1/statuses", url.Values{"status": {"@practice"}, "media_ids[]": {upload()}}).object(t)
	if l, _ := only["media_attachments"].([]any); len(l) != 1 {
		t.Errorf("photo-only post: %v", only)
	}
	if r := ana.do("POST", "/api/v1/statuses", url.Values{"in_reply_to_id": {str(top["id"])}}); r.StatusCode != 422 {
		t.Errorf("nothing at all: %d", r.StatusCode)
	}
	if r := ana.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice"}}); r.StatusCode != 422 {
		t.Errorf("only the mention, no photo: %d", r.StatusCode)
	}
}
