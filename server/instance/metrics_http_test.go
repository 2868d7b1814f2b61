package instance_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// TestMetricsServed checks that a running instance serves the operations
// metrics beside the HTTP ones, on their own listener, not the public one.
func TestMetricsServed(t *testing.T) {
	n := fedtest.Start(t, storage.SQLite)
	public, err := http.Get(n.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	public.Body.Close()
	if public.StatusCode != http.StatusNotFound {
		t.Errorf("public listener: GET /metrics answered %d", public.StatusCode)
	}
	aside := httptest.NewServer(n.Instance.Server.MetricsHandler())
	defer aside.Close()
	resp, err := http.Get(aside.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	for _, want := range []string{
		`commonplace_queue_pending{queue="delivery"}`,
		`commonplace_queue_oldest_age_seconds{queue="inbound"}`,
		`commonplace_deliveries_total{outcome="delivered"}`,
		`commonplace_streaming_connections 0`,
		`commonplace_web_sessions_active 0`,
		`commonplace_metrics_scrape_errors 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
