package federation

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// The hosts of a remote members-only community's members are read from
// its followers collection, page by page, kept for a while, and read
// again sooner for a server not among them (it may just have joined);
// pages on another host are refused.
func TestCommunityHostsMember(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		var (
			mu      sync.Mutex
			members = []string{"https://b.example/u/bea"}
			reads   atomic.Int64
			nextURL string
		)
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reads.Add(1)
			base := srv.URL + "/c/circle/followers"
			w.Header().Set("Content-Type", "application/activity+json")
			mu.Lock()
			defer mu.Unlock()
			switch r.URL.RequestURI() {
			case "/c/circle/followers":
				json.NewEncoder(w).Encode(map[string]any{"id": base, "type": "OrderedCollection", "totalItems": len(members) + 1, "first": base + "?page=true"})
			case "/c/circle/followers?page=true":
				doc := map[string]any{"id": base + "?page=true", "type": "OrderedCollectionPage", "partOf": base, "orderedItems": members,
					"next": base + "?page=2"}
				if nextURL != "" {
					doc["next"] = nextURL
				}
				json.NewEncoder(w).Encode(doc)
			case "/c/circle/followers?page=2":
				json.NewEncoder(w).Encode(map[string]any{"id": base + "?page=2", "type": "OrderedCollectionPage", "partOf": base,
					"orderedItems": []string{"https://e.example/u/eve"}})
			default:
				http.NotFound(w, r)
			}
		}))
		t.Cleanup(srv.Close)
		s := peersService(t, db, transport.Options{AllowPrivate: true})
		now := time.Now()
		s.clock = func() time.Time { return now }
		group := &storage.Actor{ID: 42, URI: srv.URL + "/c/circle", FollowersURI: srv.URL + "/c/circle/followers", MembersOnly: true}

		ask := func(host string, want bool, wantReads int64) {
			t.Helper()
			got, err := s.communityHostsMember(ctx, group, host)
			if err != nil || got != want {
				t.Errorf("%s hosts a member: %v (%v), want %v", host, got, err, want)
			}
			if n := reads.Load(); n != wantReads {
				t.Errorf("after asking about %s: %d reads, want %d", host, n, wantReads)
			}
		}
		ask("B.example", true, 3) // the collection and its two pages
		ask("e.example", true, 3) // on the second page; kept
		ask("c.example", false, 3)
		mu.Lock()
		members = append(members, "https://c.example/u/cai")
		mu.Unlock()
		now = now.Add(10 * time.Second)
		ask("c.example", false, 3) // not yet looked for again
		now = now.Add(memberHostsRecheck)
		ask("c.example", true, 6) // c.example just joined
		ask("b.example", true, 6)
		now = now.Add(memberHostsTTL + time.Second)
		ask("b.example", true, 9)

		mu.Lock()
		nextURL = "https://elsewhere.example/followers?page=2"
		mu.Unlock()
		now = now.Add(memberHostsTTL + time.Second)
		if _, err := s.communityHostsMember(ctx, group, "b.example"); err == nil {
			t.Error("a page on another host was followed")
		}
		if ok, err := s.communityHostsMember(ctx, &storage.Actor{ID: 7, URI: "https://local.example/c/x", Local: true}, "b.example"); ok || err != nil {
			t.Errorf("a local community asked its own followers collection: %v %v", ok, err)
		}
	})
}
