package media_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation/media"
)

// benchPhoto is a w×h JPEG that compresses like a photograph.
func benchPhoto(b *testing.B, w, h int) []byte {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	r := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			img.Y[img.YOffset(x, y)] = uint8(min((x*200)/w+(y*50)/h+r.IntN(25), 255))
		}
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = uint8(100+r.IntN(6)), uint8(140+r.IntN(6))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkProcess is the whole treatment of an uploaded photo: measure,
// decode, scale, re-encode, thumbnail, blurhash. Run with -cpu 1 for the
// throughput of one core (photos/s = 1e9 / ns/op).
func BenchmarkProcess(b *testing.B) {
	for _, c := range []struct {
		name string
		w, h int
	}{{"2MP", 1600, 1200}, {"12MP", 4000, 3000}, {"20MP", 5472, 3648}} {
		data := benchPhoto(b, c.w, c.h)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			before := cpuTime()
			for b.Loop() {
				if _, err := media.Process(bytes.NewReader(data), int64(len(data)), "p.jpg", media.DefaultLimits); err != nil {
					b.Fatal(err)
				}
			}
			// CPU time, not wall time: on a shared machine the wall clock
			// counts other processes' turns too.
			perOp := (cpuTime() - before).Seconds() / float64(b.N)
			b.ReportMetric(perOp*1000, "cpu-ms/op")
			b.ReportMetric(1/perOp, "photos/cpu-s")
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
