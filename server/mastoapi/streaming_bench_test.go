package mastoapi_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// The live figures of docs/benchmarks.md (issue 11): how long a post takes
// to reach a connected streaming client, from the moment the app's POST
// is sent, and what 1,000 idle WebSocket connections cost. Run with
//
//	COMMONPLACE_BENCH=1 go test -count=1 -run TestStreamingFigures -v ./server/mastoapi/
//
// (PostgreSQL too when COMMONPLACE_TEST_POSTGRES is set: there the event
// travels by NOTIFY).
func TestStreamingFigures(t *testing.T) {
	if os.Getenv("COMMONPLACE_BENCH") == "" {
		t.Skip("set COMMONPLACE_BENCH=1 to measure the streaming figures")
	}
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			n := fedtest.Start(t, d)
			w := newStreamWorld(t, n)
			ws := dialStream(t, n.URL, w.readerTok, url.Values{"stream": {"user"}})
			time.Sleep(200 * time.Millisecond)
			const posts = 60
			var lat []time.Duration
			for i := 0; i < posts; i++ {
				start := time.Now()
				w.poster.ok("POST", "/api/v1/statuses", url.Values{"status": {"@practice Update " + strings.Repeat("x", i%7)}})
				ws.next("the update", isEvent("user", "update"))
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			t.Logf("%s: post to streamed update over %d posts: p50 %v, p90 %v, max %v",
				d, posts, lat[len(lat)/2].Round(100*time.Microsecond), lat[len(lat)*9/10].Round(100*time.Microsecond), lat[len(lat)-1].Round(100*time.Microsecond))
			if lat[len(lat)/2] > 100*time.Millisecond {
				t.Errorf("p50 %v exceeds 100 ms", lat[len(lat)/2])
			}
			if d == storage.SQLite {
				idleMemory(t, n)
			}
		})
	}
}

// idleMemory opens 1,000 idle WebSocket connections, each following the
// public stream (signed out: a member may hold only a few), from another
// process (this test binary, as TestStreamingClients), and reports the
// heap and stacks they add to the server's process.
func idleMemory(t *testing.T, n *fedtest.Node) {
	const conns = 1000
	measure := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse + m.StackInuse
	}
	before := measure()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStreamingClients$")
	cmd.Env = append(os.Environ(), "COMMONPLACE_BENCH_CLIENTS="+strings.Replace(n.URL, "http://", "ws://", 1)+"/api/v1/streaming?stream=public",
		"COMMONPLACE_BENCH_CONNS="+strconv.Itoa(conns))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("clients: %q %v", line, err)
	}
	time.Sleep(2 * time.Second)
	after := measure()
	total := float64(after-before) / (1 << 20)
	t.Logf("%d idle WebSocket connections: %.1f MiB of heap and stacks in the server's process, %.1f KiB each",
		conns, total, float64(after-before)/conns/1024)
	if total > 50 {
		t.Errorf("%d idle connections cost %.1f MiB, over 50", conns, total)
	}
}

// TestStreamingClients is the client side of idleMemory, run in its own
// process: it opens the connections, says "ready", and holds them until
// its standard input closes.
func TestStreamingClients(t *testing.T) {
	u := os.Getenv("COMMONPLACE_BENCH_CLIENTS")
	if u == "" {
		t.Skip("the client process of TestStreamingFigures")
	}
	conns, _ := strconv.Atoi(os.Getenv("COMMONPLACE_BENCH_CONNS"))
	// Signed-out requests are rate-limited per address: the clients come
	// from several loopback addresses, 250 each.
	clients := map[int]*http.Client{}
	open := make([]*websocket.Conn, 0, conns)
	for i := 0; i < conns; i++ {
		src := 2 + i/250
		if clients[src] == nil {
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(src))}}
			clients[src] = &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: clients[src]})
		cancel()
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		go func() {
			for {
				if _, _, err := c.Read(context.Background()); err != nil {
					return
				}
			}
		}()
		open = append(open, c)
	}
	os.Stdout.WriteString("ready\n")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range open {
		c.CloseNow()
	}
}
