package fedtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// Signatures are bound to the host they were made for (issue 9 item 3).
// A delivery captured by one instance and replayed to another is refused,
// and so is a GET an allowed server signed for a path on some other host
// and replayed to us with that host's Host header: in allowlist mode it
// would otherwise pass as the allowed server's fetch.
func TestSignatureBoundToHost(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) { signatureBoundToHost(t, d) })
	}
}

func signatureBoundToHost(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	a, b := fedtest.Start(t, d), fedtest.Start(t, storage.SQLite)
	a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	m := fedtest.NewMastodon(t)

	// signedFor signs body for url as m and readdresses it to to, keeping
	// the signed Host: what a replay looks like on the wire.
	signedFor := func(signed, to string, body []byte) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, signed, bytes.NewReader(body))
		m.Sign(req, body, time.Now())
		req.URL, _ = url.Parse(to)
		return req
	}
	follow := func() []byte {
		body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
			"id": m.NewID("follows"), "type": "Follow", "actor": m.ActorURI(), "object": group.URI})
		return body
	}
	for _, signed := range []string{b.URL + "/inbox", "http://" + m.Domain + "/inbox"} {
		before := countRows(t, a)
		if code := m.Do(signedFor(signed, a.URL+"/inbox", follow())); code != http.StatusUnauthorized {
			t.Errorf("delivery signed for %s, replayed to %s: %d, want 401", signed, a.URL, code)
		}
		a.Settled()
		if after := countRows(t, a); after != before {
			t.Errorf("replay from %s stored rows: %d -> %d", signed, before, after)
		}
	}
	// Signed for us, the same delivery is accepted.
	if code := m.Do(signedFor(group.InboxURI, group.InboxURI, follow())); code != http.StatusAccepted {
		t.Fatalf("delivery signed for our host: %d, want 202", code)
	}

	// Allowlist mode, m's server allowed: a fetch it signed for another
	// host is not its fetch of ours.
	pol := a.Service.Policy
	if _, err := pol.SetMode(ctx, admin, storage.ModeAllowlist); err != nil {
		t.Fatal(err)
	}
	if _, err := pol.Allow(ctx, admin, m.Domain, "partner"); err != nil {
		t.Fatal(err)
	}
	get := func(signedHost, path string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+signedHost+path, nil)
		req.Header.Set("Accept", "application/activity+json")
		m.SignGet(req, time.Now())
		req.URL, _ = url.Parse(a.URL + path)
		req.Host = signedHost
		return m.Do(req)
	}
	for _, path := range []string{"/u/olga/outbox", "/c/practice/followers", "/c/practice/outbox", "/u/olga"} {
		if code := get(m.Domain, path); code != http.StatusUnauthorized {
			t.Errorf("GET %s signed for %s: %d, want 401", path, m.Domain, code)
		}
		if code := get(b.Domain, path); code != http.StatusUnauthorized {
			t.Errorf("GET %s signed for %s: %d, want 401", path, b.Domain, code)
		}
		if code := get(a.Domain, path); code != http.StatusOK {
			t.Errorf("GET %s signed for our host: %d, want 200", path, code)
		}
	}
}

// countRows counts what a refused delivery must not add.
func countRows(t *testing.T, n *fedtest.Node) int64 {
	t.Helper()
	var total int64
	g := n.DB.Gorm(context.Background())
	for _, model := range []any{&storage.Activity{}, &storage.Object{}, &storage.Actor{}, &storage.Membership{}} {
		var c int64
		if err := g.Model(model).Count(&c).Error; err != nil {
			t.Fatal(err)
		}
		total += c
	}
	return total
}
