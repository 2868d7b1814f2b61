// Package blobtest runs a real S3-protocol server (gofakes3, in memory)
// on loopback for tests of the S3 store: the client library speaks to it
// over HTTP as it would to any S3-compatible store.
package blobtest

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/commonplace/commonplace/storage/blob"
)

// StartS3 starts the server with an empty bucket and returns the options
// that reach it. It stops when the test ends.
func StartS3(t testing.TB) blob.S3Options {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("media"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return blob.S3Options{
		Endpoint: strings.TrimPrefix(srv.URL, "http://"), Region: "us-east-1", Bucket: "media",
		AccessKey: "commonplace", SecretKey: "commonplace-secret",
	}
}
