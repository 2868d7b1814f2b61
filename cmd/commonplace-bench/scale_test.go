package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"testing"
	"time"
)

// TestScaleSmall runs the scale scenario on a small generated instance:
// every page answers 200 with something in it (a page of posts, not an
// empty list), and every latest migration is undone and applied again.
// Timings are printed, never asserted.
func TestScaleSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	o := defaultOptions()
	o.small, o.scenarios, o.dbs = true, "scale", "sqlite"
	if os.Getenv("COMMONPLACE_TEST_POSTGRES") != "" {
		o.dbs = "sqlite,postgres"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, o, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	lines := 0
	for sc.Scan() {
		lines++
		t.Log(sc.Text())
		var r struct {
			Start      float64            `json:"start_ms"`
			Generate   any                `json:"generate_s"`
			Migrations map[string]float64 `json:"migrations_ms"`
			Endpoints  map[string]struct {
				P50   float64 `json:"p50_ms"`
				P99   float64 `json:"p99_ms"`
				Bytes int
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("summary is not one JSON line: %q", sc.Text())
		}
		if r.Start <= 0 || r.Generate == nil || len(r.Migrations) != len(scaleMigrations) {
			t.Errorf("start, generation or migrations missing: %s", sc.Text())
		}
		if len(r.Endpoints) < 15 {
			t.Errorf("%d pages measured", len(r.Endpoints))
		}
		for name, e := range r.Endpoints {
			// "[]" or an empty page would mean the generated instance
			// does not exercise the page.
			if e.P50 <= 0 || e.P99 < e.P50 || e.Bytes < 1000 {
				t.Errorf("%s: %+v", name, e)
			}
		}
	}
	if want := 1 + bytes.Count([]byte(o.dbs), []byte(",")); lines != want {
		t.Errorf("%d summaries, want %d", lines, want)
	}
}
