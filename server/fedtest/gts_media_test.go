package fedtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rwcarlsen/goexif/exif"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/media/mediatest"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// Attachments between Commonplace and a real GoToSocial, both ways: a
// member's photo (uploaded with GPS EXIF) reaches a GoToSocial member as
// an image GoToSocial fetched, stored and serves, with its alt text and
// without EXIF; a GoToSocial member's photo, uploaded through its API,
// arrives in the community and is served from our cache.
func TestGoToSocialMedia(t *testing.T) {
	x := &gtsInterop{t: t, gts: fedtest.StartGoToSocial(t, "gina")}
	x.cp = fedtest.StartNamed(t, storage.SQLite)
	cp, gina := x.cp, x.gts.User
	olga := cp.Member("olga")
	group := cp.Community("practice", false, "olga").Actor
	x.join(gina, "practice")
	fedtest.Eventually(t, "gina's join accepted", accepted(cp, group.URI, gina.ActorURI()))
	cp.WaitSoftware(x.gts.Name)
	ctx := context.Background()

	t.Run("to GoToSocial", func(t *testing.T) {
		photo := mediatest.JPEGWithGPS(640, 480, 1)
		up, err := cp.Service.UploadMedia(ctx, olga, federation.Upload{Name: "board.jpg", File: bytes.NewReader(photo), Size: int64(len(photo)),
			Description: "The handover board"})
		if err != nil {
			t.Fatal(err)
		}
		post, err := cp.Service.Post(ctx, olga, federation.NewPost{Community: "practice", Text: "Our handover board", Media: []int64{up.ID}})
		if err != nil {
			t.Fatal(err)
		}
		st := x.waitHome(gina, "olga's post with its image on GoToSocial", func(st fedtest.GTSStatus) bool {
			return st.URI == post.URI && len(st.MediaAttachments) == 1 && st.MediaAttachments[0].Type == "image"
		})
		att := st.MediaAttachments[0]
		if att.Description == nil || *att.Description != "The handover board" || att.RemoteURL == nil || *att.RemoteURL != cp.Service.FileURL(up.FileKey) {
			t.Errorf("GoToSocial's attachment: %+v", att)
		}
		res, body := fetchFile(t, att.URL)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "image/") {
			t.Fatalf("GoToSocial serves %s: %d %s", att.URL, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if _, err := exif.Decode(bytes.NewReader(body)); err == nil {
			t.Error("the image GoToSocial serves has EXIF")
		}
	})

	t.Run("from GoToSocial", func(t *testing.T) {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		w.WriteField("description", "Gina's rota")
		fw, _ := w.CreateFormFile("file", "rota.png")
		fw.Write(mediatest.PNG(mediatest.Photo(400, 300)))
		w.Close()
		req, _ := http.NewRequest(http.MethodPost, x.gts.URL+"/api/v2/media", &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+gina.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var m struct{ ID string }
		if res.StatusCode/100 != 2 || json.Unmarshal(b, &m) != nil || m.ID == "" {
			t.Fatalf("GoToSocial upload: %d %s", res.StatusCode, b)
		}
		var st fedtest.GTSStatus
		gina.API(t, http.MethodPost, "/api/v1/statuses", url.Values{
			"status": {"@" + cp.Handle("practice") + " Our rota"}, "visibility": {"public"}, "media_ids[]": {m.ID},
		}, &st)
		var o *storage.Object
		fedtest.Eventually(t, "gina's post with its image in the community", func() (bool, error) {
			var err error
			o, err = object(cp, st.URI)
			return err == nil, nil
		})
		var api struct {
			Media []apiMedia `json:"media_attachments"`
		}
		readAPI(t, cp.URL+"/api/v1/statuses/"+itoa(o.ID), &api)
		if len(api.Media) != 1 || api.Media[0].Type != "image" || api.Media[0].Description == nil || *api.Media[0].Description != "Gina's rota" {
			t.Fatalf("attachments here: %+v\n%s", api.Media, o.Raw)
		}
		res, img := fetchFile(t, api.Media[0].URL)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || len(img) == 0 {
			t.Fatalf("served from our cache: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
	})
}
