package storage_test

import (
	"context"
	"testing"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// A community's welcome message, and the people who answer there: by
// accepted answers first, then replies, without those who opted out.
func TestNewcomers(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newClientAPIFixture(t, db)
		if w, err := db.Welcome(ctx, f.group.ID); err != nil || w != "" {
			t.Fatalf("welcome before any: %q %v", w, err)
		}
		if err := db.SetTrustedCurate(ctx, f.group.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := db.SetWelcome(ctx, f.group.ID, "Hello, introduce yourself."); err != nil {
			t.Fatal(err)
		}
		if w, _ := db.Welcome(ctx, f.group.ID); w != "Hello, introduce yourself." {
			t.Fatalf("welcome %q", w)
		}
		if on, _ := db.TrustedCurate(ctx, f.group.ID); !on {
			t.Fatal("setting the welcome reset the curation setting")
		}

		helper := localActor("helper", storage.TypePerson)
		if err := db.CreateAccount(ctx, helper, &storage.Account{Email: "helper@example.test"}); err != nil {
			t.Fatal(err)
		}
		q := post(t, db, "http://example.test/o/q", f.member, f.group, nil)
		post(t, db, "http://example.test/o/r1", f.member, f.group, q)
		post(t, db, "http://example.test/o/r2", f.member, f.group, q)
		a := post(t, db, "http://example.test/o/a", helper, f.group, q)
		post(t, db, "http://example.test/o/elsewhere", helper, f.other, nil)
		if err := db.SetAcceptedAnswer(ctx, q.ID, a.URI); err != nil {
			t.Fatal(err)
		}
		list, err := db.TopAnswerers(ctx, f.group.ID, 5)
		if err != nil || len(list) != 2 || list[0].Actor.ID != helper.ID || list[0].Accepted != 1 || list[0].Replies != 1 || list[1].Replies != 2 || list[1].Accepted != 0 {
			t.Fatalf("answerers %+v %v", list, err)
		}
		if err := db.SetAnswererOptout(ctx, helper.ID, true); err != nil {
			t.Fatal(err)
		}
		if out, _ := db.IsAnswererOptedOut(ctx, helper.ID); !out {
			t.Fatal("opt-out not recorded")
		}
		if list, _ := db.TopAnswerers(ctx, f.group.ID, 5); len(list) != 1 || list[0].Actor.ID != f.member.ID {
			t.Fatalf("answerers after opting out %+v", list)
		}
		if err := db.SetAnswererOptout(ctx, helper.ID, false); err != nil {
			t.Fatal(err)
		}
		if list, _ := db.TopAnswerers(ctx, f.group.ID, 5); len(list) != 2 {
			t.Fatalf("answerers after opting in again %+v", list)
		}
	})
}
