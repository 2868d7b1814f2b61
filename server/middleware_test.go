package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		f := seeded(t, db)
		mustStatus(t, f.get("/c/practice", acceptAP), http.StatusOK)
		mustStatus(t, f.get("/c/nobody", acceptAP), http.StatusNotFound)
		mustStatus(t, f.get("/no/such/route", acceptAP), http.StatusNotFound)
		// Not on the public listener: on its own (MetricsHandler).
		mustStatus(t, f.get("/metrics", ""), http.StatusNotFound)
		rec := httptest.NewRecorder()
		f.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("metrics: %d", rec.Code)
		}
		body := rec.Body.String()
		for _, want := range []string{
			`commonplace_http_requests_total{method="GET",route="/c/:name",status="200"} 1`,
			`commonplace_http_requests_total{method="GET",route="/c/:name",status="404"} 1`,
			`commonplace_http_request_duration_seconds_bucket{method="GET",route="/c/:name",status="200",le="+Inf"} 1`,
			`go_goroutines`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		// Raw paths never become label values.
		for _, raw := range []string{`route="/c/practice"`, `route="/no/such/route"`} {
			if strings.Contains(body, raw) {
				t.Errorf("/metrics has %s", raw)
			}
		}
	})
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storagetest.Open(t, storage.SQLite))
	for _, tc := range []struct {
		sent string
		kept bool
	}{
		{"abc-123_proxy.1", true},
		{"", false},
		{"has space", false},
		{"new\\nline", false},
		{strings.Repeat("a", 129), false},
	} {
		h := http.Header{}
		if tc.sent != "" {
			h.Set("X-Request-Id", tc.sent)
		}
		got := f.do(http.MethodGet, "/livez", h).Header.Get("X-Request-Id")
		if tc.kept && got != tc.sent || !tc.kept && (got == tc.sent || len(got) != 36) {
			t.Errorf("sent %q, got %q", tc.sent, got)
		}
	}
}

// syncBuffer collects log output from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestErrorResponses(t *testing.T) {
	t.Parallel()
	db := storagetest.Open(t, storage.SQLite)
	var logs syncBuffer
	cfg := testConfig()
	cfg.MaxBodyBytes = 1024
	mount := func(s *Server) {
		s.log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		e := s.Echo()
		e.GET("/test/internal", func(echo.Context) error {
			return fmt.Errorf("query failed: password=hunter2")
		})
		e.GET("/test/panic", func(echo.Context) error { panic("boom") })
		e.GET("/test/notfound", func(echo.Context) error {
			return fmt.Errorf("get actor %q: %w", "secret-uri", storage.ErrNotFound)
		})
		e.GET("/test/conflict", func(echo.Context) error {
			return fmt.Errorf("insert: %w", storage.ErrConflict)
		})
		e.GET("/test/invalid", func(echo.Context) error {
			return fmt.Errorf("%w: title must not be empty", federation.ErrInvalid)
		})
		e.GET("/test/forbidden", func(echo.Context) error {
			return fmt.Errorf("%w: only moderators may do this", federation.ErrForbidden)
		})
		e.GET("/test/teapot", func(echo.Context) error {
			return echo.NewHTTPError(http.StatusTeapot, "short and stout")
		})
		e.POST("/test/body", func(c echo.Context) error {
			if _, err := io.ReadAll(c.Request().Body); err != nil {
				return err
			}
			return c.NoContent(http.StatusNoContent)
		})
	}
	f := newFixtureWith(t, db, cfg, mount)
	for _, tc := range []struct {
		path   string
		status int
		reason string
	}{
		{"/test/internal", 500, "internal server error"},
		{"/test/panic", 500, "internal server error"},
		{"/test/notfound", 404, "not found"},
		{"/test/conflict", 409, "already exists"},
		{"/test/invalid", 400, "invalid: title must not be empty"},
		{"/test/forbidden", 403, "forbidden: only moderators may do this"},
		{"/test/teapot", 418, "short and stout"},
		{"/no/such/route", 404, "Not Found"},
	} {
		h := http.Header{}
		h.Set("X-Request-Id", "req-"+strings.TrimPrefix(tc.path, "/test/"))
		res := f.do(http.MethodGet, tc.path, h)
		mustStatus(t, res, tc.status)
		if mt := res.Header.Get("Content-Type"); !strings.HasPrefix(mt, "application/json") {
			t.Errorf("%s: Content-Type %q", tc.path, mt)
		}
		var body map[string]string
		if err := json.Unmarshal(res.body, &body); err != nil || body["error"] != tc.reason || len(body) != 1 {
			t.Errorf("%s: body %s, want error %q", tc.path, res.body, tc.reason)
		}
		for _, secret := range []string{"hunter2", "secret-uri", "boom"} {
			if strings.Contains(string(res.body), secret) {
				t.Errorf("%s: response reveals %q", tc.path, secret)
			}
		}
	}

	// 500s are logged as errors with the request id and the cause; a 4xx
	// only at debug.
	type entry struct {
		Level, Msg, Error string
		RequestID         string `json:"request_id"`
		Status            int
	}
	var entries []entry
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var e entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		entries = append(entries, e)
	}
	find := func(id, msg string) *entry {
		for i := range entries {
			if entries[i].RequestID == id && entries[i].Msg == msg {
				return &entries[i]
			}
		}
		return nil
	}
	if e := find("req-internal", "request failed"); e == nil || e.Level != "ERROR" || !strings.Contains(e.Error, "hunter2") {
		t.Errorf("500 not logged as an error with its cause: %+v", e)
	}
	if e := find("req-panic", "panic in handler"); e == nil || e.Level != "ERROR" {
		t.Errorf("panic not logged: %+v", e)
	}
	if e := find("req-notfound", "request refused"); e == nil || e.Level != "DEBUG" {
		t.Errorf("404 not logged at debug: %+v", e)
	}
	if e := find("req-internal", "request"); e == nil || e.Status != 500 {
		t.Errorf("access log of a 500: %+v", e)
	}

	// The server survived the panic.
	mustStatus(t, f.get("/livez", ""), http.StatusOK)

	// Bodies over Config.MaxBodyBytes are refused, whether announced by
	// Content-Length or not.
	post := func(body io.Reader) int {
		res, err := http.Post(f.url+"/test/body", "application/activity+json", body)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := post(strings.NewReader(strings.Repeat("x", 1024))); got != http.StatusNoContent {
		t.Errorf("body at the limit: %d", got)
	}
	if got := post(strings.NewReader(strings.Repeat("x", 1025))); got != http.StatusRequestEntityTooLarge {
		t.Errorf("body over the limit: %d", got)
	}
	if got := post(io.MultiReader(strings.NewReader(strings.Repeat("x", 2048)))); got != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked body over the limit: %d", got)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{storage.ErrNotFound, 404},
		{fmt.Errorf("a: %w", fmt.Errorf("b: %w", storage.ErrNotFound)), 404},
		{storage.ErrConflict, 409},
		{federation.ErrInvalid, 400},
		{federation.ErrForbidden, 403},
		{echo.ErrMethodNotAllowed, 405},
		{&http.MaxBytesError{Limit: 1}, 413},
		{errors.New("anything else"), 500},
	} {
		if got, _ := classify(tc.err); got != tc.status {
			t.Errorf("classify(%v) = %d, want %d", tc.err, got, tc.status)
		}
	}
	long := fmt.Errorf("%w: %s", federation.ErrInvalid, strings.Repeat("é", 400))
	if _, reason := classify(long); len(reason) > maxReasonLen+len("…") {
		t.Errorf("reason of %d bytes", len(reason))
	}
}
