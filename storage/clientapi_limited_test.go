package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// Public timelines leave out posts from limited domains; others still
// show them.
func TestPublicTimelineHidesLimitedDomains(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		post := func(domain, uri string) {
			a := &storage.Actor{URI: "https://" + domain + "/u/x", Type: storage.TypePerson, Username: "x", Domain: domain,
				InboxURI: "https://" + domain + "/u/x/inbox", KeyID: "https://" + domain + "/u/x#k"}
			if err := db.UpsertRemoteActor(ctx, a); err != nil {
				t.Fatal(err)
			}
			if err := db.CreateObject(ctx, &storage.Object{URI: uri, Type: "Note", AuthorActorID: a.ID, PublishedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		post("ok.test", "https://ok.test/n/1")
		post("sub.limited.test", "https://sub.limited.test/n/1")
		if _, _, err := db.PutDomainRule(ctx, &storage.DomainRule{Kind: storage.RuleBlock, Domain: "limited.test", Severity: storage.SeverityLimit, CreatedBy: "test"}); err != nil {
			t.Fatal(err)
		}
		public, err := db.ListStatuses(ctx, storage.StatusFilter{HideLimited: true, Page: storage.Page{Limit: 10}})
		if err != nil || len(public) != 1 || public[0].URI != "https://ok.test/n/1" {
			t.Fatalf("public timeline: %d posts, %v", len(public), err)
		}
		all, err := db.ListStatuses(ctx, storage.StatusFilter{Page: storage.Page{Limit: 10}})
		if err != nil || len(all) != 2 {
			t.Fatalf("unfiltered: %d posts, %v", len(all), err)
		}
	})
}
