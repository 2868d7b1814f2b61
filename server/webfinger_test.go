package server

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

func webfinger(f *fixture, resource string) response {
	f.t.Helper()
	return f.get("/.well-known/webfinger?resource="+url.QueryEscape(resource), "application/jrd+json")
}

func TestWebFingerFindsActors(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		f := seeded(t, db)
		for _, tc := range []struct {
			resource, subject, self, profile string
		}{
			{"acct:practice@" + testDomain, "acct:practice@" + testDomain, testBase + "/c/practice", testBase + "/c/practice"},
			// Without the scheme, with a leading @, in another case.
			{"practice@" + testDomain, "acct:practice@" + testDomain, testBase + "/c/practice", ""},
			{"@practice@" + testDomain, "acct:practice@" + testDomain, testBase + "/c/practice", ""},
			{"ACCT:Practice@COMMUNITY.Example", "acct:practice@" + testDomain, testBase + "/c/practice", ""},
			{"acct:alice@" + testDomain, "acct:alice@" + testDomain, testBase + "/u/alice", testBase + "/u/alice"},
			{"acct:community.example@" + testDomain, "acct:community.example@" + testDomain, testBase + "/actor", testBase + "/about"},
			// Actor URLs.
			{testBase + "/c/practice", "acct:practice@" + testDomain, testBase + "/c/practice", ""},
			{"https://COMMUNITY.example/u/alice", "acct:alice@" + testDomain, testBase + "/u/alice", ""},
			{testBase + "/actor", "acct:community.example@" + testDomain, testBase + "/actor", ""},
		} {
			res := webfinger(f, tc.resource)
			mustStatus(t, res, http.StatusOK)
			if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "application/jrd+json" {
				t.Errorf("%s: Content-Type %q", tc.resource, res.Header.Get("Content-Type"))
			}
			if res.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("%s: no CORS header", tc.resource)
			}
			var doc jrd
			if err := json.Unmarshal(res.body, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Subject != tc.subject {
				t.Errorf("%s: subject %q, want %q", tc.resource, doc.Subject, tc.subject)
			}
			if len(doc.Aliases) == 0 || doc.Aliases[0] != tc.self {
				t.Errorf("%s: aliases %q, want %q first", tc.resource, doc.Aliases, tc.self)
			}
			links := map[string]jrdLink{}
			for _, l := range doc.Links {
				links[l.Rel] = l
			}
			if self := links["self"]; self.Href != tc.self || self.Type != "application/activity+json" {
				t.Errorf("%s: self link %+v, want %s", tc.resource, self, tc.self)
			}
			if tc.profile != "" {
				if p := links["http://webfinger.net/rel/profile-page"]; p.Href != tc.profile || p.Type != "text/html" {
					t.Errorf("%s: profile link %+v, want %s", tc.resource, p, tc.profile)
				}
			}
		}
	})
}

func TestWebFingerRefusesBadResources(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		f := seeded(t, db)
		for _, tc := range []struct {
			name, query string
			status      int
		}{
			{"no resource", "", http.StatusBadRequest},
			{"empty resource", "resource=", http.StatusBadRequest},
			{"acct without domain", "resource=acct:practice", http.StatusBadRequest},
			{"acct without user", "resource=acct:@" + testDomain, http.StatusBadRequest},
			{"acct with empty domain", "resource=acct:practice@", http.StatusBadRequest},
			{"acct with two @", "resource=acct:practice@x@" + testDomain, http.StatusBadRequest},
			{"user with a space", "resource=" + url.QueryEscape("acct:prac tice@"+testDomain), http.StatusBadRequest},
			{"user with a slash", "resource=" + url.QueryEscape("acct:../c@"+testDomain), http.StatusBadRequest},
			{"control character", "resource=" + url.QueryEscape("acct:prac\x01tice@"+testDomain), http.StatusBadRequest},
			{"invalid UTF-8", "resource=acct:%ff@" + testDomain, http.StatusBadRequest},
			{"too long", "resource=acct:" + strings.Repeat("a", 500) + "@" + testDomain, http.StatusBadRequest},
			{"mailto scheme", "resource=" + url.QueryEscape("mailto:practice@"+testDomain), http.StatusBadRequest},
			{"xmpp scheme", "resource=" + url.QueryEscape("xmpp:practice@"+testDomain), http.StatusBadRequest},
			{"URL without host", "resource=" + url.QueryEscape("https:///c/practice"), http.StatusBadRequest},
			{"unknown name", "resource=acct:nobody@" + testDomain, http.StatusNotFound},
			{"other domain", "resource=acct:practice@other.example", http.StatusNotFound},
			{"our host with another port", "resource=acct:practice@" + testDomain + ":8443", http.StatusNotFound},
			{"URL on another domain", "resource=" + url.QueryEscape("https://other.example/c/practice"), http.StatusNotFound},
			{"unknown community URL", "resource=" + url.QueryEscape(testBase+"/c/nobody"), http.StatusNotFound},
			{"community under /u/", "resource=" + url.QueryEscape(testBase+"/u/practice"), http.StatusNotFound},
			{"member under /c/", "resource=" + url.QueryEscape(testBase+"/c/alice"), http.StatusNotFound},
			{"not an actor URL", "resource=" + url.QueryEscape(testBase+"/c/practice/outbox"), http.StatusNotFound},
		} {
			res := f.get("/.well-known/webfinger?"+tc.query, "application/jrd+json")
			if res.StatusCode != tc.status {
				t.Errorf("%s: status %d, want %d (%s)", tc.name, res.StatusCode, tc.status, res.body)
				continue
			}
			var body struct{ Error string }
			if err := json.Unmarshal(res.body, &body); err != nil || body.Error == "" {
				t.Errorf("%s: body %s is not a JSON error", tc.name, res.body)
			}
		}
	})
}

func TestSplitScheme(t *testing.T) {
	for _, tc := range []struct {
		in, scheme string
		ok         bool
	}{
		{"acct:a@b", "acct", true},
		{"HTTPS://b/u/a", "https", true},
		{"a@b:8080", "", false},
		{"a@b", "", false},
		{":x", "", false},
		{"1a:b", "", false},
	} {
		scheme, _, ok := splitScheme(tc.in)
		if scheme != tc.scheme || ok != tc.ok {
			t.Errorf("splitScheme(%q) = %q, %v; want %q, %v", tc.in, scheme, ok, tc.scheme, tc.ok)
		}
	}
}

// A development instance at localhost:8080: the port is part of the
// domain, and the instance actor is named after the host alone.
func TestWebFingerDomainWithPort(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Domain, cfg.Protocol = "Localhost:8080", "http"
	f := newFixtureWith(t, storagetest.Open(t, storage.SQLite), cfg)
	ctx := t.Context()
	if _, err := f.svc.EnsureInstanceActor(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateCommunity(ctx, federation.NewCommunity{Name: "practice", Title: "Practice"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		resource, subject string
		status            int
	}{
		{"acct:practice@localhost:8080", "acct:practice@localhost:8080", http.StatusOK},
		{"practice@LOCALHOST:8080", "acct:practice@localhost:8080", http.StatusOK},
		{"acct:localhost@localhost:8080", "acct:localhost@localhost:8080", http.StatusOK},
		{"http://localhost:8080/c/practice", "acct:practice@localhost:8080", http.StatusOK},
		{"acct:practice@localhost", "", http.StatusNotFound},
		{"http://localhost/c/practice", "", http.StatusNotFound},
	} {
		res := webfinger(f, tc.resource)
		if res.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.resource, res.StatusCode, tc.status, res.body)
			continue
		}
		var doc jrd
		if err := json.Unmarshal(res.body, &doc); err != nil {
			t.Fatal(err)
		}
		if tc.status == http.StatusOK && doc.Subject != tc.subject {
			t.Errorf("%s: subject %q, want %q", tc.resource, doc.Subject, tc.subject)
		}
	}
}

func TestHostMeta(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storagetest.Open(t, storage.SQLite))
	res := f.get("/.well-known/host-meta", "")
	mustStatus(t, res, http.StatusOK)
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "application/xrd+xml" {
		t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
	}
	body := string(res.body)
	for _, want := range []string{
		`<?xml version="1.0" encoding="UTF-8"?>`,
		`<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">`,
		`<Link rel="lrdd" template="` + testBase + `/.well-known/webfinger?resource={uri}"></Link>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("host-meta lacks %s:\n%s", want, body)
		}
	}
}
