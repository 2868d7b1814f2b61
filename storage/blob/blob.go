// Package blob keeps media files: a directory on local disk by default, or
// an S3-compatible object store shared by several replicas. Keys are
// chosen by the caller from a random id and a fixed suffix, never from a
// name a client sent.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// ErrNotFound is returned for a key the store does not hold.
var ErrNotFound = errors.New("blob not found")

// Store keeps blobs by key.
type Store interface {
	// Put stores size bytes from r under key, replacing any blob there.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens the blob at key for reading and seeking.
	Get(ctx context.Context, key string) (Blob, error)
	// Delete removes the blob at key; a missing blob is no error.
	Delete(ctx context.Context, key string) error
}

// Blob is an open blob.
type Blob interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// keyRe is the shape of keys: lower-case path segments of letters,
// digits, dots and dashes, so a key can never climb out of the directory.
var keyRe = regexp.MustCompile(`^[a-z0-9][a-z0-9.\-]{0,127}(/[a-z0-9][a-z0-9.\-]{0,127}){0,4}$`)

// ValidKey reports whether key is a key this package accepts.
func ValidKey(key string) bool { return keyRe.MatchString(key) }

func checkKey(key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("blob key %q is not allowed", key)
	}
	return nil
}

// Local keeps blobs as files under a directory.
type Local struct{ dir string }

// NewLocal uses dir, creating it if missing.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("media directory: %w", err)
	}
	return &Local{dir: dir}, nil
}

func (l *Local) path(key string) string { return filepath.Join(l.dir, filepath.FromSlash(key)) }

// Put writes to a temporary file and renames it, so a reader never sees
// half a file.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, _ string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	p := l.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	defer os.Remove(f.Name()) // after a successful rename, a no-op
	n, err := io.Copy(f, io.LimitReader(r, size+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != size {
		err = fmt.Errorf("wrote %d bytes, expected %d", n, size)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

type localBlob struct {
	*os.File
	info os.FileInfo
}

func (b localBlob) Size() int64        { return b.info.Size() }
func (b localBlob) ModTime() time.Time { return b.info.ModTime() }

// Get opens the file at key.
func (l *Local) Get(_ context.Context, key string) (Blob, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("get: %w", ErrNotFound)
	}
	f, err := os.Open(l.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return localBlob{File: f, info: info}, nil
}

// Delete removes the file at key.
func (l *Local) Delete(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := os.Remove(l.path(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}
