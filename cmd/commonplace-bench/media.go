package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/mastoapi"
)

// The media scenarios measure uploads through the client API of the
// running binary, as an app sends them (multipart POST /api/v2/media,
// then POST /api/v1/statuses with media_ids[]):
//
//	media    -uploads photos of about 5 MB (4000×3000 JPEG), each
//	         uploaded and posted in turn: upload, post and total time
//	         (medians), and the process's peak memory.
//	media20  one 20-megapixel photo (5472×3648 JPEG): upload time and
//	         the process's peak memory while it is decoded, scaled,
//	         re-encoded and thumbnailed.

// photo makes a w×h JPEG with detail (a gradient and noise of the given
// amplitude), so that it compresses like a photograph.
func photo(w, h, noise int, quality int) []byte {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	r := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			v := (x*200)/w + (y*50)/h + r.IntN(noise+1)
			img.Y[img.YOffset(x, y)] = uint8(min(v, 255))
		}
	}
	for i := range img.Cb {
		img.Cb[i] = uint8(100 + r.IntN(noise/4+1))
		img.Cr[i] = uint8(140 + r.IntN(noise/4+1))
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// seedMedia makes a member who posts to the community and a token for
// the apps' calls.
func (b *bench) seedMedia(ctx context.Context, e *env) (string, error) {
	svc := federation.NewService(e.db, "http://"+e.addr, nil)
	if _, err := svc.CreateAccount(ctx, federation.NewAccount{Username: "ana", Email: "ana@example.org", Password: "correct horse battery"}); err != nil {
		return "", err
	}
	return mastoapi.IssueToken(ctx, e.db, "ana", "read write")
}

func (b *bench) media(ctx context.Context, e *env, token string, data []byte, uploads int, res result) error {
	client := &http.Client{Timeout: 2 * time.Minute}
	base := "http://" + e.addr
	var ups, posts, totals []time.Duration
	for i := range uploads {
		start := time.Now()
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		w.WriteField("description", "A photo")
		fw, _ := w.CreateFormFile("file", "photo.jpg")
		fw.Write(data)
		w.Close()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v2/media", &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+token)
		var m struct{ ID, URL string }
		if err := doJSON(client, req, &m); err != nil {
			return fmt.Errorf("upload %d: %w", i, err)
		}
		uploaded := time.Now()
		form := url.Values{"status": {"@practice our room, " + fmt.Sprint(i)}, "media_ids[]": {m.ID}}
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/statuses", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+token)
		var st struct {
			Media []struct{ ID string } `json:"media_attachments"`
		}
		if err := doJSON(client, req, &st); err != nil {
			return fmt.Errorf("post %d: %w", i, err)
		}
		if len(st.Media) != 1 || st.Media[0].ID != m.ID {
			return fmt.Errorf("post %d: attachments %v", i, st.Media)
		}
		done := time.Now()
		ups, posts, totals = append(ups, uploaded.Sub(start)), append(posts, done.Sub(uploaded)), append(totals, done.Sub(start))
	}
	res["file_mb"] = mb(int64(len(data)))
	res["uploads"] = uploads
	res["upload_ms"] = ms(median(ups))
	res["post_ms"] = ms(median(posts))
	res["upload_to_status_ms"] = ms(median(totals))
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func doJSON(c *http.Client, req *http.Request, out any) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}
