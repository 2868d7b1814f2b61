package storage_test

import (
	"context"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// Full-text search on both databases: ranked by its words (stemmed, the
// title above the text), within a community, by kind and tag, with
// snippets; an edited post is found by its new words only, a deleted one
// not at all; nothing the reader may not see.
func TestSearch(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newClientAPIFixture(t, db)
		index := func(o *storage.Object, title, text string) {
			t.Helper()
			if err := db.IndexObject(ctx, o.ID, title, text); err != nil {
				t.Fatal(err)
			}
		}
		titled := post(t, db, "http://example.test/o/1", f.member, f.group, nil)
		index(titled, "Night handover", "How do you hand over between shifts?")
		body := post(t, db, "http://example.test/o/2", f.member, f.group, nil)
		index(body, "", "We talked about the handover of medication and the handovers at night, with a checklist.")
		reply := post(t, db, "http://example.test/o/3", f.member, f.group, titled)
		index(reply, "", "A handover card helps.")
		other := post(t, db, "http://example.test/o/4", f.member, f.other, nil)
		index(other, "", "Handover elsewhere.")
		private := post(t, db, "http://example.test/o/5", f.member, f.group, nil)
		index(private, "", "Handover secrets.")
		if err := db.Gorm(ctx).Model(private).Update("visibility", storage.VisibilityDirect).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm(ctx).Model(titled).Update("kind", "question").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.PutObjectTags(ctx, body.ID, []string{"medication"}); err != nil {
			t.Fatal(err)
		}
		search := func(sf storage.SearchFilter) []storage.SearchHit {
			t.Helper()
			sf.Limit = 10
			hits, err := db.Search(ctx, sf)
			if err != nil {
				t.Fatal(err)
			}
			return hits
		}
		ids := func(hits []storage.SearchHit) []int64 {
			var out []int64
			for _, h := range hits {
				out = append(out, h.ObjectID)
			}
			return out
		}
		same := func(got []int64, want ...int64) bool {
			if len(got) != len(want) {
				return false
			}
			for i := range want {
				if got[i] != want[i] {
					return false
				}
			}
			return true
		}
		hits := search(storage.SearchFilter{Query: "handovers", CommunityActorID: f.group.ID})
		// The title match first; stemming finds "handover" for "handovers";
		// the other community's post and the direct message are not found.
		if got := ids(hits); len(got) != 3 || got[0] != titled.ID {
			t.Fatalf("handovers: %v", got)
		}
		for _, h := range hits {
			if h.ObjectID == body.ID && !strings.Contains(h.Snippet, storage.MarkStart+"handover"+storage.MarkEnd) {
				t.Errorf("snippet %q has no marked word", h.Snippet)
			}
		}
		if got := ids(search(storage.SearchFilter{Query: "handover", Kind: "question", CommunityActorID: f.group.ID})); !same(got, titled.ID) {
			t.Fatalf("questions: %v", got)
		}
		if got := ids(search(storage.SearchFilter{Query: "handover", Tag: "Medication"})); !same(got, body.ID) {
			t.Fatalf("tag: %v", got)
		}
		if got := ids(search(storage.SearchFilter{Query: "handover checklist", CommunityActorID: f.group.ID})); !same(got, body.ID) {
			t.Fatalf("two words: %v", got)
		}
		if got := ids(search(storage.SearchFilter{Query: "handover secrets", Viewer: f.member})); !same(got, private.ID) {
			t.Fatalf("the author finds their direct message: %v", got)
		}
		// Query syntax is the reader's words only.
		for _, q := range []string{`"`, `NEAR(handover`, `title:handover`, `handover*`, `-`, `'); DROP TABLE objects; --`} {
			if _, err := db.Search(ctx, storage.SearchFilter{Query: q, Limit: 5}); err != nil {
				t.Fatalf("query %q: %v", q, err)
			}
		}

		// An edit: found by its new words only.
		index(body, "", "We now use a paper card at the bedside.")
		if got := ids(search(storage.SearchFilter{Query: "checklist"})); len(got) != 0 {
			t.Fatalf("old words still find the edited post: %v", got)
		}
		if got := ids(search(storage.SearchFilter{Query: "bedside"})); !same(got, body.ID) {
			t.Fatalf("new words: %v", got)
		}
		// Deleted: gone.
		if err := db.TombstoneObject(ctx, reply.ID, reply.PublishedAt); err != nil {
			t.Fatal(err)
		}
		if got := ids(search(storage.SearchFilter{Query: "card"})); !same(got, body.ID) {
			t.Fatalf("after deleting the reply: %v", got)
		}
	})
}

// Posts stored before the index existed are listed for indexing, once.
func TestUnindexedObjects(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newClientAPIFixture(t, db)
		a := post(t, db, "http://example.test/o/1", f.member, f.group, nil)
		b := post(t, db, "http://example.test/o/2", f.member, f.group, nil)
		gone := post(t, db, "http://example.test/o/3", f.member, f.group, nil)
		if err := db.TombstoneObject(ctx, gone.ID, gone.PublishedAt); err != nil {
			t.Fatal(err)
		}
		if err := db.IndexObject(ctx, a.ID, "", "indexed"); err != nil {
			t.Fatal(err)
		}
		list, err := db.UnindexedObjects(ctx, 0, 10)
		if err != nil || len(list) != 1 || list[0].ID != b.ID || list[0].Content == "" {
			t.Fatalf("unindexed %v %v", list, err)
		}
		if list, _ := db.UnindexedObjects(ctx, b.ID, 10); len(list) != 0 {
			t.Fatalf("after %d: %v", b.ID, list)
		}
	})
}

// Related posts: sharing hashtags first (most shared first), then words of
// the title; never the post itself, replies or another community's.
func TestRelatedPosts(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newClientAPIFixture(t, db)
		mk := func(uri, title string, tags []string, group *storage.Actor, parent *storage.Object) *storage.Object {
			o := post(t, db, uri, f.member, group, parent)
			if err := db.Gorm(ctx).Model(o).Update("name", title).Error; err != nil {
				t.Fatal(err)
			}
			o.Name = title
			if err := db.IndexObject(ctx, o.ID, title, "text"); err != nil {
				t.Fatal(err)
			}
			if err := db.PutObjectTags(ctx, o.ID, tags); err != nil {
				t.Fatal(err)
			}
			return o
		}
		base := mk("http://example.test/o/1", "Night handover routines", []string{"handover", "nights"}, f.group, nil)
		two := mk("http://example.test/o/2", "Unrelated", []string{"handover", "nights"}, f.group, nil)
		one := mk("http://example.test/o/3", "Also unrelated", []string{"nights"}, f.group, nil)
		words := mk("http://example.test/o/4", "Routines for handovers", nil, f.group, nil)
		mk("http://example.test/o/5", "Handover routines elsewhere", []string{"handover"}, f.other, nil)
		mk("http://example.test/o/6", "Handover reply", []string{"handover"}, f.group, base)
		mk("http://example.test/o/7", "Coffee", nil, f.group, nil)
		ids, err := db.RelatedPosts(ctx, base, nil, 5)
		if err != nil {
			t.Fatal(err)
		}
		want := []int64{two.ID, one.ID, words.ID}
		if len(ids) != len(want) {
			t.Fatalf("related %v, want %v", ids, want)
		}
		for i := range want {
			if ids[i] != want[i] {
				t.Fatalf("related %v, want %v", ids, want)
			}
		}
	})
}
