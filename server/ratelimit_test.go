package server

import (
	"net/http"
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
