package storage_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// BenchmarkCommunitySearch: a ranked full-text search with snippets over
// one community of 100,000 posts (COMMONPLACE_SEARCH_POSTS changes the
// number), on each database. The words of the posts follow a Zipf law
// over a vocabulary of 5,000; the queries run in turn through common,
// middling and rare words, one and two at a time. It reports the median
// and 95th percentile of a query (p50-ms, p95-ms); docs/benchmarks.md has
// the figures and the command.
func BenchmarkCommunitySearch(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("COMMONPLACE_SEARCH_POSTS")); err == nil && v > 0 {
		n = v
	}
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			db := storagetest.Open(b, d)
			ctx := context.Background()
			group, vocab, samples := searchCorpus(b, db, n)
			// Single words from common to rare, and pairs of words that
			// occur together in some post.
			queries := []string{vocab[20], vocab[150], vocab[700], vocab[2500]}
			for _, s := range samples {
				w := strings.Fields(s)
				queries = append(queries, w[0]+" "+w[len(w)-1])
			}
			var took []time.Duration
			i := 0
			for b.Loop() {
				q := queries[i%len(queries)]
				i++
				start := time.Now()
				hits, err := db.Search(ctx, storage.SearchFilter{Query: q, CommunityActorID: group.ID, Limit: 20})
				took = append(took, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if len(hits) == 0 {
					b.Fatalf("%q found nothing", q)
				}
			}
			slices.Sort(took)
			ms := func(p float64) float64 {
				return float64(took[int(p*float64(len(took)-1))]) / float64(time.Millisecond)
			}
			b.ReportMetric(ms(0.5), "p50-ms")
			b.ReportMetric(ms(0.95), "p95-ms")
		})
	}
}

// searchCorpus fills db with a community of n posts, indexed, and returns
// the community, the vocabulary (most frequent word first) and the text
// of four posts.
func searchCorpus(b *testing.B, db *storage.DB, n int) (*storage.Actor, []string, []string) {
	b.Helper()
	ctx := context.Background()
	author := localActor("writer", storage.TypePerson)
	if err := db.CreateAccount(ctx, author, &storage.Account{Email: "writer@example.test"}); err != nil {
		b.Fatal(err)
	}
	group := localActor("big", storage.TypeGroup)
	if err := db.CreateCommunity(ctx, group, &storage.Community{Title: "Big"}, nil); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	syllables := []string{"ka", "lo", "mi", "ne", "ru", "ta", "vi", "so", "pe", "da", "ho", "ze", "bu", "fi", "gra", "tor"}
	vocab := make([]string, 0, 5000)
	seen := map[string]bool{}
	for len(vocab) < 5000 {
		var w strings.Builder
		for range 2 + rng.IntN(3) {
			w.WriteString(syllables[rng.IntN(len(syllables))])
		}
		if !seen[w.String()] {
			seen[w.String()] = true
			vocab = append(vocab, w.String())
		}
	}
	zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.1, 1, uint64(len(vocab)-1))
	text := func(words int) string {
		out := make([]string, words)
		for i := range out {
			out[i] = vocab[zipf.Uint64()]
		}
		return strings.Join(out, " ")
	}
	var samples []string
	const batch = 500
	now := time.Now().UTC()
	for start := 0; start < n; start += batch {
		size := min(batch, n-start)
		objs := make([]storage.Object, size)
		for i := range objs {
			uri := fmt.Sprintf("http://example.test/o/%d", start+i)
			objs[i] = storage.Object{URI: uri, ContextURI: uri, Type: "Note", AuthorActorID: author.ID, CommunityActorID: &group.ID,
				Content: "<p>post</p>", Local: true, Visibility: storage.VisibilityPublic, PublishedAt: now}
		}
		if err := db.Gorm(ctx).CreateInBatches(objs, batch).Error; err != nil {
			b.Fatal(err)
		}
		var sql strings.Builder
		args := make([]any, 0, 3*size)
		if db.Dialect() == storage.Postgres {
			sql.WriteString("INSERT INTO object_texts (object_id, title, body) VALUES ")
		} else {
			sql.WriteString("INSERT INTO object_fts (rowid, title, body) VALUES ")
		}
		for i, o := range objs {
			if i > 0 {
				sql.WriteString(",")
			}
			sql.WriteString("(?, ?, ?)")
			title := ""
			if i%4 == 0 {
				title = text(5)
			}
			body := text(30 + rng.IntN(50))
			if len(samples) < 4 && (start+i)%97 == 0 {
				samples = append(samples, body)
			}
			args = append(args, o.ID, title, body)
		}
		if err := db.Gorm(ctx).Exec(sql.String(), args...).Error; err != nil {
			b.Fatal(err)
		}
	}
	if db.Dialect() == storage.Postgres {
		if err := db.Gorm(ctx).Exec("ANALYZE").Error; err != nil {
			b.Fatal(err)
		}
	} else if err := db.Gorm(ctx).Exec("INSERT INTO object_fts (object_fts) VALUES ('optimize')").Error; err != nil {
		b.Fatal(err)
	}
	return group, vocab, samples
}
