package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// counts is what a hostile request must not change.
type counts struct{ activities, objects, actors, memberships, deliveries int64 }

func countRows(t *testing.T, db *storage.DB) counts {
	t.Helper()
	var c counts
	g := db.Gorm(context.Background())
	for _, x := range []struct {
		model any
		n     *int64
	}{
		{&storage.Activity{}, &c.activities}, {&storage.Object{}, &c.objects}, {&storage.Actor{}, &c.actors},
		{&storage.Membership{}, &c.memberships}, {&storage.Delivery{}, &c.deliveries},
	} {
		if err := g.Model(x.model).Count(x.n).Error; err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// Hostile requests to the inboxes: each gets its 4xx, never a 5xx, and
// stores nothing (the server would have panicked into a 500 otherwise).
func TestInboxHostileRequests(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) { inboxHostileRequests(t, d) })
	}
}

func inboxHostileRequests(t *testing.T, d storage.Dialect) {
	a := fedtest.Start(t, d)
	a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	b := fedtest.Start(t, storage.SQLite)
	bea := b.Member("bea")
	m := fedtest.NewMastodon(t)

	activity := func(fields map[string]any) []byte {
		doc := map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": m.NewID("activities"),
			"type": "Follow", "actor": m.ActorURI(), "object": group.URI}
		for k, v := range fields {
			if v == nil {
				delete(doc, k)
			} else {
				doc[k] = v
			}
		}
		body, _ := json.Marshal(doc)
		return body
	}
	signedAt := func(inbox string, body []byte, date time.Time) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(body))
		m.Sign(req, body, date)
		return req
	}
	signed := func(inbox string, body []byte) *http.Request { return signedAt(inbox, body, time.Now()) }
	// withKeys puts raw "key":value pairs first in a JSON object, where
	// json.Marshal would never write them (duplicates, case variants).
	withKeys := func(body []byte, pairs string) []byte {
		return append([]byte("{"+pairs+","), body[1:]...)
	}
	note := func() map[string]any {
		return map[string]any{"id": m.NewID("statuses"), "type": "Note", "attributedTo": m.ActorURI(), "content": "x",
			"to": []string{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []string{group.URI}}
	}

	// Warm up: the stand-in's key is fetched and cached by one valid
	// delivery (a Like of nothing we have), so that the cases below
	// measure refusals, not key fetches.
	if code := m.Do(signed(a.URL+"/inbox", activity(map[string]any{"type": "Like", "object": a.URL + "/o/none"}))); code != http.StatusAccepted {
		t.Fatalf("warm-up: %d", code)
	}
	a.Settled()

	// A request captured an hour and more ago (beyond the Date window)
	// and replayed now.
	captured := signedAt(a.URL+"/inbox", activity(nil), time.Now().Add(-61*time.Minute))

	inboxes := []string{a.URL + "/inbox", group.InboxURI, a.URL + "/u/olga/inbox"}
	type hostile struct {
		name string
		req  func(inbox string) *http.Request
		want int
	}
	cases := []hostile{
		{"no signature", func(inbox string) *http.Request {
			req, _ := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(activity(nil)))
			req.Header.Set("Content-Type", "application/activity+json")
			return req
		}, 401},
		{"garbage signature header", func(inbox string) *http.Request {
			req := signed(inbox, activity(nil))
			req.Header.Set("Signature", `keyId=,,,"=algorithm"signature`)
			return req
		}, 401},
		{"signature with unknown algorithm", func(inbox string) *http.Request {
			req := signed(inbox, activity(nil))
			req.Header.Set("Signature", strings.Replace(req.Header.Get("Signature"), "rsa-sha256", "hmac-sha256", 1))
			return req
		}, 401},
		{"signature over too few headers", func(inbox string) *http.Request {
			req := signed(inbox, activity(nil))
			req.Header.Set("Signature", strings.Replace(req.Header.Get("Signature"), "(request-target) host date digest content-type", "date", 1))
			return req
		}, 401},
		{"keyId on a host that does not exist", func(inbox string) *http.Request {
			req := signed(inbox, activity(nil))
			req.Header.Set("Signature", strings.Replace(req.Header.Get("Signature"), m.ActorURI(), "http://127.0.0.1:1/users/x", 1))
			return req
		}, 401},
		{"bad signature", func(inbox string) *http.Request {
			req := signed(inbox, activity(nil))
			req.Header.Set("Signature", strings.Replace(req.Header.Get("Signature"), `signature="`, `signature="AAAA`, 1))
			return req
		}, 401},
		{"digest mismatch", func(inbox string) *http.Request {
			body := activity(nil)
			req := signed(inbox, body)
			other := activity(map[string]any{"type": "Like"})
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(other)), int64(len(other))
			return req
		}, 401},
		{"no digest", func(inbox string) *http.Request {
			req := signed(inbox, activity(nil))
			req.Header.Del("Digest")
			return req
		}, 401},
		{"stale date", func(inbox string) *http.Request { return signedAt(inbox, activity(nil), time.Now().Add(-2*time.Hour)) }, 401},
		{"future date", func(inbox string) *http.Request { return signedAt(inbox, activity(nil), time.Now().Add(2*time.Hour)) }, 401},
		{"unparseable date", func(inbox string) *http.Request {
			req := signed(inbox, activity(nil))
			req.Header.Set("Date", "yesterday")
			return req
		}, 401},
		{"replay after the window", func(inbox string) *http.Request {
			req := captured.Clone(context.Background())
			body, _ := io.ReadAll(captured.Body)
			captured.Body = io.NopCloser(bytes.NewReader(body))
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.URL, _ = url.Parse(a.URL + "/inbox") // signed for the shared inbox
			return req
		}, 401},
		{"signed for another inbox", func(inbox string) *http.Request {
			req := signed(a.URL+"/actor/inbox", activity(nil))
			req.URL, _ = url.Parse(inbox)
			if inbox == a.URL+"/actor/inbox" {
				req.URL, _ = url.Parse(a.URL + "/inbox")
			}
			return req
		}, 401},
		{"key of another actor", func(inbox string) *http.Request {
			return signed(inbox, activity(map[string]any{"id": b.URL + "/a/forged", "actor": bea.URI}))
		}, 401},
		{"activity id on another host", func(inbox string) *http.Request {
			return signed(inbox, activity(map[string]any{"id": b.URL + "/a/not-alices"}))
		}, 403},
		{"spoofed object id", func(inbox string) *http.Request {
			return signed(inbox, activity(map[string]any{"type": "Create", "object": map[string]any{
				"id": b.URL + "/o/spoofed", "type": "Note", "attributedTo": m.ActorURI(), "content": "x", "cc": []string{group.URI}}}))
		}, 403},
		{"object attributed to another actor", func(inbox string) *http.Request {
			return signed(inbox, activity(map[string]any{"type": "Create", "object": map[string]any{
				"id": m.NewID("statuses"), "type": "Note", "attributedTo": bea.URI, "content": "x", "cc": []string{group.URI}}}))
		}, 403},
		{"update of another actor", func(inbox string) *http.Request {
			return signed(inbox, activity(map[string]any{"type": "Update", "object": map[string]any{
				"id": bea.URI, "type": "Person", "preferredUsername": "bea"}}))
		}, 403},
		{"duplicate actor key", func(inbox string) *http.Request {
			return signed(inbox, withKeys(activity(map[string]any{"type": "Create", "object": note()}), `"actor":"`+bea.URI+`"`))
		}, 400},
		{"case-variant actor key", func(inbox string) *http.Request {
			return signed(inbox, withKeys(activity(map[string]any{"type": "Create", "object": note()}), `"Actor":"`+bea.URI+`"`))
		}, 400},
		{"case-variant object key", func(inbox string) *http.Request {
			other := note()
			other["attributedTo"] = bea.URI
			raw, _ := json.Marshal(other)
			return signed(inbox, withKeys(activity(map[string]any{"type": "Create", "object": note()}), `"Object":`+string(raw)))
		}, 400},
		{"escaped case-variant key", func(inbox string) *http.Request {
			return signed(inbox, withKeys(activity(map[string]any{"type": "Create", "object": note()}), `"\u0061ctor":"`+bea.URI+`"`))
		}, 400},
		{"case-variant key in the embedded object", func(inbox string) *http.Request {
			raw, _ := json.Marshal(note())
			obj := withKeys(raw, `"AttributedTo":"`+bea.URI+`"`)
			return signed(inbox, []byte(strings.Replace(string(activity(map[string]any{"type": "Create", "object": "OBJ"})), `"OBJ"`, string(obj), 1)))
		}, 400},
		{"case-variant key in the Follow an Accept embeds", func(inbox string) *http.Request {
			follow, _ := json.Marshal(map[string]any{"id": a.URL + "/a/f", "type": "Follow", "actor": a.URL + "/u/olga", "object": m.ActorURI()})
			follow = withKeys(follow, `"Actor":"`+bea.URI+`"`)
			return signed(inbox, []byte(strings.Replace(string(activity(map[string]any{"type": "Accept", "object": "OBJ"})), `"OBJ"`, string(follow), 1)))
		}, 400},
		{"unknown activity type", func(inbox string) *http.Request {
			return signed(inbox, activity(map[string]any{"type": "Frobnicate"}))
		}, 400},
		{"type is not a string", func(inbox string) *http.Request {
			return signed(inbox, activity(map[string]any{"type": []any{1, 2}}))
		}, 400},
		{"no actor", func(inbox string) *http.Request { return signed(inbox, activity(map[string]any{"actor": nil})) }, 400},
		{"no id", func(inbox string) *http.Request { return signed(inbox, activity(map[string]any{"id": nil})) }, 400},
		{"invalid JSON", func(inbox string) *http.Request { return signed(inbox, []byte(`{"id": "x", "type":`)) }, 400},
		{"JSON array", func(inbox string) *http.Request { return signed(inbox, []byte(`[1,2,3]`)) }, 400},
		{"JSON string", func(inbox string) *http.Request { return signed(inbox, []byte(`"Follow"`)) }, 400},
		{"invalid UTF-8", func(inbox string) *http.Request {
			return signed(inbox, []byte("{\"id\":\""+m.NewID("a")+"\xff\xfe\",\"type\":\"Follow\",\"actor\":\""+m.ActorURI()+"\",\"object\":\""+group.URI+"\"}"))
		}, 400},
		{"deeply nested JSON", func(inbox string) *http.Request {
			return signed(inbox, []byte(`{"id":"`+m.NewID("f")+`","type":"Follow","actor":"`+m.ActorURI()+`","object":`+strings.Repeat(`[`, 5000)+strings.Repeat(`]`, 5000)+`}`))
		}, 400},
		{"NUL in the id", func(inbox string) *http.Request {
			return signed(inbox, activity(map[string]any{"id": m.NewID("a") + "\x00"}))
		}, 400},
		{"huge JSON under the size cap", func(inbox string) *http.Request {
			// 25,000 types (225 KB, under max_activity_bytes): a parser
			// that tried each would be slow.
			return signed(inbox, activity(map[string]any{"type": strings.Split(strings.Repeat("Follow,", 25000), ",")}))
		}, 400},
		{"body over the limit", func(inbox string) *http.Request {
			return signed(inbox, activity(map[string]any{"pad": strings.Repeat("x", 2<<20)}))
		}, 413},
		{"empty body", func(inbox string) *http.Request { return signed(inbox, nil) }, 400},
		{"text/plain", func(inbox string) *http.Request {
			req := signed(inbox, activity(nil))
			req.Header.Set("Content-Type", "text/plain")
			return req
		}, 415},
		{"application/json", func(inbox string) *http.Request {
			req := signed(inbox, activity(nil))
			req.Header.Set("Content-Type", "application/json")
			return req
		}, 415},
		{"no content type", func(inbox string) *http.Request {
			req := signed(inbox, activity(nil))
			req.Header.Del("Content-Type")
			return req
		}, 415},
	}
	for _, inbox := range inboxes {
		for _, tc := range cases {
			path := strings.TrimPrefix(inbox, a.URL)
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				before := countRows(t, a.DB)
				got := m.Do(tc.req(inbox))
				if got != tc.want {
					t.Errorf("status %d, want %d", got, tc.want)
				}
				a.Settled()
				if after := countRows(t, a.DB); after != before {
					t.Errorf("rows changed: %+v -> %+v", before, after)
				}
			})
		}
	}
	// An inbox that does not exist, and methods an inbox does not take.
	for _, r := range []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/u/nobody/inbox", 404},
		{http.MethodPost, "/c/nobody/inbox", 404},
		{http.MethodPost, "/c/olga/inbox", 404}, // a member, not a community
		{http.MethodPut, "/inbox", 405},
		{http.MethodDelete, "/c/practice/inbox", 405},
	} {
		req := signed(a.URL+r.path, activity(nil))
		req.Method = r.method
		if got := m.Do(req); got != r.want {
			t.Errorf("%s %s: %d, want %d", r.method, r.path, got, r.want)
		}
	}
}

// Odd WebFinger resources and odd paths on the public endpoints get a 4xx
// (or an answer about the right actor), never a 5xx.
func TestPublicEndpointsHostileRequests(t *testing.T) {
	a := fedtest.Start(t, storage.SQLite)
	a.Member("olga")
	a.Community("practice", false, "olga")
	before := countRows(t, a.DB)
	wf := func(resource string) string {
		return "/.well-known/webfinger?resource=" + url.QueryEscape(resource)
	}
	cases := []struct {
		path string
		want int
	}{
		{"/.well-known/webfinger", 400},
		{wf(""), 400},
		{wf("acct:"), 400},
		{wf("acct:@" + a.Domain), 400},
		{wf("acct:practice@"), 400},
		{wf("acct:practice"), 400},
		{wf("acct:practice@" + a.Domain + "@" + a.Domain), 400},
		{wf("acct:practice@other.example"), 404},
		{wf("acct:nobody@" + a.Domain), 404},
		{wf("acct:../../etc/passwd@" + a.Domain), 400},
		{wf("acct:pr\u0430ctice@" + a.Domain), 400}, // Cyrillic a
		{wf("acct:practice\x00@" + a.Domain), 400},
		{wf("acct:practice\n@" + a.Domain), 400},
		{wf("acct:practice@" + a.Domain + "\u202e"), 404},
		{wf("acct:" + strings.Repeat("a", 600) + "@" + a.Domain), 400},
		{wf("acct:%ff@" + a.Domain), 400},
		{"/.well-known/webfinger?resource=acct:practice%ff@" + a.Domain, 400},
		{wf("javascript:alert(1)"), 400},
		{wf("http://evil.example/c/practice"), 404},
		{wf("mailto:practice@" + a.Domain), 400},
		{wf(a.URL + "/c/nobody"), 404},
		{"/.well-known/webfinger?resource=a&resource=b", 400},
		{"/c/nobody", 404},
		{"/c/%00", 404},
		{"/c/" + strings.Repeat("x", 5000), 404},
		{"/u/..%2f..%2fetc", 404},
		{"/o/not-an-id", 404},
		{"/o/%ff%fe", 404},
		{"/a/00000000-0000-0000-0000-000000000000", 404},
		{"/c/practice/outbox?page=-1", 400},
		{"/c/practice/outbox?page=abc", 400},
		{"/c/practice/followers?page=99999999999999999999999", 400},
		{"/nodeinfo/3.0", 404},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			for _, accept := range []string{"application/activity+json", "text/html"} {
				req, _ := http.NewRequest(http.MethodGet, a.URL+tc.path, nil)
				req.Header.Set("Accept", accept)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.want {
					t.Errorf("Accept %s: status %d, want %d", accept, resp.StatusCode, tc.want)
				}
			}
		})
	}
	if after := countRows(t, a.DB); after != before {
		t.Errorf("rows changed: %+v -> %+v", before, after)
	}
}
