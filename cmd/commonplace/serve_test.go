package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestServeEndToEnd runs `serve` in-process on a loopback listener against
// each database: ready, answering WebFinger for a community created by the
// CLI beforehand, and shutting down cleanly when its context ends.
func TestServeEndToEnd(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		ln := listenLoopback(t)
		domain := ln.Addr().String()
		c.env["COMMONPLACE_DOMAIN"] = domain
		c.env["COMMONPLACE_PROTOCOL"] = "http"
		c.env["COMMONPLACE_LOG_LEVEL"] = "info"
		metricsLn := listenLoopback(t)
		metricsAddr := metricsLn.Addr().String()
		metricsLn.Close() // serve listens there itself
		c.env["COMMONPLACE_METRICS_LISTEN"] = metricsAddr
		c.ok("community", "create", "practice", "--title", "Practice", "--tag", "testing")

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var stdout, stderr syncBuffer
		a := &app{env: env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, LookupEnv: c.lookup}, listener: ln}
		exited := make(chan int, 1)
		go func() { exited <- a.execute(ctx, []string{"serve"}) }()

		base := "http://" + domain
		client := &http.Client{Timeout: 5 * time.Second}
		waitReady(t, client, base+"/readyz", exited, &stderr)
		// Metrics on their own listener, never on the public one.
		waitReady(t, client, "http://"+metricsAddr+"/metrics", exited, &stderr)
		if resp, err := client.Get(base + "/metrics"); err != nil {
			t.Fatal(err)
		} else if resp.Body.Close(); resp.StatusCode != http.StatusNotFound {
			t.Errorf("public listener: GET /metrics answered %d", resp.StatusCode)
		}

		resource := "acct:practice@" + domain
		resp, err := client.Get(base + "/.well-known/webfinger?resource=" + url.QueryEscape(resource))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("webfinger: %d %s", resp.StatusCode, body)
		}
		var jrd struct {
			Subject string `json:"subject"`
			Links   []struct {
				Rel, Type, Href string
			} `json:"links"`
		}
		if err := json.Unmarshal(body, &jrd); err != nil {
			t.Fatalf("webfinger body %s: %v", body, err)
		}
		if jrd.Subject != resource {
			t.Errorf("subject = %q, want %q", jrd.Subject, resource)
		}
		self := false
		for _, l := range jrd.Links {
			self = self || l.Rel == "self" && l.Href == base+"/c/practice"
		}
		if !self {
			t.Errorf("no self link to %s/c/practice in %s", base, body)
		}

		cancel()
		select {
		case code := <-exited:
			if code != 0 {
				t.Fatalf("serve exited %d:\n%s", code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("serve did not shut down:\n%s", stderr.String())
		}
		logs := stderr.String()
		for _, want := range []string{base, domain, "shutting down", "stopped"} {
			if !strings.Contains(logs, want) {
				t.Errorf("logs do not mention %q:\n%s", want, logs)
			}
		}
	})
}

// waitReady polls url until it answers 200, failing early if serve exits.
func waitReady(t *testing.T, client *http.Client, url string, exited <-chan int, logs *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-exited:
			t.Fatalf("serve exited %d before it was ready:\n%s", code, logs.String())
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready within a minute:\n%s", url, logs.String())
}
