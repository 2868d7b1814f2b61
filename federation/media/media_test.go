package media_test

import (
	"bytes"
	"errors"
	"image/jpeg"
	"math"
	"testing"

	"github.com/rwcarlsen/goexif/exif"

	"github.com/commonplace/commonplace/federation/media"
	"github.com/commonplace/commonplace/federation/media/mediatest"
)

func process(t *testing.T, data []byte, name string) (*media.Result, error) {
	t.Helper()
	return media.Process(bytes.NewReader(data), int64(len(data)), name, media.DefaultLimits)
}

// The fixture really carries GPS, and what Process makes carries no EXIF
// at all; the photo is turned upright by its orientation.
func TestJPEGLosesEXIFAndStandsUpright(t *testing.T) {
	in := mediatest.JPEGWithGPS(300, 200, 6)
	x, err := exif.Decode(bytes.NewReader(in))
	if err != nil {
		t.Fatalf("fixture has no EXIF: %v", err)
	}
	lat, long, err := x.LatLong()
	if err != nil || math.Abs(lat-mediatest.Latitude) > 0.01 || math.Abs(long-mediatest.Longitude) > 0.01 {
		t.Fatalf("fixture GPS = %v,%v %v", lat, long, err)
	}
	res, err := process(t, in, "IMG_0001.JPG")
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != media.KindImage || res.ContentType != "image/jpeg" || res.Ext != ".jpg" {
		t.Fatalf("result %+v", res)
	}
	if res.Width != 200 || res.Height != 300 {
		t.Errorf("orientation 6 not applied: %dx%d", res.Width, res.Height)
	}
	for name, b := range map[string][]byte{"image": res.Data, "thumbnail": res.Thumb} {
		if _, err := exif.Decode(bytes.NewReader(b)); err == nil {
			t.Errorf("%s still has EXIF", name)
		}
		if bytes.Contains(b, []byte("Exif\x00")) || bytes.Contains(b, []byte("Commonplace Camera")) {
			t.Errorf("%s still holds EXIF bytes", name)
		}
		if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s is not a JPEG: %v", name, err)
		}
	}
	if len(res.Blurhash) < 6 || res.ThumbWidth == 0 {
		t.Errorf("blurhash %q thumb %dx%d", res.Blurhash, res.ThumbWidth, res.ThumbHeight)
	}
}

// Large images are scaled to the output bound and thumbnails to theirs.
func TestImageScaledDown(t *testing.T) {
	in := mediatest.PNG(mediatest.Photo(1600, 1000))
	lim := media.DefaultLimits
	lim.OutputPixels, lim.ThumbPixels = 400_000, 10_000
	res, err := media.Process(bytes.NewReader(in), int64(len(in)), "", lim)
	if err != nil {
		t.Fatal(err)
	}
	if res.ContentType != "image/png" || res.Width*res.Height > 400_000 || res.Width < 790 || res.Width*10 != res.Height*16 {
		t.Errorf("scaled to %dx%d %s", res.Width, res.Height, res.ContentType)
	}
	if res.ThumbWidth*res.ThumbHeight > 10_000 {
		t.Errorf("thumbnail %dx%d", res.ThumbWidth, res.ThumbHeight)
	}
}

func TestRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		file string
	}{
		{"decompression bomb", mediatest.PNGBomb(100_000, 100_000), "bomb.png"},
		{"over the pixel bound", mediatest.PNGBomb(8000, 6000), "big.png"},
		{"SVG", mediatest.SVG, "logo.svg"},
		{"SVG named png", mediatest.SVG, "logo.png"},
		{"HTML named png", mediatest.HTML, "cat.png"},
		{"empty", nil, "x.png"},
		{"ZIP named docx is fine, named png is not", []byte("PK\x03\x04" + string(make([]byte, 100))), "a.png"},
		{"truncated JPEG", mediatest.JPEGWithGPS(64, 64, 1)[:300], "a.jpg"},
		{"AVIF", []byte("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1"), "a.avif"},
	} {
		t.Run(c.name, func(t *testing.T) {
			lim := media.DefaultLimits
			lim.MaxPixels = 40_000_000
			_, err := media.Process(bytes.NewReader(c.data), int64(len(c.data)), c.file, lim)
			if !errors.Is(err, media.ErrRefused) {
				t.Fatalf("err = %v, want refused", err)
			}
		})
	}
}

func TestDocuments(t *testing.T) {
	zip := []byte("PK\x03\x04" + string(make([]byte, 100)))
	ole := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 100)...)
	for _, c := range []struct {
		data       []byte
		name, want string
		kind       string
	}{
		{mediatest.PDF, "protocol.png", "application/pdf", media.KindUnknown}, // the bytes decide
		{zip, "handover.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", media.KindUnknown},
		{zip, "rota.ods", "application/vnd.oasis.opendocument.spreadsheet", media.KindUnknown},
		{ole, "old.doc", "application/msword", media.KindUnknown},
		{[]byte("ID3\x03\x00\x00\x00\x00\x00\x00" + string(make([]byte, 64))), "talk.mp3", "audio/mpeg", media.KindAudio},
		{[]byte("OggS\x00" + string(make([]byte, 64))), "talk.ogg", "audio/ogg", media.KindAudio},
		{[]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + string(make([]byte, 64))), "clip.mp4", "video/mp4", media.KindVideo},
	} {
		res, err := process(t, c.data, c.name)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if res.ContentType != c.want || res.Kind != c.kind || res.Data != nil {
			t.Errorf("%s: %+v", c.name, res)
		}
	}
	if _, err := process(t, ole, "old.docx"); !errors.Is(err, media.ErrRefused) {
		t.Errorf("an OLE file named .docx: %v", err)
	}
}
