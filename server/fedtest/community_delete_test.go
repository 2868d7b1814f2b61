package fedtest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// An admin deletes a community on A: B, which cached the community's key
// when its member joined, verifies the Group's Delete of itself and drops
// the membership; a Delete is queued for the Mastodon stand-in's member;
// on A the community is gone (410 and a Tombstone) from its page,
// WebFinger and the list, while its name stays taken.
func TestDeleteCommunity(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			a, b := fedtest.Start(t, d), fedtest.Start(t, d)
			a.Member("olga")
			group := a.Community("practice", false, "olga").Actor
			bea := b.Member("bea")
			if _, err := b.Service.Join(ctx, bea, a.Handle("practice")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "bea's join accepted", accepted(b, group.URI, bea.URI))
			m := fedtest.NewMastodon(t)
			if _, code := m.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
				t.Fatalf("follow: %d", code)
			}
			fedtest.Eventually(t, "the Mastodon user is a member", accepted(a, group.URI, m.ActorURI()))

			if err := a.Service.DeleteCommunity(ctx, "test", "practice"); err != nil {
				t.Fatal(err)
			}
			// The Delete is queued for the Mastodon stand-in too. It is not
			// checked there: the stand-in fetches the signer's key for
			// every POST, and a deleted community's key is no longer
			// served, where Mastodon verifies with the key it cached while
			// following (and ignores a Delete from an actor it never knew).
			var queued int64
			err := a.DB.Gorm(ctx).Table("deliveries").Joins("JOIN activities ON activities.id = deliveries.activity_id").
				Where("activities.type = ? AND activities.actor_uri = ? AND deliveries.host = ?", "Delete", group.URI, m.Domain).
				Count(&queued).Error
			if err != nil || queued != 1 {
				t.Errorf("Deletes queued for the Mastodon stand-in: %d %v", queued, err)
			}
			fedtest.Eventually(t, "B to drop bea's membership", func() (bool, error) {
				_, err := membership(b, group.URI, bea.URI)
				if errors.Is(err, storage.ErrNotFound) {
					return true, nil
				}
				return false, err
			})

			// Its page and document are gone (410, a Tombstone for servers);
			// WebFinger knows no such name.
			for _, tc := range []struct {
				path, accept string
				status       int
				body         string
			}{
				{"/c/practice", "text/html", http.StatusGone, ""},
				{"/c/practice", "application/activity+json", http.StatusGone, `"type":"Tombstone"`},
				{"/.well-known/webfinger?resource=acct:practice@" + a.Domain, "", http.StatusNotFound, ""},
			} {
				req, _ := http.NewRequest(http.MethodGet, a.URL+tc.path, nil)
				if tc.accept != "" {
					req.Header.Set("Accept", tc.accept)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
					t.Errorf("GET %s (%s) after deletion: %d %s", tc.path, tc.accept, res.StatusCode, body)
				}
			}
			if cs, err := a.DB.ListCommunities(ctx, 10); err != nil || len(cs) != 0 {
				t.Errorf("communities after deletion: %d %v", len(cs), err)
			}
			if _, err := a.Service.CreateCommunity(ctx, federation.NewCommunity{Name: "practice", Title: "Practice again"}); !errors.Is(err, storage.ErrConflict) {
				t.Errorf("the name was given again: %v", err)
			}
			if err := a.Service.DeleteCommunity(ctx, "test", "practice"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("deleting twice: %v", err)
			}
		})
	}
}

// A moderator changes a community's settings on A: the Mastodon stand-in
// receives the Group in an Update, and B's copy of the Group takes the
// new title.
func TestUpdateCommunity(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			a, b := fedtest.Start(t, d), fedtest.Start(t, d)
			olga := a.Member("olga")
			group := a.Community("practice", false, "olga").Actor
			bea := b.Member("bea")
			if _, err := b.Service.Join(ctx, bea, a.Handle("practice")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "bea's join accepted", accepted(b, group.URI, bea.URI))
			m := fedtest.NewMastodon(t)
			if _, code := m.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
				t.Fatalf("follow: %d", code)
			}
			fedtest.Eventually(t, "the Mastodon user is a member", accepted(a, group.URI, m.ActorURI()))

			if _, err := a.Service.UpdateCommunity(ctx, olga, group.URI, federation.CommunitySettings{
				Title: "Practice and craft", Summary: "Cases and tools.", Tags: []string{"reading"}, Closed: true,
			}); err != nil {
				t.Fatal(err)
			}
			m.WaitFor("the Group's Update", func(r fedtest.Received) bool {
				obj, _ := r.Doc["object"].(map[string]any)
				return r.Type == "Update" && obj != nil && obj["id"] == group.URI && obj["name"] == "Practice and craft" &&
					obj["manuallyApprovesFollowers"] == true
			})
			fedtest.Eventually(t, "B to take the new title", func() (bool, error) {
				g, err := b.DB.GetActorByURI(ctx, group.URI)
				return err == nil && g.DisplayName == "Practice and craft", err
			})
			if _, err := a.Service.UpdateCommunity(ctx, a.Member("nobody"), group.URI, federation.CommunitySettings{Title: "Mine"}); !errors.Is(err, federation.ErrForbidden) {
				t.Errorf("a non-moderator's update: %v", err)
			}
		})
	}
}
