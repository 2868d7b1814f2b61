package web_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// Page timings: a community page over 10,000 posts and a thread of 500
// replies, rendered whole (server, web, storage) over loopback HTTP.
//
//	COMMONPLACE_TEST_POSTGRES=... go test ./web -run '^$' -bench Page -benchtime 200x
//
// Results and the machine's load go in docs/benchmarks.md.

func BenchmarkCommunityPage(b *testing.B) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			if d == storage.Postgres && os.Getenv("COMMONPLACE_TEST_POSTGRES") == "" {
				b.Skip("set COMMONPLACE_TEST_POSTGRES")
			}
			f, com, _ := seedPosts(b, d, 10000, 0)
			benchGet(b, f.url+"/c/"+com)
		})
	}
}

func BenchmarkThreadPage(b *testing.B) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			if d == storage.Postgres && os.Getenv("COMMONPLACE_TEST_POSTGRES") == "" {
				b.Skip("set COMMONPLACE_TEST_POSTGRES")
			}
			f, _, root := seedPosts(b, d, 1, 500)
			benchGet(b, fmt.Sprintf("%s/posts/%d", f.url, root))
		})
	}
}

func benchGet(b *testing.B, u string) {
	client := &http.Client{Timeout: 30 * time.Second}
	get := func() {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Accept", acceptHTML)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", u, res.StatusCode)
		}
		b.SetBytes(n)
	}
	get() // warm caches and prepared statements
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		get()
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()
	if len(durations) > 0 {
		slicesSort(durations)
		b.ReportMetric(float64(durations[len(durations)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(durations[len(durations)*9/10].Microseconds())/1000, "p90-ms")
	}
}

func slicesSort(d []time.Duration) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

// seedPosts makes a community with posts top-level posts (the last one
// with replies replies) written straight into storage in batches, and
// returns the fixture, the community's name and the id of the last post.
func seedPosts(b *testing.B, d storage.Dialect, posts, replies int) (*fixture, string, int64) {
	b.Helper()
	db := storagetest.Open(b, d)
	f := newBenchFixture(b, db)
	ctx := b.Context()
	if _, err := f.svc.CreateAccount(ctx, federation.NewAccount{Username: "alice", Email: "alice@example.org"}); err != nil {
		b.Fatal(err)
	}
	if _, err := f.svc.CreateCommunity(ctx, federation.NewCommunity{Name: "big", Title: "Big", Owner: "alice"}); err != nil {
		b.Fatal(err)
	}
	alice, _ := db.GetLocalActor(ctx, "alice")
	g, _ := db.GetLocalActor(ctx, "big")
	now := time.Now().Add(-time.Duration(posts+replies) * time.Minute)
	var root *storage.Object
	const batch = 500
	for i := 0; i < posts; i += batch {
		err := db.Tx(ctx, func(tx *storage.DB) error {
			for j := i; j < min(i+batch, posts); j++ {
				uri := fmt.Sprintf("https://community.example/o/bench-%d", j)
				o := &storage.Object{URI: uri, Type: "Note", AuthorActorID: alice.ID, CommunityActorID: &g.ID, ContextURI: uri,
					Visibility: storage.VisibilityPublic, Local: true, Name: fmt.Sprintf("Post %d", j),
					Content:     fmt.Sprintf("<p>Post number %d about #phonics and reading, with a few sentences of text so that the page has the weight of real posts.</p>", j),
					PublishedAt: now.Add(time.Duration(j) * time.Minute)}
				if err := tx.CreateObject(ctx, o); err != nil {
					return err
				}
				root = o
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < replies; i += batch {
		err := db.Tx(ctx, func(tx *storage.DB) error {
			for j := i; j < min(i+batch, replies); j++ {
				o := &storage.Object{URI: fmt.Sprintf("https://community.example/o/reply-%d", j), Type: "Note", AuthorActorID: alice.ID,
					CommunityActorID: &g.ID, ContextURI: root.URI, InReplyToURI: root.URI, InReplyToID: &root.ID,
					Visibility: storage.VisibilityPublic, Local: true, Content: fmt.Sprintf("<p>Reply %d: we tried it too.</p>", j),
					PublishedAt: now.Add(time.Duration(posts+j) * time.Minute)}
				if err := tx.CreateObject(ctx, o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return f, "big", root.ID
}
