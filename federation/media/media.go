// Package media checks and prepares files for storing: what a member
// uploads and what a remote post attaches get the same treatment. The
// type comes from the bytes, never from a name or a header. Images are
// measured before they are decoded (a few bytes can claim a billion
// pixels), decoded, turned upright, scaled down to a bounded size and
// encoded anew, which leaves every metadata block (EXIF with its GPS
// position, XMP, comments) behind; they get a thumbnail and a blurhash.
// Documents, audio and video are kept as they are, by an allowlist of
// types recognised from their first bytes; anything that a browser could
// run (HTML, SVG, XML) is refused.
package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"net/http"
	"path"
	"runtime"
	"slices"
	"strings"

	"github.com/buckket/go-blurhash"
	"github.com/rwcarlsen/goexif/exif"
	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// Kinds, as Mastodon names them (storage.Media*).
const (
	KindImage   = "image"
	KindVideo   = "video"
	KindAudio   = "audio"
	KindUnknown = "unknown"
)

// ErrRefused wraps every reason a file is not accepted; the message after
// it is worded for the member.
var ErrRefused = errors.New("file refused")

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}

// Limits bound what Process accepts and produces.
type Limits struct {
	// MaxPixels bounds an image's width × height, read from its header
	// before anything is decoded.
	MaxPixels int
	// OutputPixels is the most pixels a stored image keeps (Mastodon's
	// 3840×2160); larger ones are scaled down.
	OutputPixels int
	// ThumbPixels is the most pixels of a thumbnail (Mastodon's 640×360).
	ThumbPixels int
}

// DefaultLimits are Mastodon's sizes, with inputs up to 40 megapixels.
var DefaultLimits = Limits{MaxPixels: 40_000_000, OutputPixels: 3840 * 2160, ThumbPixels: 640 * 360}

// Result is a file ready to store.
type Result struct {
	Kind        string
	ContentType string
	// Ext is the file name extension for the content type, with its dot.
	Ext string
	// Data is the re-encoded image; nil for a document, which is stored
	// as it came.
	Data          []byte
	Width, Height int
	// Thumb is a JPEG thumbnail of an image.
	Thumb                   []byte
	ThumbWidth, ThumbHeight int
	Blurhash                string
}

// documentTypes are the types stored as they are, by the type sniffed.
var documentTypes = map[string]struct{ kind, ext string }{
	"application/pdf": {KindUnknown, ".pdf"},
	"audio/mpeg":      {KindAudio, ".mp3"},
	"audio/ogg":       {KindAudio, ".ogg"},
	"application/ogg": {KindAudio, ".ogg"},
	"audio/wave":      {KindAudio, ".wav"},
	"audio/aiff":      {KindAudio, ".aiff"},
	"audio/mp4":       {KindAudio, ".m4a"},
	"video/mp4":       {KindVideo, ".mp4"},
	"video/webm":      {KindVideo, ".webm"},
	"video/avi":       {KindVideo, ".avi"},
}

// AcceptedTypes lists the media types accepted, for the apps.
func AcceptedTypes() []string {
	out := []string{"image/jpeg", "image/png", "image/gif", "image/webp"}
	for ct := range documentTypes {
		if ct != "application/ogg" {
			out = append(out, ct)
		}
	}
	for _, o := range officeTypes {
		out = append(out, o.contentType)
	}
	slices.Sort(out[4:])
	return out
}

// officeTypes are office files, recognised as a ZIP (OOXML, OpenDocument)
// or an OLE compound file (the older formats) whose name says which one.
var officeTypes = map[string]struct{ family, contentType string }{
	".docx": {"zip", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	".xlsx": {"zip", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	".pptx": {"zip", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
	".odt":  {"zip", "application/vnd.oasis.opendocument.text"},
	".ods":  {"zip", "application/vnd.oasis.opendocument.spreadsheet"},
	".odp":  {"zip", "application/vnd.oasis.opendocument.presentation"},
	".doc":  {"ole", "application/msword"},
	".xls":  {"ole", "application/vnd.ms-excel"},
	".ppt":  {"ole", "application/vnd.ms-powerpoint"},
}

var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// Sniff names the type of a file from its first bytes (at least 512 if
// it has them); name only tells office formats of one family apart. It
// returns the content type, Mastodon's kind and the extension, or
// ErrRefused.
func Sniff(head []byte, name string) (contentType, kind, ext string, err error) {
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	switch ct {
	case "image/jpeg":
		return ct, KindImage, ".jpg", nil
	case "image/png":
		return ct, KindImage, ".png", nil
	case "image/gif":
		return ct, KindImage, ".gif", nil
	case "image/webp":
		return ct, KindImage, ".webp", nil
	}
	if d, ok := documentTypes[ct]; ok {
		if ct == "application/ogg" {
			ct = "audio/ogg"
		}
		return ct, d.kind, d.ext, nil
	}
	ext = strings.ToLower(path.Ext(name))
	if o, ok := officeTypes[ext]; ok {
		if (o.family == "zip" && ct == "application/zip") || (o.family == "ole" && bytes.HasPrefix(head, oleMagic)) {
			return o.contentType, KindUnknown, ext, nil
		}
	}
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		switch string(head[8:12]) {
		case "avif", "avis", "heic", "heix", "mif1", "msf1":
			return "", "", "", refuse("AVIF and HEIC images are not supported yet; send a JPEG, PNG, WebP or GIF")
		case "M4A ":
			return "audio/mp4", KindAudio, ".m4a", nil
		case "isom", "iso2", "mp41", "mp42", "avc1", "M4V ", "qt  ":
			return "video/mp4", KindVideo, ".mp4", nil
		}
	}
	switch {
	case strings.HasPrefix(ct, "text/"), strings.Contains(ct, "xml"), bytes.Contains(bytes.ToLower(head), []byte("<svg")):
		return "", "", "", refuse("text, HTML and SVG files are not accepted")
	}
	return "", "", "", refuse("files of this type (%s) are not accepted: images (JPEG, PNG, WebP, GIF), PDF, office documents, audio and video are", ct)
}

// Process checks a file of size bytes and prepares it: r must be at its
// start. name is only a hint for office formats.
func Process(r io.ReadSeeker, size int64, name string, lim Limits) (*Result, error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read file: %w", err)
	}
	head = head[:n]
	if n == 0 {
		return nil, refuse("the file is empty")
	}
	ct, kind, ext, err := Sniff(head, name)
	if err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind file: %w", err)
	}
	if kind != KindImage {
		return &Result{Kind: kind, ContentType: ct, Ext: ext}, nil
	}
	return processImage(r, size, ct, lim)
}

// decoding bounds the images decoded at once: each may take 100 MB, and
// more at a time than there are cores would only queue for CPU anyway.
var decoding = make(chan struct{}, runtime.GOMAXPROCS(0))

func processImage(r io.ReadSeeker, size int64, ct string, lim Limits) (*Result, error) {
	// The header first: its claimed size decides whether decoding is
	// affordable, before a byte of pixels is allocated.
	cfg, err := decodeConfig(r, ct)
	if err != nil {
		return nil, refuse("the image cannot be read: %v", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, refuse("the image has no pixels")
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(lim.MaxPixels) {
		return nil, refuse("the image is %d×%d pixels; at most %d megapixels are accepted", cfg.Width, cfg.Height, lim.MaxPixels/1_000_000)
	}
	orientation := 1
	if ct == "image/jpeg" {
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("rewind file: %w", err)
		}
		orientation = exifOrientation(io.LimitReader(r, min(size, 1<<20)))
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind file: %w", err)
	}
	decoding <- struct{}{}
	defer func() { <-decoding }()
	img, err := decode(r, ct)
	if err != nil {
		return nil, refuse("the image cannot be read: %v", err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, refuse("the image's size differs from its header")
	}
	// Scaled first, then turned: turning goes pixel by pixel.
	scaled := orient(fit(img, lim.OutputPixels), orientation)
	if scaled != img {
		// The decoded image (30 MB at 20 megapixels) is garbage now:
		// collect it before the encoder's buffers grow, or the heap
		// peaks at both (the goal is 150 MB for a 20-megapixel photo).
		img = nil
		runtime.GC()
	}
	img = scaled
	res := &Result{Kind: KindImage, Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}
	var buf bytes.Buffer
	// A photograph stays a JPEG; anything that may be drawn, or
	// transparent, becomes a PNG. WebP has no encoder here.
	if ct == "image/jpeg" || (ct == "image/webp" && opaque(img)) {
		res.ContentType, res.Ext = "image/jpeg", ".jpg"
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	} else {
		res.ContentType, res.Ext = "image/png", ".png"
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img)
	}
	if err != nil {
		return nil, fmt.Errorf("encode image: %w", err)
	}
	res.Data = buf.Bytes()
	thumb := flatten(fit(img, lim.ThumbPixels))
	img = nil // the full image is no longer needed: let it go before the next allocations
	var tb bytes.Buffer
	if err := jpeg.Encode(&tb, thumb, &jpeg.Options{Quality: 80}); err != nil {
		return nil, fmt.Errorf("encode thumbnail: %w", err)
	}
	res.Thumb, res.ThumbWidth, res.ThumbHeight = tb.Bytes(), thumb.Bounds().Dx(), thumb.Bounds().Dy()
	// Blurhash costs per pixel and component: a tiny copy is as good.
	hash, err := blurhash.Encode(4, 3, fit(thumb, 32*32))
	if err != nil {
		return nil, fmt.Errorf("blurhash: %w", err)
	}
	res.Blurhash = hash
	return res, nil
}

func decodeConfig(r io.Reader, ct string) (image.Config, error) {
	switch ct {
	case "image/jpeg":
		return jpeg.DecodeConfig(r)
	case "image/png":
		return png.DecodeConfig(r)
	case "image/gif":
		return gif.DecodeConfig(r)
	case "image/webp":
		return webp.DecodeConfig(r)
	}
	return image.Config{}, fmt.Errorf("no decoder for %s", ct)
}

// decode reads the image; of an animated GIF, the first frame.
func decode(r io.Reader, ct string) (image.Image, error) {
	switch ct {
	case "image/jpeg":
		return jpeg.Decode(r)
	case "image/png":
		return png.Decode(r)
	case "image/gif":
		return gif.Decode(r)
	case "image/webp":
		return webp.Decode(r)
	}
	return nil, fmt.Errorf("no decoder for %s", ct)
}

// exifOrientation reads the EXIF orientation (1 to 8), 1 when there is
// none: stripping EXIF must not leave a phone's photo on its side.
func exifOrientation(r io.Reader) int {
	x, err := exif.Decode(r)
	if err != nil {
		return 1
	}
	tag, err := x.Get(exif.Orientation)
	if err != nil {
		return 1
	}
	v, err := tag.Int(0)
	if err != nil || v < 1 || v > 8 {
		return 1
	}
	return v
}

// orient turns img upright as EXIF orientation o says.
func orient(img image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			dst.Set(dx, dy, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}

// fit scales img down to at most maxPixels, keeping its proportions; a
// smaller image is returned as it is.
//
// Large reductions go by halves first: bilinear sampling at exactly half
// size averages each 2×2 block, so nothing aliases, and nothing is
// allocated beyond the smaller images (x/image/draw's kernel scalers
// allocate 32 bytes per pixel of width out × height in: 300 MB for a
// 12-megapixel photo). The last step shrinks by less than half.
func fit(img image.Image, maxPixels int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w*h <= maxPixels {
		return img
	}
	scale := math.Sqrt(float64(maxPixels) / float64(w*h))
	nw, nh := max(1, int(float64(w)*scale)), max(1, int(float64(h)*scale))
	cur := img
	for cw, ch := w/2, h/2; cw >= nw && ch >= nh; cw, ch = cw/2, ch/2 {
		half := image.NewRGBA(image.Rect(0, 0, cw, ch))
		draw.ApproxBiLinear.Scale(half, half.Bounds(), cur, cur.Bounds(), draw.Src, nil)
		cur = half
	}
	dst := image.NewRGBA(image.Rect(0, 0, nw, nh))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), cur, cur.Bounds(), draw.Src, nil)
	return dst
}

// opaque reports whether img has no transparent pixel.
func opaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// flatten draws img over white, for a JPEG thumbnail of a transparent image.
func flatten(img image.Image) image.Image {
	if opaque(img) {
		return img
	}
	dst := image.NewRGBA(img.Bounds())
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), img, img.Bounds().Min, draw.Over)
	return dst
}
