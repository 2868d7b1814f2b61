package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// FuzzWebFingerResource sends any resource to the WebFinger handler of a
// server with a member and a community: the answer is 200 about one of
// them, or a 400 or 404, never a 5xx or a panic. The seed corpus in
// testdata/fuzz/FuzzWebFingerResource runs with every `go test`; run
// `go test -fuzz FuzzWebFingerResource ./server` to search further.
func FuzzWebFingerResource(f *testing.F) {
	db := storagetest.Open(f, storage.SQLite)
	cfg := testConfig()
	svc := federation.NewService(db, cfg.BaseURL(), slog.New(slog.DiscardHandler))
	srv, err := New(Options{Config: cfg, Service: svc})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.EnsureInstanceActor(ctx); err != nil {
		f.Fatal(err)
	}
	if _, err := svc.CreateAccount(ctx, federation.NewAccount{Username: "alice", Email: "alice@example.org"}); err != nil {
		f.Fatal(err)
	}
	if _, err := svc.CreateCommunity(ctx, federation.NewCommunity{Name: "practice", Title: "Practice"}); err != nil {
		f.Fatal(err)
	}
	subjects := map[string]bool{
		"acct:alice@" + testDomain: true, "acct:practice@" + testDomain: true, "acct:" + testDomain + "@" + testDomain: true,
	}
	for _, s := range []string{
		"acct:alice@" + testDomain, "practice@" + testDomain, "@practice@" + testDomain,
		testBase + "/c/practice", testBase + "/u/alice", testBase + "/actor", "ACCT:Alice@COMMUNITY.EXAMPLE",
		"acct:alice@other.example", "acct:", ":", "acct:@", "a:b:c@d", "acct:alice@" + testDomain + ":443",
		"https://user:pw@" + testDomain + "/u/alice", "http://[::1", "acct:al%00ice@x", "\u202eacct:alice@x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, resource string) {
		if scheme, rest, ok := splitScheme(resource); ok {
			if !strings.EqualFold(resource[:len(scheme)], scheme) || resource[len(scheme)+1:] != rest {
				t.Fatalf("splitScheme(%q) = %q, %q", resource, scheme, rest)
			}
		}
		req := httptest.NewRequest(http.MethodGet, "/.well-known/webfinger?resource="+url.QueryEscape(resource), nil)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusBadRequest, http.StatusNotFound:
		case http.StatusOK:
			var doc jrd
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || !subjects[doc.Subject] {
				t.Fatalf("resource %q: 200 with %s", resource, rec.Body.Bytes())
			}
		default:
			t.Fatalf("resource %q: status %d: %s", resource, rec.Code, rec.Body.Bytes())
		}
	})
}
