package fedtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

func isAnnounceOf(id string) func(fedtest.Received) bool {
	return func(r fedtest.Received) bool { return r.Type == "Announce" && r.Doc["object"] == id }
}

// announcesActivityOf matches the FEP-1b12 form: Announce{Create{object}}.
func announcesActivityOf(objectID string) func(fedtest.Received) bool {
	return func(r fedtest.Received) bool {
		inner, ok := r.Doc["object"].(map[string]any)
		if !ok || r.Type != "Announce" || inner["type"] != "Create" {
			return false
		}
		obj, _ := inner["object"].(map[string]any)
		return obj != nil && obj["id"] == objectID
	}
}

// A Mastodon account follows a community, posts to it by mention, and
// receives boosts it can render, all through a stand-in that checks
// signatures as strictly as Mastodon does.
func TestMastodonMember(t *testing.T) {
	ctx := context.Background()
	a, b := fedtest.Start(t, storage.SQLite), fedtest.Start(t, storage.SQLite)
	a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	bea := b.Member("bea")
	if _, err := b.Service.Join(ctx, bea, a.Handle("practice")); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "bea's join accepted", accepted(b, group.URI, bea.URI))

	m := fedtest.NewMastodon(t)
	followID, code := m.Follow(group.URI, group.InboxURI)
	if code != http.StatusAccepted {
		t.Fatalf("Follow answered %d", code)
	}
	acc := m.WaitFor("Accept of the Follow", func(r fedtest.Received) bool { return r.Type == "Accept" })
	embedded, ok := acc.Doc["object"].(map[string]any)
	if !ok || embedded["id"] != followID || embedded["type"] != "Follow" || acc.Doc["actor"] != group.URI {
		t.Fatalf("Accept must embed the Follow as received: %s", acc.Raw)
	}
	fedtest.Eventually(t, "alice is a member on A", accepted(a, group.URI, m.ActorURI()))
	a.WaitSoftware(m.Domain)

	noteID, code := m.PostToGroup(group.URI, a.Handle("practice"), group.InboxURI, "Any tips on sepsis screening?")
	if code != http.StatusAccepted {
		t.Fatalf("Create answered %d", code)
	}
	fedtest.Eventually(t, "A stores alice's post in the community", func() (bool, error) {
		o, err := object(a, noteID)
		return err == nil && o.CommunityActorID != nil && *o.CommunityActorID == group.ID, err
	})
	fedtest.Eventually(t, "bea on B receives alice's post", func() (bool, error) {
		o, err := object(b, noteID)
		return err == nil && strings.Contains(o.Content, "sepsis"), err
	})
	boost := m.WaitFor("boost of alice's post", isAnnounceOf(noteID))
	if boost.BoostErr != nil {
		t.Fatalf("Mastodon could not render the boost: %v", boost.BoostErr)
	}

	// A Commonplace member's post reaches Mastodon as a boost it renders.
	post, err := b.Service.Post(ctx, bea, federation.NewPost{Community: a.Handle("practice"), Text: "Our screening checklist <3"})
	if err != nil {
		t.Fatal(err)
	}
	boost = m.WaitFor("boost of bea's post", isAnnounceOf(post.URI))
	if boost.BoostErr != nil {
		t.Fatalf("Mastodon could not render the boost: %v", boost.BoostErr)
	}
	if note := boost.Boost; note["audience"] != group.URI || !strings.Contains(note["content"].(string), "checklist &lt;3") {
		t.Fatalf("boosted note: %v", note)
	}

	// A reply is boosted too: Mastodon reads no other form.
	reply, err := b.Service.Post(ctx, bea, federation.NewPost{InReplyTo: noteID, Text: "Use qSOFA."})
	if err != nil {
		t.Fatal(err)
	}
	if r := m.WaitFor("boost of the reply", isAnnounceOf(reply.URI)); r.BoostErr != nil {
		t.Fatalf("Mastodon could not render the reply's boost: %v", r.BoostErr)
	}
	a.Settled()
	// One request per post: no Announce of an activity, which Mastodon
	// would take for a boost of something it cannot show.
	if failed := m.BoostFailures(); len(failed) > 0 {
		t.Fatalf("Announces Mastodon could not show: %v", failed)
	}
	if n := len(m.Received()); n != 5 {
		for _, r := range m.Received() {
			t.Logf("%s %v by %v", r.Type, r.Doc["object"], r.Doc["actor"])
		}
		t.Fatalf("the Mastodon server got %d activities, want 5 (Accept, three boosts, and the reply to alice from its author)", n)
	}
	if refused := m.Refused(); len(refused) > 0 {
		t.Fatalf("the stand-in refused deliveries: %v", refused)
	}

	// The stand-in is as strict as Mastodon: unsigned and wrongly signed
	// deliveries are refused.
	body := []byte(`{"id":"` + group.URI + `#x","type":"Announce","actor":"` + group.URI + `","object":"` + noteID + `"}`)
	req, _ := http.NewRequest(http.MethodPost, m.ActorURI()+"/inbox", bytes.NewReader(body))
	if code := m.Do(req); code != http.StatusUnauthorized {
		t.Fatalf("unsigned delivery to the stand-in: %d, want 401", code)
	}
	if n := len(m.Refused()); n != 1 {
		t.Fatalf("refused %d, want 1", n)
	}
}

// Hostile or broken inbox requests get their 4xx and store nothing.
func TestInboxRejectsBadInput(t *testing.T) {
	a := fedtest.Start(t, storage.SQLite)
	a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	b := fedtest.Start(t, storage.SQLite)
	bea := b.Member("bea")
	m := fedtest.NewMastodon(t)
	inbox := a.URL + "/inbox"

	follow := func(id string) []byte {
		body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
			"id": id, "type": "Follow", "actor": m.ActorURI(), "object": group.URI})
		return body
	}
	signed := func(body []byte, date time.Time) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(body))
		m.Sign(req, body, date)
		return req
	}
	cases := []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"no signature", func() *http.Request {
			req, _ := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(follow(m.NewID("f"))))
			req.Header.Set("Content-Type", "application/activity+json")
			return req
		}, http.StatusUnauthorized},
		{"wrong signature", func() *http.Request {
			req := signed(follow(m.NewID("f")), time.Now())
			sig := req.Header.Get("Signature")
			i := strings.Index(sig, `signature="`) + len(`signature="`)
			flipped := []byte(sig)
			if flipped[i] == 'A' {
				flipped[i] = 'B'
			} else {
				flipped[i] = 'A'
			}
			req.Header.Set("Signature", string(flipped))
			return req
		}, http.StatusUnauthorized},
		{"digest mismatch", func() *http.Request {
			body := follow(m.NewID("f"))
			req := signed(body, time.Now())
			tampered := bytes.Replace(body, []byte(`"Follow"`), []byte(`"Follow" `), 1)
			req.Body = nopCloser(tampered)
			req.ContentLength = int64(len(tampered))
			return req
		}, http.StatusUnauthorized},
		{"stale date", func() *http.Request { return signed(follow(m.NewID("f")), time.Now().Add(-3*time.Hour)) }, http.StatusUnauthorized},
		{"future date", func() *http.Request { return signed(follow(m.NewID("f")), time.Now().Add(3*time.Hour)) }, http.StatusUnauthorized},
		{"key of another actor", func() *http.Request {
			body, _ := json.Marshal(map[string]any{"id": b.URL + "/a/forged", "type": "Follow", "actor": bea.URI, "object": group.URI})
			return signed(body, time.Now())
		}, http.StatusUnauthorized},
		{"spoofed object id", func() *http.Request {
			body, _ := json.Marshal(map[string]any{"id": m.NewID("activity"), "type": "Create", "actor": m.ActorURI(),
				"to": []string{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []string{group.URI},
				"object": map[string]any{"id": b.URL + "/o/spoofed", "type": "Note", "attributedTo": m.ActorURI(), "content": "spoof", "cc": []string{group.URI}}})
			return signed(body, time.Now())
		}, http.StatusForbidden},
		{"object attributed to someone else", func() *http.Request {
			body, _ := json.Marshal(map[string]any{"id": m.NewID("activity"), "type": "Create", "actor": m.ActorURI(),
				"object": map[string]any{"id": m.NewID("statuses"), "type": "Note", "attributedTo": m.ActorURI() + "x", "content": "spoof"}})
			return signed(body, time.Now())
		}, http.StatusForbidden},
		{"activity id on another host", func() *http.Request {
			return signed(follow(b.URL+"/a/not-alices"), time.Now())
		}, http.StatusForbidden},
		{"oversized body", func() *http.Request {
			body := []byte(`{"id":"` + m.NewID("f") + `","type":"Follow","actor":"` + m.ActorURI() + `","object":"` + group.URI + `","pad":"` + strings.Repeat("x", 2<<20) + `"}`)
			return signed(body, time.Now())
		}, http.StatusRequestEntityTooLarge},
		{"invalid JSON", func() *http.Request { return signed([]byte(`{"id": "x", "type":`), time.Now()) }, http.StatusBadRequest},
		{"deeply nested JSON", func() *http.Request {
			return signed([]byte(`{"id":"`+m.NewID("f")+`","type":"Follow","actor":"`+m.ActorURI()+`","object":`+strings.Repeat(`{"a":`, 100)+`1`+strings.Repeat(`}`, 100)+`}`), time.Now())
		}, http.StatusBadRequest},
		{"unknown activity type", func() *http.Request {
			body, _ := json.Marshal(map[string]any{"id": m.NewID("x"), "type": "Frobnicate", "actor": m.ActorURI(), "object": group.URI})
			return signed(body, time.Now())
		}, http.StatusBadRequest},
		{"wrong content type", func() *http.Request {
			req := signed(follow(m.NewID("f")), time.Now())
			req.Header.Set("Content-Type", "text/plain")
			return req
		}, http.StatusUnsupportedMediaType},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := a.DB.CountActivities(ctx, "")
			if got := m.Do(tc.req()); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
			after, _ := a.DB.CountActivities(ctx, "")
			if after != before {
				t.Fatalf("%d activities stored", after-before)
			}
			if n, _ := a.DB.CountObjects(ctx, storage.ObjectFilter{}); n != 0 {
				t.Fatalf("%d objects stored", n)
			}
		})
	}

	// The same activity delivered twice is processed once.
	id := m.NewID("f")
	for range 2 {
		if code := m.Do(signed(follow(id), time.Now())); code != http.StatusAccepted {
			t.Fatalf("valid Follow: %d", code)
		}
	}
	fedtest.Eventually(t, "the Follow processed", accepted(a, group.URI, m.ActorURI()))
	a.Settled()
	accepts := 0
	for _, r := range m.Received() {
		if r.Type == "Accept" {
			accepts++
		}
	}
	if accepts != 1 {
		t.Fatalf("%d Accepts sent for one Follow delivered twice", accepts)
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func nopCloser(b []byte) readCloser { return readCloser{bytes.NewReader(b)} }

// A Mastodon account can follow a member, not only a community: it gets
// the member's posts from the member's own server.
func TestMastodonFollowsMember(t *testing.T) {
	ctx := context.Background()
	a, b := fedtest.Start(t, storage.SQLite), fedtest.Start(t, storage.SQLite)
	a.Member("olga")
	a.Community("practice", false, "olga")
	bea := b.Member("bea")
	m := fedtest.NewMastodon(t)
	if _, code := m.Follow(bea.URI, bea.InboxURI); code != http.StatusAccepted {
		t.Fatalf("follow of a member: %d", code)
	}
	m.WaitFor("Accept from bea", func(r fedtest.Received) bool { return r.Type == "Accept" && r.Doc["actor"] == bea.URI })
	post, err := b.Service.Post(ctx, bea, federation.NewPost{Community: a.Handle("practice"), Text: "Posted to a community"})
	if err != nil {
		t.Fatal(err)
	}
	create := m.WaitFor("bea's Create", func(r fedtest.Received) bool {
		obj, _ := r.Doc["object"].(map[string]any)
		return r.Type == "Create" && r.Doc["actor"] == bea.URI && obj != nil && obj["id"] == post.URI
	})
	if !strings.Contains(string(create.Raw), bea.FollowersURI) {
		t.Errorf("the Create does not address bea's followers: %s", create.Raw)
	}
	// Her followers collection counts the Mastodon account.
	req, _ := http.NewRequest(http.MethodGet, bea.FollowersURI, nil)
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var col struct {
		TotalItems int `json:"totalItems"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&col); err != nil || col.TotalItems != 1 {
		t.Fatalf("followers totalItems %d, %v", col.TotalItems, err)
	}
}
