package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/web"
)

// The tests build the front end as instance.New does, behind server's
// middleware, negotiation and error handler, so that pages are tested as
// browsers get them.

const (
	testDomain = "community.example"
	acceptHTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
)

type fixture struct {
	t   *testing.T
	db  *storage.DB
	svc *federation.Service
	url string
}

func testConfig() config.Config {
	cfg := config.Default()
	cfg.Domain = testDomain
	cfg.Protocol = "https"
	return cfg
}

func newFixture(t *testing.T, db *storage.DB) *fixture {
	t.Helper()
	f := newFixtureLog(t, db, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})))
	f.t = t
	return f
}

// newBenchFixture is a fixture for benchmarks, which log nothing.
func newBenchFixture(b testing.TB, db *storage.DB) *fixture {
	return newFixtureLog(b, db, slog.New(slog.DiscardHandler))
}

func newFixtureLog(t testing.TB, db *storage.DB, log *slog.Logger) *fixture {
	t.Helper()
	cfg := testConfig()
	svc := federation.NewService(db, cfg.BaseURL(), log)
	pages, err := web.New(web.Options{Config: cfg, Service: svc, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Config: cfg, Service: svc, Logger: log, Pages: pages})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &fixture{db: db, svc: svc, url: ts.URL}
}

// seeded is a fixture with the instance actor, a member "alice" and a
// closed community "practice" that she owns.
func seeded(t *testing.T, db *storage.DB) *fixture {
	t.Helper()
	f := newFixture(t, db)
	ctx := context.Background()
	if _, err := f.svc.EnsureInstanceActor(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateAccount(ctx, federation.NewAccount{
		Username: "alice", Email: "alice@example.org", DisplayName: "Alice Example",
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateCommunity(ctx, federation.NewCommunity{
		Name: "practice", Title: "Practice",
		Summary: "Early-years literacy: cases, tools & stories.\n\nAll practitioners <welcome>.",
		Tags:    []string{"literacy", "early_years"},
		Closed:  true, Owner: "alice",
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

func federationCommunity(name string, closed bool) federation.NewCommunity {
	return federation.NewCommunity{Name: name, Title: strings.ToUpper(name[:1]) + name[1:], Closed: closed}
}

type response struct {
	*http.Response
	body []byte
}

func (f *fixture) get(path, accept string) response {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.url+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return response{Response: res, body: body}
}

func mustStatus(t *testing.T, res response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", res.Request.Method, res.Request.URL.Path, res.StatusCode, want, res.body)
	}
}
