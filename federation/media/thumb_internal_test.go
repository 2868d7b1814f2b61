package media

import (
	"bytes"
	"image"
	"image/jpeg"
	"syscall"
	"testing"
	"time"
)

// BenchmarkThumbnail is the thumbnail alone: from a decoded photo to the
// 640×360-pixel JPEG (scaled by halves, encoded) and its blurhash input.
// Run with -cpu 1: thumbnails/cpu-s is the throughput of one core.
func BenchmarkThumbnail(b *testing.B) {
	for _, c := range []struct {
		name string
		w, h int
	}{{"from3840x2160", 3840, 2160}, {"from1600x1200", 1600, 1200}} {
		img := image.NewYCbCr(image.Rect(0, 0, c.w, c.h), image.YCbCrSubsampleRatio420)
		for i := range img.Y {
			img.Y[i] = uint8(i * 7)
		}
		b.Run(c.name, func(b *testing.B) {
			var ru0 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			for b.Loop() {
				thumb := fit(img, DefaultLimits.ThumbPixels)
				var buf bytes.Buffer
				if err := jpeg.Encode(&buf, thumb, &jpeg.Options{Quality: 80}); err != nil {
					b.Fatal(err)
				}
				fit(thumb, 32*32)
			}
			var ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
			perOp := cpu.Seconds() / float64(b.N)
			b.ReportMetric(perOp*1000, "cpu-ms/op")
			b.ReportMetric(1/perOp, "thumbnails/cpu-s")
		})
	}
}
