package server

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// X-Forwarded-For names the client only when a trusted proxy sent it.
func TestClientAddress(t *testing.T) {
	t.Parallel()
	echoIP := func(s *Server) {
		s.Echo().GET("/test/ip", func(c echo.Context) error { return c.String(http.StatusOK, c.RealIP()) })
	}
	header := http.Header{"X-Forwarded-For": {"203.0.113.7"}}

	direct := newFixtureWith(t, storagetest.Open(t, storage.SQLite), testConfig(), echoIP)
	if got := string(direct.do(http.MethodGet, "/test/ip", header).body); got != "127.0.0.1" {
		t.Errorf("without trusted proxies the client is %q, want the connection's 127.0.0.1", got)
	}

	cfg := testConfig()
	cfg.TrustedProxies = []string{"127.0.0.0/8"}
	proxied := newFixtureWith(t, storagetest.Open(t, storage.SQLite), cfg, echoIP)
	if got := string(proxied.do(http.MethodGet, "/test/ip", header).body); got != "203.0.113.7" {
		t.Errorf("behind a trusted proxy the client is %q, want 203.0.113.7", got)
	}
}
