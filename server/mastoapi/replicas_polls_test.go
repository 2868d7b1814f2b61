package mastoapi_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation/push/pushtest"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// Two replicas on one PostgreSQL both run the poll worker and the push
// worker: a mention is pushed once, and an ended poll's final totals are
// sent once, whichever replica claims them.
func TestPollsAndPushAcrossReplicas(t *testing.T) {
	a := fedtest.StartWith(t, storage.Postgres, func(c *config.Config) { c.PollUpdateDelay = 0 })
	b := a.Replica()
	member(t, a, "ana")
	member(t, a, "bo")
	a.Community("practice", false, "ana")
	anaTok := tokenFor(t, a, "ana", "read write push")
	anaOnB, boOnA := newClient(t, b, anaTok), newClient(t, a, tokenFor(t, a, "bo", "read write"))
	ps := pushtest.New(t)
	expect(t, anaOnB.do("POST", "/api/v1/push/subscription", url.Values{
		"subscription[endpoint]": {ps.Endpoint()}, "subscription[keys][p256dh]": {ps.P256dh()}, "subscription[keys][auth]": {ps.Auth()},
		"data[alerts][mention]": {"true"},
	}), 200, "WebPushSubscription")
	boOnA.ok("POST", "/api/v1/statuses", url.Values{"status": {"@ana are you on tonight?"}, "visibility": {"direct"}})
	ctx := context.Background()
	queued := func() (bool, error) {
		var n int64
		err := a.DB.Gorm(ctx).Table("push_deliveries").Count(&n).Error
		return len(ps.Pushes()) > 0 && n == 0, err
	}
	fedtest.Eventually(t, "the mention pushed and the queue empty", queued)
	if got := len(ps.Pushes()); got != 1 {
		t.Fatalf("%d pushes for one mention", got)
	}

	st := expect(t, anaOnB.do("POST", "/api/v1/statuses", map[string]any{
		"status": "@practice Day or night handover?", "poll": map[string]any{"options": []string{"Day", "Night"}, "expires_in": 3600},
	}), 200, "Status").(map[string]any)
	ana, err := a.DB.GetLocalActor(ctx, "ana")
	if err != nil {
		t.Fatal(err)
	}
	m := fedtest.NewMastodon(t)
	if code := m.Vote(ana.InboxURI, str(st["uri"]), ana.URI, "Night", 1); code != 202 {
		t.Fatalf("vote: %d", code)
	}
	closed := func(r fedtest.Received) bool {
		q, _ := r.Doc["object"].(map[string]any)
		return r.Type == "Update" && q["closed"] != nil
	}
	m.WaitFor("the totals after alice's vote", func(r fedtest.Received) bool {
		q, _ := r.Doc["object"].(map[string]any)
		return r.Type == "Update" && q["votersCount"] == 1.0
	})
	if err := a.DB.Gorm(ctx).Table("polls").Where("id = ?", str(field(st, "poll", "id"))).Update("expires_at", "2000-01-01T00:00:00Z").Error; err != nil {
		t.Fatal(err)
	}
	m.WaitFor("the final totals", closed)
	a.Settled()
	n := 0
	for _, r := range m.Received() {
		if closed(r) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the final totals were sent %d times", n)
	}
}
