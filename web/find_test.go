package web_test

import (
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// Searching a community in the browser: posts and replies written through
// the service are found by their words with the words marked, by kind;
// an edited post by its new words only, a deleted one not at all; one
// stored before the index existed once IndexMissing has run.
func TestCommunitySearchPage(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		s := startSite(t, db, nil)
		ctx := t.Context()
		if _, err := s.svc.CreateAccount(ctx, federation.NewAccount{Username: "asa", Email: "asa@example.org", Password: pw}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.CreateCommunity(ctx, federation.NewCommunity{Name: "wards", Title: "Wards", Owner: "asa"}); err != nil {
			t.Fatal(err)
		}
		asa, _ := db.GetLocalActor(ctx, "asa")
		q, err := s.svc.Post(ctx, asa, federation.NewPost{Community: "wards", Kind: federation.KindQuestion, Title: "Night handover?", Text: "How do you hand over between shifts?", Markdown: true})
		if err != nil {
			t.Fatal(err)
		}
		story, err := s.svc.Post(ctx, asa, federation.NewPost{Community: "wards", Kind: federation.KindStory, Text: "Our handovers used a checklist.\n\nIt helped."})
		if err != nil {
			t.Fatal(err)
		}
		reply, err := s.svc.Post(ctx, asa, federation.NewPost{InReplyTo: q.URI, Text: "A bedside handover card."})
		if err != nil {
			t.Fatal(err)
		}
		visitor := s.browser()
		p := visitor.get("/c/wards/search?q=handover")
		p.must(t, 200, "Night handover?", "<mark>handovers</mark> used a checklist", "<mark>handover</mark> card")
		if p := visitor.get("/c/wards/search?q=handover&kind=question"); strings.Contains(p.body, "checklist") || !strings.Contains(p.body, "Night handover?") {
			t.Fatalf("kind filter:\n%s", p.body)
		}
		// The question's page lists the story as related (words of its title).
		visitor.get(strings.TrimPrefix(q.URI, s.url)).must(t, 200, `<h2 id="related-h">Related posts</h2>`, "Story by asa")
		// Paragraphs do not run together: "checklist." and "It" stay apart.
		visitor.get("/c/wards/search?q=helped").must(t, 200, "<mark>helped</mark>")

		if _, err := s.svc.Edit(ctx, asa, story.URI, "We switched to a paper card."); err != nil {
			t.Fatal(err)
		}
		if p := visitor.get("/c/wards/search?q=checklist"); !strings.Contains(p.body, "Nothing found") {
			t.Fatalf("the edited post is found by its old words:\n%s", p.body)
		}
		visitor.get("/c/wards/search?q=switched").must(t, 200, "<mark>switched</mark>")
		if err := s.svc.Delete(ctx, asa, reply.URI); err != nil {
			t.Fatal(err)
		}
		if p := visitor.get("/c/wards/search?q=bedside"); !strings.Contains(p.body, "Nothing found") {
			t.Fatalf("a deleted reply is found:\n%s", p.body)
		}

		// A post stored before the index existed is indexed at start.
		drop := "DELETE FROM object_fts WHERE rowid = ?"
		if db.Dialect() == storage.Postgres {
			drop = "DELETE FROM object_texts WHERE object_id = ?"
		}
		if err := db.Gorm(ctx).Exec(drop, q.ID).Error; err != nil {
			t.Fatal(err)
		}
		if p := visitor.get("/c/wards/search?q=shifts"); !strings.Contains(p.body, "Nothing found") {
			t.Fatalf("an unindexed post is found:\n%s", p.body)
		}
		s.svc.IndexMissing(ctx)
		visitor.get("/c/wards/search?q=shifts").must(t, 200, "Night handover?", "<mark>shifts</mark>")
	})
}
