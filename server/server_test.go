package server

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
	"github.com/commonplace/commonplace/web"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testDomain is the public domain of the server under test. Requests go to
// the httptest listener; ids, handles and WebFinger use this domain, so
// golden files do not depend on the listener's port.
const testDomain = "community.example"

const testBase = "https://" + testDomain

const (
	acceptAP   = "application/activity+json"
	acceptLD   = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
	acceptHTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
)

// fixture is a running server over a fresh database.
type fixture struct {
	t   *testing.T
	db  *storage.DB
	svc *federation.Service
	srv *Server
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
	return newFixtureWith(t, db, testConfig())
}

// newFixtureWith builds a fixture for cfg; mount may add routes before the
// server starts listening.
func newFixtureWith(t *testing.T, db *storage.DB, cfg config.Config, mount ...func(*Server)) *fixture {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := federation.NewService(db, cfg.BaseURL(), log)
	pages, err := web.New(web.Options{Config: cfg, Service: svc, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Config: cfg, Service: svc, Logger: log, Pages: pages})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mount {
		m(srv)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &fixture{t: t, db: db, svc: svc, srv: srv, url: ts.URL}
}

func federationCommunity(name string, closed bool) federation.NewCommunity {
	return federation.NewCommunity{Name: name, Title: strings.ToUpper(name[:1]) + name[1:], Closed: closed}
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

type response struct {
	*http.Response
	body []byte
}

func (f *fixture) do(method, path string, header http.Header) response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.url+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
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
	return response{res, body}
}

// get fetches path with the given Accept header ("" sends none).
func (f *fixture) get(path, accept string) response {
	f.t.Helper()
	h := http.Header{}
	if accept != "" {
		h.Set("Accept", accept)
	}
	return f.do(http.MethodGet, path, h)
}

// getJSON fetches path as an ActivityPub client and decodes a 200 body.
func (f *fixture) getJSON(path string, v any) response {
	f.t.Helper()
	res := f.get(path, acceptAP)
	if res.StatusCode != http.StatusOK {
		f.t.Fatalf("GET %s: status %d: %s", path, res.StatusCode, res.body)
	}
	if err := json.Unmarshal(res.body, v); err != nil {
		f.t.Fatalf("GET %s: %v\n%s", path, err, res.body)
	}
	return res
}

func mustStatus(t *testing.T, res response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body: %s", res.Request.Method, res.Request.URL.Path, res.StatusCode, want, res.body)
	}
}

// golden compares got (JSON) with testdata/name after normalising fields
// that change on every run, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	normalise(doc)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep HTML in summaries readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	norm := buf.Bytes()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, norm, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(norm, want) {
		t.Errorf("%s differs from the golden file (run go test -update if the change is intended)\ngot:\n%s\nwant:\n%s", path, norm, want)
	}
}

// normalise replaces keys and timestamps, which differ on every run.
func normalise(doc map[string]any) {
	if _, ok := doc["published"]; ok {
		doc["published"] = "<TIME>"
	}
	if pk, ok := doc["publicKey"].(map[string]any); ok {
		if _, ok := pk["publicKeyPem"]; ok {
			pk["publicKeyPem"] = "<PEM>"
		}
	}
}

func TestNewChecksOptions(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite)
	if _, err := New(Options{Config: testConfig()}); err == nil {
		t.Error("New without a Service succeeded")
	}
	svc := federation.NewService(db, "https://elsewhere.example", nil)
	if _, err := New(Options{Config: testConfig(), Service: svc}); err == nil {
		t.Error("New with a service for another base URL succeeded")
	}
}
