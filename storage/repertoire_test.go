package storage_test

import (
	"context"
	"testing"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// A repertoire keeps its order and sections, leaves out posts deleted or
// taken out of the community, and trusted members curate only where the
// community lets them.
func TestRepertoire(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newClientAPIFixture(t, db)
		a := post(t, db, "http://example.test/o/a", f.member, f.group, nil)
		b := post(t, db, "http://example.test/o/b", f.member, f.group, nil)
		c := post(t, db, "http://example.test/o/c", f.member, f.group, nil)
		uris := func() []string {
			t.Helper()
			items, err := db.ListRepertoire(ctx, f.group.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, it := range items {
				out = append(out, it.Section+":"+it.Object.URI)
				if it.Object.AuthorActor == nil || it.Object.CommunityActor == nil {
					t.Fatal("repertoire item without its author or community")
				}
			}
			return out
		}
		want := func(w ...string) {
			t.Helper()
			got := uris()
			if len(got) != len(w) {
				t.Fatalf("repertoire %v, want %v", got, w)
			}
			for i := range w {
				if got[i] != w[i] {
					t.Fatalf("repertoire %v, want %v", got, w)
				}
			}
		}
		set := []storage.RepertoireItem{{ObjectID: c.ID, Section: "Start here"}, {ObjectID: a.ID, Section: "Start here"}, {ObjectID: b.ID, Section: "Cases"}}
		if err := db.SetRepertoire(ctx, f.group.ID, set); err != nil {
			t.Fatal(err)
		}
		want("Start here:"+c.URI, "Start here:"+a.URI, "Cases:"+b.URI)
		if err := db.SetRepertoire(ctx, f.group.ID, set[1:]); err != nil {
			t.Fatal(err)
		}
		want("Start here:"+a.URI, "Cases:"+b.URI)
		// A members post is listed for members only.
		if err := db.Gorm(ctx).Model(b).Update("visibility", storage.VisibilityMembers).Error; err != nil {
			t.Fatal(err)
		}
		for _, v := range []struct {
			viewer *storage.Actor
			n      int
		}{{nil, 1}, {f.member, 2}} {
			items, err := db.ListRepertoireFor(ctx, f.group.ID, v.viewer, 10)
			if err != nil || len(items) != v.n {
				t.Fatalf("%v reads %d items (%v), want %d", v.viewer, len(items), err, v.n)
			}
		}
		in, err := db.RepertoireOf(ctx, []int64{a.ID, c.ID})
		if err != nil || !in[a.ID] || in[c.ID] {
			t.Fatalf("repertoire of: %v %v", in, err)
		}
		if err := db.TombstoneObject(ctx, a.ID, a.PublishedAt); err != nil {
			t.Fatal(err)
		}
		if err := db.DetachObject(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		want()

		ok, err := db.IsCurator(ctx, f.group.ID, f.member.ID)
		if err != nil || ok {
			t.Fatalf("curator before being trusted: %v %v", ok, err)
		}
		if err := db.SetCurator(ctx, f.group.ID, f.member.ID, true); err != nil {
			t.Fatal(err)
		}
		if ok, _ := db.IsCurator(ctx, f.group.ID, f.member.ID); ok {
			t.Fatal("a trusted member curates where the community does not let them")
		}
		for _, on := range []bool{true, false, true} {
			if err := db.SetTrustedCurate(ctx, f.group.ID, on); err != nil {
				t.Fatal(err)
			}
			if got, _ := db.TrustedCurate(ctx, f.group.ID); got != on {
				t.Fatalf("trusted_curate %v, want %v", got, on)
			}
		}
		if ok, _ := db.IsCurator(ctx, f.group.ID, f.member.ID); !ok {
			t.Fatal("a trusted member may not curate where the community lets them")
		}
		if list, err := db.Curators(ctx, f.group.ID, 10); err != nil || len(list) != 1 {
			t.Fatalf("curators %v %v", list, err)
		}
		if err := db.SetCurator(ctx, f.group.ID, f.member.ID, false); err != nil {
			t.Fatal(err)
		}
		if ok, _ := db.IsCurator(ctx, f.group.ID, f.member.ID); ok {
			t.Fatal("an untrusted member still curates")
		}
	})
}
