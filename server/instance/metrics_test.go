package instance

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// TestOpsCollector fills both queues, fails a host and opens a session,
// then reads the collector as Prometheus would.
func TestOpsCollector(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		a := &storage.Actor{URI: "http://example.test/u/alice", Type: storage.TypePerson, Username: "alice", Domain: "example.test",
			Local: true, InboxURI: "http://example.test/u/alice/inbox", KeyID: "http://example.test/u/alice#main-key", PublicKeyPEM: "pem"}
		acct := &storage.Account{Email: "alice@example.org"}
		if err := db.CreateAccount(ctx, a, acct); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PutInboundActivity(ctx, &storage.Activity{URI: "https://r.test/a/1", Type: "Create", ActorURI: "https://r.test/u/x", Raw: "{}"}); err != nil {
			t.Fatal(err)
		}
		sent := &storage.Activity{URI: "http://example.test/a/1", Type: "Create", ActorURI: a.URI, Raw: "{}"}
		if err := db.PutLocalActivity(ctx, sent); err != nil {
			t.Fatal(err)
		}
		if _, err := db.EnqueueDeliveries(ctx, sent.ID, a.ID, []string{"https://r.test/inbox", "https://down.test/inbox"}); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := db.RecordHostFailure(ctx, "down.test", now); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.CreateSession(ctx, &storage.Session{TokenHash: "h", AccountID: acct.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}

		hide := false
		c := newOpsCollector(db, nil, func(context.Context) bool { return hide })
		c.now = func() time.Time { return now.Add(time.Minute) }
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		got := gather(t, reg)
		for series, want := range map[string]float64{
			`commonplace_delivery_host_consecutive_failures{host="down.test"}`: 3,
			`commonplace_queue_pending{queue="delivery"}`:                      2,
			`commonplace_queue_pending{queue="inbound"}`:                       1,
			`commonplace_queue_due{queue="delivery"}`:                          2,
			`commonplace_queue_due{queue="inbound"}`:                           1,
			`commonplace_web_sessions_active`:                                  1,
			`commonplace_metrics_scrape_errors`:                                0,
		} {
			if v, ok := got[series]; !ok || v != want {
				t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
			}
		}
		// The rows were queued a minute before the scrape's clock.
		for _, q := range []string{"inbound", "delivery"} {
			series := `commonplace_queue_oldest_age_seconds{queue="` + q + `"}`
			if v := got[series]; v < 50 || v > 70 {
				t.Errorf("%s = %v, want about 60", series, v)
			}
		}

		// Scrapes within cacheFor read the database once.
		if _, err := db.PutInboundActivity(ctx, &storage.Activity{URI: "https://r.test/a/2", Type: "Create", ActorURI: "https://r.test/u/x", Raw: "{}"}); err != nil {
			t.Fatal(err)
		}
		if got := gather(t, reg)[`commonplace_queue_pending{queue="inbound"}`]; got != 1 {
			t.Errorf("inbound within the cache time: %v, want the cached 1", got)
		}
		c.now = func() time.Time { return now.Add(time.Minute + cacheFor) }
		if got := gather(t, reg)[`commonplace_queue_pending{queue="inbound"}`]; got != 2 {
			t.Errorf("inbound after the cache time: %v, want 2", got)
		}

		// In allowlist mode no host is named, cached or not.
		hide = true
		for series := range gather(t, reg) {
			if strings.Contains(series, "down.test") {
				t.Errorf("allowlist mode shows %s", series)
			}
		}
	})
}

// gather reads reg into a map from series (name{labels}) to value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			name := mf.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetGauge() != nil:
				out[name] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				out[name] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}
