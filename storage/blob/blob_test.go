package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/storage/blob"
	"github.com/commonplace/commonplace/storage/blob/blobtest"
)

// Both stores keep the same promises: a blob reads back whole and by
// ranges, a missing or deleted one is ErrNotFound, a key that could
// climb out of its place is refused.
func TestStores(t *testing.T) {
	ctx := context.Background()
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s3, err := blob.NewS3(ctx, blobtest.StartS3(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]blob.Store{"local": local, "s3": s3} {
		t.Run(name, func(t *testing.T) {
			data := bytes.Repeat([]byte("commonplace "), 10_000)
			if err := st.Put(ctx, "abc123/original.jpg", bytes.NewReader(data), int64(len(data)), "image/jpeg"); err != nil {
				t.Fatal(err)
			}
			b, err := st.Get(ctx, "abc123/original.jpg")
			if err != nil {
				t.Fatal(err)
			}
			if b.Size() != int64(len(data)) || b.ModTime().IsZero() {
				t.Errorf("size %d, modtime %v", b.Size(), b.ModTime())
			}
			if _, err := b.Seek(60_000, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			part := make([]byte, 12)
			if _, err := io.ReadFull(b, part); err != nil || !bytes.Equal(part, data[60_000:60_012]) {
				t.Errorf("ranged read %q %v", part, err)
			}
			if _, err := b.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			all, err := io.ReadAll(b)
			b.Close()
			if err != nil || !bytes.Equal(all, data) {
				t.Errorf("read back %d bytes, %v", len(all), err)
			}
			if _, err := st.Get(ctx, "abc123/missing.jpg"); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("missing: %v", err)
			}
			if err := st.Put(ctx, "abc123/short", strings.NewReader("abc"), 3, ""); err != nil {
				t.Fatal(err)
			}
			if err := st.Delete(ctx, "abc123/short"); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Get(ctx, "abc123/short"); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("deleted: %v", err)
			}
			if err := st.Delete(ctx, "abc123/short"); err != nil {
				t.Errorf("deleting twice: %v", err)
			}
			for _, bad := range []string{"../etc/passwd", "/abs", "a//b", "A/B", "a/../b", "", "a/b/c/d/e/f/g"} {
				if err := st.Put(ctx, bad, strings.NewReader("x"), 1, ""); err == nil {
					t.Errorf("key %q accepted", bad)
				}
			}
		})
	}
}
