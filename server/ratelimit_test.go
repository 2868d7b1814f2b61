package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// TestRetryAfter: a refusal by a rate limit is a 429 that tells the
// sender when to come back, as Mastodon's are.
func TestRetryAfter(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite)
	f := newFixtureWith(t, db, testConfig(), func(s *Server) {
		s.Echo().GET("/test/limited", func(echo.Context) error {
			return &federation.RateLimited{Reason: "too many", RetryAfter: 1500 * time.Millisecond}
		})
	})
	res := f.do(http.MethodGet, "/test/limited", nil)
	mustStatus(t, res, http.StatusTooManyRequests)
	if got := res.Header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2", got)
	}
}

// TestActivitySizeCap: an inbox POST larger than MaxActivityBytes is a
// 413 before anything else is done with it, though other bodies may be
// larger (MaxBodyBytes). A smaller one goes on to be parsed.
func TestActivitySizeCap(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite)
	cfg := testConfig()
	cfg.MaxBodyBytes, cfg.MaxActivityBytes = 1<<20, 256<<10
	f := newFixtureWith(t, db, cfg)
	post := func(size int, chunked bool) int {
		t.Helper()
		body := `{"type":"Create","content":"` + strings.Repeat("x", size) + `"}`
		var rd io.Reader = strings.NewReader(body)
		if chunked {
			rd = io.MultiReader(rd) // no Content-Length: the cap applies while reading
		}
		req, err := http.NewRequest(http.MethodPost, f.url+"/inbox", rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/activity+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, chunked := range []bool{false, true} {
		if got := post(300<<10, chunked); got != http.StatusRequestEntityTooLarge {
			t.Errorf("300 KiB activity (chunked %v): %d, want 413", chunked, got)
		}
		if got := post(200<<10, chunked); got != http.StatusBadRequest {
			t.Errorf("200 KiB activity (chunked %v): %d, want 400 (no id)", chunked, got)
		}
	}
}
