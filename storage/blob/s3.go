package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Options configure an S3-compatible object store.
type S3Options struct {
	// Endpoint is host[:port] of the store (s3.amazonaws.com, a MinIO,
	// Garage or Ceph gateway).
	Endpoint string
	// TLS uses https to reach it.
	TLS       bool
	Region    string
	Bucket    string
	AccessKey string
	SecretKey string
	// Prefix is put before every key, so that one bucket can hold several
	// instances' files ("" for none).
	Prefix string
}

// S3 keeps blobs in a bucket of an S3-compatible store, so that several
// replicas share them.
type S3 struct {
	c      *minio.Client
	bucket string
	prefix string
}

// NewS3 connects to the store and checks that the bucket exists.
func NewS3(ctx context.Context, o S3Options) (*S3, error) {
	c, err := minio.New(o.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""),
		Secure: o.TLS,
		Region: o.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 store %s: %w", o.Endpoint, err)
	}
	ok, err := c.BucketExists(ctx, o.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3 store %s: bucket %s: %w", o.Endpoint, o.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("s3 store %s: bucket %s does not exist", o.Endpoint, o.Bucket)
	}
	prefix := strings.Trim(o.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &S3{c: c, bucket: o.Bucket, prefix: prefix}, nil
}

// Put uploads the blob; the store makes it visible whole or not at all.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := s.c.PutObject(ctx, s.bucket, s.prefix+key, r, size, minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

type s3Blob struct {
	*minio.Object
	info minio.ObjectInfo
}

func (b s3Blob) Size() int64        { return b.info.Size }
func (b s3Blob) ModTime() time.Time { return b.info.LastModified }

// Get opens the blob; reads and seeks become ranged requests.
func (s *S3) Get(ctx context.Context, key string) (Blob, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("get: %w", ErrNotFound)
	}
	obj, err := s.c.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		if notFound(err) {
			return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return s3Blob{Object: obj, info: info}, nil
}

// Delete removes the blob; a missing one is no error (S3's way too).
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

func notFound(err error) bool {
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		return er.Code == "NoSuchKey" || er.StatusCode == http.StatusNotFound
	}
	return minio.ToErrorResponse(err).Code == "NoSuchKey"
}
