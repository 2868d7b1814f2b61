package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSmallScale runs every scenario at small scale: it shows that the
// harness works and that its stand-ins verify what they receive. Timings
// are printed, never asserted.
func TestSmallScale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	o := defaultOptions()
	o.small = true
	o.dbs = "sqlite"
	o.scenarios = "fanout,inbox,process,follows,media,start"
	o.profile, o.profileSecs = filepath.Join(t.TempDir(), "p"), 1
	if os.Getenv("COMMONPLACE_TEST_POSTGRES") != "" {
		o.scenarios, o.dbs = "fanout,process,follows,media,start", "sqlite,postgres"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, o, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&out)
	lines := 0
	for sc.Scan() {
		lines++
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("summary is not one JSON line: %q", sc.Text())
		}
		t.Log(sc.Text())
		if r["start_ms"] == nil || r["rss_idle_mb"] == nil || r["rss_peak_mb"] == nil {
			t.Errorf("summary lacks start or memory: %s", sc.Text())
		}
		switch r["scenario"] {
		case "fanout":
			// Mastodon-like hosts: one request per host per post, the boost.
			if r["refused"] != 0.0 || r["requests_per_host"] != 1.0 || r["signatures_verified"] != r["requests"] || r["boosts"] != float64(r["hosts"].(float64)) || r["activity_announces"] != 0.0 ||
				r["first_post_requests_per_host"] != 2.0 {
				t.Errorf("fan-out: %s", sc.Text())
			}
			prefix, _ := r["profile"].(string)
			for _, ext := range []string{".cpu.prof", ".heap.prof"} {
				if fi, err := os.Stat(prefix + ext); prefix == "" || err != nil || fi.Size() == 0 {
					t.Errorf("fan-out profile %s: %v", ext, err)
				}
			}
		case "inbox":
			// A refusal under load (refused_by_status) is reported, not
			// failed on: this is a smoke test, not a benchmark.
			if r["accepted"] == 0.0 || r["processed"] != r["accepted"] {
				t.Errorf("inbox: %s", sc.Text())
			}
		case "process":
			// Every Create stored in the community and boosted to the
			// one follower host, once.
			n := r["activities"]
			if r["processed"] != n || r["posts_stored"] != n || r["deliveries_queued"] != n || r["duplicate_deliveries"] != 0.0 {
				t.Errorf("process: %s", sc.Text())
			}
		case "media":
			if r["uploads"] != 2.0 || r["upload_to_status_ms"] == nil {
				t.Errorf("media: %s", sc.Text())
			}
		case "follows":
			// Every follower a member, every Follow answered once (the
			// last is a second Follow from the first actor: answered
			// again, as Mastodon expects).
			n := r["activities"]
			if r["processed"] != n || r["members"] != r["actors"] || r["deliveries_queued"] != n || r["duplicate_deliveries"] != 0.0 {
				t.Errorf("follows: %s", sc.Text())
			}
		}
	}
	if lines == 0 {
		t.Fatal("no summary printed")
	}
}
