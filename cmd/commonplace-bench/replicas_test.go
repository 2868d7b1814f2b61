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

// TestSmallReplicas runs process and follows at small scale with two
// replicas on PostgreSQL: every activity is processed once, by one replica
// or the other, and the run accounts for the processor time. Timings are
// printed, never asserted.
func TestSmallReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	if os.Getenv("COMMONPLACE_TEST_POSTGRES") == "" {
		t.Skip("replicas need PostgreSQL: set COMMONPLACE_TEST_POSTGRES")
	}
	o := defaultOptions()
	o.small, o.dbs, o.scenarios, o.replicas = true, "postgres", "process,follows", 2
	// With a processor quota per replica where cgroups allow it (root,
	// cgroup v1's cpu controller).
	quota := false
	if f, err := os.OpenFile(filepath.Join(cpuCgroupRoot, "cgroup.procs"), os.O_WRONLY, 0); err == nil {
		f.Close()
		o.replicaCPU, quota = 1, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, o, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&out)
	lines := 0
	for sc.Scan() {
		lines++
		t.Log(sc.Text())
		var r struct {
			Scenario         string
			Activities       int64
			Processed        int64
			Replicas         int
			ReplicaProcessed []int64   `json:"replica_processed"`
			ReplicaCPU       []float64 `json:"replica_cpu_ms"`
			MarkedTwice      *int64    `json:"marked_done_twice"`
			Duplicates       *int64    `json:"duplicate_deliveries"`
			DeliveriesQueued int64     `json:"deliveries_queued"`
			ServerCPU        *float64  `json:"server_cpu_ms_per_activity"`
			PostgresCPU      *float64  `json:"pg_cpu_ms_per_activity"`
			MachineBusyCores *float64  `json:"machine_busy_cores"`
			Throttled        []float64 `json:"replica_throttled_ms"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("summary is not one JSON line: %q", sc.Text())
		}
		var sum int64
		for _, n := range r.ReplicaProcessed {
			sum += n
		}
		// Two wake-ups, one per replica, on top of the backlog.
		if r.Replicas != 2 || r.Activities != 202 || r.Processed != r.Activities || len(r.ReplicaProcessed) != 2 || sum != r.Activities || len(r.ReplicaCPU) != 2 {
			t.Errorf("%s: not every activity processed once by the two replicas: %s", r.Scenario, sc.Text())
		}
		if r.MarkedTwice == nil || *r.MarkedTwice != 0 || r.Duplicates == nil || *r.Duplicates != 0 || r.DeliveriesQueued != r.Activities {
			t.Errorf("%s: work done twice: %s", r.Scenario, sc.Text())
		}
		if r.ServerCPU == nil || r.PostgresCPU == nil || r.MachineBusyCores == nil || *r.PostgresCPU <= 0 {
			t.Errorf("%s: processor time not accounted for: %s", r.Scenario, sc.Text())
		}
		if quota && len(r.Throttled) != 2 {
			t.Errorf("%s: no quota reported: %s", r.Scenario, sc.Text())
		}
	}
	if lines != 2 {
		t.Fatalf("%d summaries printed, want 2", lines)
	}
}
