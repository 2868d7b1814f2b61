package federation

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation/policy"
	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// nodeInfoServer serves NodeInfo like a real server; links and doc may be
// replaced to misbehave. It counts requests.
type nodeInfoServer struct {
	*httptest.Server
	hits  atomic.Int64
	links func(base string) any
	doc   any
}

func newNodeInfoServer(t *testing.T, software string) *nodeInfoServer {
	n := &nodeInfoServer{}
	n.links = func(base string) any {
		return map[string]any{"links": []map[string]string{
			{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": base + "/nodeinfo/2.0"},
			{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": base + "/nodeinfo/2.1"},
			{"rel": "http://example.org/other", "href": base + "/other"},
		}}
	}
	n.doc = map[string]any{"version": "2.1", "software": map[string]string{"name": software, "version": "4.3.0"}}
	n.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.hits.Add(1)
		if !strings.Contains(r.Header.Get("Accept"), "application/json") {
			w.WriteHeader(http.StatusNotAcceptable)
			return
		}
		switch r.URL.Path {
		case "/.well-known/nodeinfo":
			json.NewEncoder(w).Encode(n.links("http://" + r.Host))
		case "/nodeinfo/2.1":
			json.NewEncoder(w).Encode(n.doc)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(n.Close)
	return n
}

func peersService(t *testing.T, db *storage.DB, opts transport.Options) *Service {
	s := NewService(db, "https://local.example", nil)
	opts.Refuse = s.RefuseURL
	s.Client = transport.New(opts)
	return s
}

func TestFormOf(t *testing.T) {
	for sw, want := range map[string]peerForm{
		"mastodon": formObject, "gotosocial": formObject, "akkoma": formObject, "misskey": formObject,
		"lemmy": formActivity, "mbin": formActivity, "piefed": formActivity, "nodebb": formActivity, "commonplace": formActivity,
		"friendica": formUnknown, "": formUnknown, "wordpress": formUnknown,
	} {
		if got := formOf(sw); got != want {
			t.Errorf("formOf(%q) = %v, want %v", sw, got, want)
		}
	}
}

func TestNodeInfoSoftware(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := peersService(t, db, transport.Options{AllowPrivate: true, MaxBodyBytes: 4096})

		good := newNodeInfoServer(t, "Mastodon")
		name, version, err := s.NodeInfoSoftware(ctx, good.URL)
		if err != nil || name != "mastodon" || version != "4.3.0" {
			t.Fatalf("NodeInfoSoftware = %q %q %v", name, version, err)
		}

		// A link to another host is not followed: nobody steers our
		// requests elsewhere.
		elsewhere := newNodeInfoServer(t, "lemmy")
		steer := newNodeInfoServer(t, "mastodon")
		steer.links = func(string) any {
			return map[string]any{"links": []map[string]string{{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": elsewhere.URL + "/nodeinfo/2.1"}}}
		}
		if _, _, err := s.NodeInfoSoftware(ctx, steer.URL); !errors.Is(err, ErrInvalid) || elsewhere.hits.Load() != 0 {
			t.Errorf("NodeInfo on another host: %v, %d requests there", err, elsewhere.hits.Load())
		}

		// Bodies are capped; names are checked.
		big := newNodeInfoServer(t, "mastodon")
		big.doc = map[string]any{"software": map[string]string{"name": "mastodon"}, "metadata": strings.Repeat("x", 8192)}
		if _, _, err := s.NodeInfoSoftware(ctx, big.URL); !errors.Is(err, transport.ErrTooLarge) {
			t.Errorf("oversized NodeInfo: %v", err)
		}
		odd := newNodeInfoServer(t, "<script>")
		if _, _, err := s.NodeInfoSoftware(ctx, odd.URL); !errors.Is(err, ErrInvalid) {
			t.Errorf("software name <script>: %v", err)
		}

		// The federation policy and the address guard apply.
		blocked := newNodeInfoServer(t, "mastodon")
		host := strings.TrimPrefix(blocked.URL, "http://")
		if _, err := s.Policy.Block(ctx, "test", policy.BlockInput{Domain: host}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.NodeInfoSoftware(ctx, blocked.URL); !errors.Is(err, ErrForbidden) || blocked.hits.Load() != 0 {
			t.Errorf("blocked host: %v, %d requests", err, blocked.hits.Load())
		}
		guarded := peersService(t, db, transport.Options{})
		if _, _, err := guarded.NodeInfoSoftware(ctx, good.URL); !errors.Is(err, transport.ErrForbiddenAddress) {
			t.Errorf("loopback without AllowPrivate: %v", err)
		}
	})
}

// A server of unknown software gets both forms until the prober has asked
// it; then the form its NodeInfo names, from the cache, also on another
// service over the same database (a replica).
func TestPeerFormsLearnt(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := peersService(t, db, transport.Options{AllowPrivate: true})
		masto, quiet := newNodeInfoServer(t, "mastodon"), httptest.NewServer(http.NotFoundHandler())
		defer quiet.Close()
		inboxes := []string{masto.URL + "/inbox", quiet.URL + "/inbox"}

		forms, err := s.peerForms(ctx, db, inboxes)
		if err != nil || forms[inboxes[0]] != formUnknown || forms[inboxes[1]] != formUnknown {
			t.Fatalf("before asking: %v %v", forms, err)
		}
		done := make(chan struct{})
		go func() { s.RunPeerProbes(ctx); close(done) }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			forms, err = s.peerForms(ctx, db, inboxes)
			if err != nil {
				t.Fatal(err)
			}
			rows, _ := db.HostsSoftware(ctx, []string{storage.DeliveryHost(inboxes[1])})
			if forms[inboxes[0]] == formObject && len(rows) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("never learnt: %v %v", forms, rows)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if forms[inboxes[1]] != formUnknown {
			t.Errorf("a server without NodeInfo reads %v", forms[inboxes[1]])
		}
		hits := masto.hits.Load()
		replica := peersService(t, db, transport.Options{AllowPrivate: true})
		if forms, err := replica.peerForms(ctx, db, inboxes[:1]); err != nil || forms[inboxes[0]] != formObject {
			t.Errorf("another replica: %v %v", forms, err)
		}
		// Known and fresh: not asked again.
		s.wantSoftware(inboxes[0])
		time.Sleep(50 * time.Millisecond)
		if masto.hits.Load() != hits {
			t.Errorf("a known server was asked again")
		}
		cancel()
		<-done
	})
}

// A fan-out to many new servers queues every one of them to be asked, in
// the order they were wanted and once each, up to probeQueue; what does
// not fit is wanted again at the next fan-out.
func TestPeerProbeQueue(t *testing.T) {
	s := NewService(nil, "https://local.example", nil)
	url := func(i int) string { return "https://h" + strconv.Itoa(i) + ".example/inbox" }
	for i := range probeQueue + 10 {
		s.wantSoftware(url(i))
		s.wantSoftware(url(i)) // already queued
	}
	s.wantSoftware("https://local.example/inbox") // ourselves: never asked
	if n := len(s.peers.waiting); n != probeQueue {
		t.Fatalf("%d hosts waiting, want %d", n, probeQueue)
	}
	for i := range probeQueue {
		p, ok := s.peers.next()
		if want := "h" + strconv.Itoa(i) + ".example"; !ok || p.host != want || p.scheme != "https" {
			t.Fatalf("probe %d: %+v %v, want %s", i, p, ok, want)
		}
	}
	if p, ok := s.peers.next(); ok {
		t.Fatalf("a probe past the bound: %+v", p)
	}
	// Taken but not yet asked: still not queued twice.
	s.wantSoftware(url(0))
	if _, ok := s.peers.next(); ok {
		t.Error("a host being asked was queued again")
	}
}
