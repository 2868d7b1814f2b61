// Package mediatest makes the files that media tests send: a photo with
// GPS EXIF, a decompression bomb, files that pretend to be images.
package mediatest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// Latitude and longitude written into JPEGWithGPS's EXIF.
const (
	Latitude  = 51.5
	Longitude = 4.25
)

// Photo is a w×h picture with some structure (a gradient), so encoders
// and blurhash have something to work on.
func Photo(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / max(1, w-1)), uint8(y * 255 / max(1, h-1)), 128, 255})
		}
	}
	return img
}

// JPEGWithGPS is a w×h JPEG whose EXIF holds a GPS position (Latitude,
// Longitude), a camera make and the orientation o (1: upright, 6: turned
// 90° clockwise, so that viewers show it h wide and w high).
func JPEGWithGPS(w, h, o int) []byte {
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, Photo(w, h), &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	raw := enc.Bytes()
	app1 := append([]byte("Exif\x00\x00"), tiff(o)...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(app1)+2))
	// After SOI (FF D8), before everything else, as cameras write it.
	out := append([]byte{}, raw[:2]...)
	out = append(out, seg...)
	out = append(out, app1...)
	return append(out, raw[2:]...)
}

// tiff is a little-endian EXIF block: IFD0 with Make, Orientation and a
// pointer to a GPS IFD with latitude and longitude.
func tiff(o int) []byte {
	le := binary.LittleEndian
	var b bytes.Buffer
	b.WriteString("II*\x00")
	binary.Write(&b, le, uint32(8))
	type entry struct {
		tag, typ uint16
		count    uint32
		value    []byte // inline (≤ 4 bytes) or at an offset
	}
	ifd := func(start int, entries []entry, next uint32) []byte {
		var head, data bytes.Buffer
		dataAt := start + 2 + 12*len(entries) + 4
		binary.Write(&head, le, uint16(len(entries)))
		for _, e := range entries {
			binary.Write(&head, le, e.tag)
			binary.Write(&head, le, e.typ)
			binary.Write(&head, le, e.count)
			if len(e.value) <= 4 {
				v := make([]byte, 4)
				copy(v, e.value)
				head.Write(v)
			} else {
				binary.Write(&head, le, uint32(dataAt+data.Len()))
				data.Write(e.value)
			}
		}
		binary.Write(&head, le, next)
		return append(head.Bytes(), data.Bytes()...)
	}
	u16 := func(v uint16) []byte { x := make([]byte, 2); le.PutUint16(x, v); return x }
	u32 := func(v uint32) []byte { x := make([]byte, 4); le.PutUint32(x, v); return x }
	rational := func(parts ...uint32) []byte {
		var x []byte
		for i := 0; i+1 < len(parts); i += 2 {
			x = append(x, u32(parts[i])...)
			x = append(x, u32(parts[i+1])...)
		}
		return x
	}
	make_ := []byte("Commonplace Camera\x00")
	// IFD0 at 8: Make, Orientation, GPS pointer (patched below).
	ifd0 := func(gpsAt uint32) []byte {
		return ifd(8, []entry{
			{0x010F, 2, uint32(len(make_)), make_},
			{0x0112, 3, 1, u16(uint16(o))},
			{0x8825, 4, 1, u32(gpsAt)},
		}, 0)
	}
	gpsAt := uint32(8 + len(ifd0(0)))
	b.Write(ifd0(gpsAt))
	b.Write(ifd(int(gpsAt), []entry{
		{0x0001, 2, 2, []byte("N\x00")},
		{0x0002, 5, 3, rational(51, 1, 30, 1, 0, 1)},
		{0x0003, 2, 2, []byte("E\x00")},
		{0x0004, 5, 3, rational(4, 1, 15, 1, 0, 1)},
	}, 0))
	return b.Bytes()
}

// PNG encodes img.
func PNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// PNGBomb is a PNG of a few hundred bytes whose header claims w×h
// pixels, followed by a little of its (all-zero) image data: decoding it
// would allocate w×h×4 bytes.
func PNGBomb(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8 bits, RGBA
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 64<<10))
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// SVG is an SVG image with a script.
var SVG = []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>`)

// HTML is a page (to be sent named .png).
var HTML = []byte("<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>")

// PDF is a minimal PDF document.
var PDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
