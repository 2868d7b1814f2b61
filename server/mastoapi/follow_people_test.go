package mastoapi_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// A member of B follows a member of A: the follow waits for A's Accept,
// then A's member's posts reach B's member's home timeline as theirs, not
// as a community's boost, while B's member who follows the community
// still sees the same post as its boost. Unfollowing stops the posts.
func TestFollowRemotePerson(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			a, b := fedtest.Start(t, d), fedtest.Start(t, d)
			olgaActor := member(t, a, "olga")
			a.Community("practice", false, "olga")
			a.Community("kitchen", false, "olga")
			beaActor := member(t, b, "bea")
			caiActor := member(t, b, "cai")
			olga := newClient(t, a, tokenFor(t, a, "olga", "read write follow"))
			bea := newClient(t, b, tokenFor(t, b, "bea", "read write follow"))
			cai := newClient(t, b, tokenFor(t, b, "cai", "read write follow"))

			resolve := func(cl *client, handle string) string {
				res := expect(t, cl.do("GET", "/api/v2/search?resolve=true&type=accounts&q="+url.QueryEscape("@"+handle), nil), 200, "Search")
				accounts := field(res, "accounts").([]any)
				if len(accounts) != 1 || field(accounts[0], "acct") != handle {
					t.Fatalf("search %s: %v", handle, res)
				}
				return str(field(accounts[0], "id"))
			}
			// Waits poll the databases: polling the API would run into
			// its rate limit.
			accepted := func(who *storage.Actor, targetURI string) func() (bool, error) {
				return func() (bool, error) {
					target, err := b.DB.GetActorByURI(ctx, targetURI)
					if err != nil {
						return false, err
					}
					m, err := b.DB.GetMembership(ctx, target.ID, who.ID)
					return err == nil && m.State == storage.StateAccepted, err
				}
			}
			following := func(cl *client, id string) {
				t.Helper()
				rels := expect(t, cl.do("GET", "/api/v1/accounts/relationships?id[]="+id, nil), 200, "[]Relationship").([]any)
				if len(rels) != 1 || field(rels[0], "following") != true || field(rels[0], "requested") != false {
					t.Errorf("relationship with %s: %v", id, rels)
				}
			}
			arrived := func(uri string, inCommunity bool) func() (bool, error) {
				return func() (bool, error) {
					o, err := b.DB.GetObjectByURI(ctx, uri)
					return err == nil && (!inCommunity || o.CommunityActorID != nil), ignoreNotFound(err)
				}
			}

			// cai joins the community; bea follows olga only.
			practiceID := resolve(cai, "practice@"+a.Domain)
			expect(t, cai.do("POST", "/api/v1/accounts/"+practiceID+"/follow", nil), 200, "Relationship")
			fedtest.Eventually(t, "cai's join accepted", accepted(caiActor, a.URL+"/c/practice"))
			following(cai, practiceID)

			olgaID := resolve(bea, "olga@"+a.Domain)
			rel := expect(t, bea.do("POST", "/api/v1/accounts/"+olgaID+"/follow", nil), 200, "Relationship")
			if field(rel, "requested") != true || field(rel, "following") != false {
				t.Errorf("follow of a remote person before the Accept: %v", rel)
			}
			fedtest.Eventually(t, "bea's follow of olga accepted", accepted(beaActor, olgaActor.URI))
			following(bea, olgaID)
			// Following again is harmless.
			rel = expect(t, bea.do("POST", "/api/v1/accounts/"+olgaID+"/follow", nil), 200, "Relationship")
			if field(rel, "following") != true {
				t.Errorf("second follow: %v", rel)
			}
			// On A, olga was told (after cai's joining her community).
			notes := expect(t, olga.do("GET", "/api/v1/notifications?types[]=follow", nil), 200, "[]Notification").([]any)
			if len(notes) != 2 || field(notes[0], "account", "acct") != "bea@"+b.Domain {
				t.Errorf("olga's follow notifications: %v", notes)
			}

			post := expect(t, olga.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice Handovers at shift change?"}}), 200, "Status")
			postURI := str(field(post, "uri"))
			find := func(cl *client, uri string) any {
				for _, s := range expect(t, cl.do("GET", "/api/v1/timelines/home", nil), 200, "[]Status").([]any) {
					if field(s, "uri") == uri || field(s, "reblog", "uri") == uri {
						return s
					}
				}
				return nil
			}
			// Whichever comes first, the post from olga's server or the
			// community's Announce, the post ends up in the community on B.
			fedtest.Eventually(t, "olga's post in the community on B", arrived(postURI, true))
			onBea, onCai := find(bea, postURI), find(cai, postURI)
			if field(onBea, "reblog") != nil || field(onBea, "uri") != postURI || field(onBea, "account", "acct") != "olga@"+a.Domain {
				t.Errorf("in bea's home, olga's post should be olga's own status: %v", onBea)
			}
			if !strings.Contains(str(field(onBea, "content")), "Handovers") {
				t.Errorf("content: %v", field(onBea, "content"))
			}
			if field(onCai, "account", "acct") != "practice@"+a.Domain || field(onCai, "reblog", "account", "acct") != "olga@"+a.Domain {
				t.Errorf("in cai's home, olga's post should be the community's boost: %v", onCai)
			}
			stored, err := b.DB.GetObjectByURI(ctx, postURI)
			if err != nil {
				t.Fatal(err)
			}
			if stored.CommunityActor == nil || stored.CommunityActor.URI != a.URL+"/c/practice" {
				t.Errorf("on B the post is in community %v", stored.CommunityActor)
			}

			// A post to a community nobody on B follows reaches B only
			// because bea follows olga; on B it is in no community.
			aside := expect(t, olga.do("POST", "/api/v1/statuses", url.Values{"status": {"@kitchen Who took the big pan?"}}), 200, "Status")
			asideURI := str(field(aside, "uri"))
			fedtest.Eventually(t, "olga's kitchen post on B", arrived(asideURI, false))
			asideOnBea := find(bea, asideURI)
			if field(asideOnBea, "reblog") != nil || field(asideOnBea, "account", "acct") != "olga@"+a.Domain {
				t.Errorf("in bea's home, olga's kitchen post should be olga's own status: %v", asideOnBea)
			}
			if find(cai, asideURI) != nil {
				t.Error("olga's kitchen post in the home timeline of cai, who follows neither olga nor the kitchen")
			}
			if stored, err := b.DB.GetObjectByURI(ctx, asideURI); err != nil || stored.CommunityActorID != nil {
				t.Errorf("olga's kitchen post on B: %v, %v", stored, err)
			}

			// Unfollowing: A forgets bea as olga's follower, and olga's
			// next post does not reach bea.
			rel = expect(t, bea.do("POST", "/api/v1/accounts/"+olgaID+"/unfollow", nil), 200, "Relationship")
			if field(rel, "following") != false || field(rel, "requested") != false {
				t.Errorf("unfollow: %v", rel)
			}
			fedtest.Eventually(t, "A to forget bea's follow", func() (bool, error) {
				beaOnA, err := a.DB.GetActorByURI(ctx, beaActor.URI)
				if err != nil {
					return false, err
				}
				_, err = a.DB.GetMembership(ctx, olgaActor.ID, beaOnA.ID)
				return errors.Is(err, storage.ErrNotFound), err
			})
			// cai, still in the community, gets olga's next post as its
			// boost; bea no longer sees it.
			later := expect(t, olga.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice After you left."}}), 200, "Status")
			laterURI := str(field(later, "uri"))
			fedtest.Eventually(t, "olga's next post on B", arrived(laterURI, true))
			a.Settled()
			b.Settled()
			if find(cai, laterURI) == nil {
				t.Error("olga's next post not in cai's home timeline")
			}
			if s := find(bea, laterURI); s != nil {
				t.Errorf("olga's post after the unfollow in bea's home: %v", s)
			}
		})
	}
}

func ignoreNotFound(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}

// Following a local person is at once, notifies them, and brings their
// posts to the home timeline as theirs; following yourself is refused.
func TestFollowLocalPerson(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			n := fedtest.Start(t, d)
			member(t, n, "bea")
			member(t, n, "bo")
			n.Community("garden", false, "")
			bea := newClient(t, n, tokenFor(t, n, "bea", "read write follow"))
			bo := newClient(t, n, tokenFor(t, n, "bo", "read write follow"))

			beaID := str(field(expect(t, bea.do("GET", "/api/v1/accounts/verify_credentials", nil), 200, "CredentialAccount"), "id"))
			boID := str(field(expect(t, bea.do("GET", "/api/v1/accounts/lookup?acct=bo", nil), 200, "Account"), "id"))

			expect(t, bea.do("POST", "/api/v1/accounts/"+beaID+"/follow", nil), 422, "Error")

			rel := expect(t, bea.do("POST", "/api/v1/accounts/"+boID+"/follow", nil), 200, "Relationship")
			if field(rel, "following") != true || field(rel, "requested") != false {
				t.Errorf("follow of a local person: %v", rel)
			}
			rels := expect(t, bo.do("GET", "/api/v1/accounts/relationships?id[]="+beaID, nil), 200, "[]Relationship").([]any)
			if len(rels) != 1 || field(rels[0], "followed_by") != true || field(rels[0], "following") != false {
				t.Errorf("bo's relationship with bea: %v", rels)
			}
			notes := expect(t, bo.do("GET", "/api/v1/notifications", nil), 200, "[]Notification").([]any)
			if len(notes) != 1 || field(notes[0], "type") != "follow" || field(notes[0], "account", "id") != beaID {
				t.Errorf("bo's notifications: %v", notes)
			}
			acct := expect(t, bea.do("GET", "/api/v1/accounts/"+beaID, nil), 200, "Account")
			if field(acct, "following_count") != 1.0 {
				t.Errorf("bea's following_count: %v", field(acct, "following_count"))
			}

			post := expect(t, bo.do("POST", "/api/v1/statuses", url.Values{"status": {"@garden Tomatoes are in."}}), 200, "Status")
			home := expect(t, bea.do("GET", "/api/v1/timelines/home", nil), 200, "[]Status").([]any)
			if len(home) != 1 || field(home[0], "id") != field(post, "id") || field(home[0], "reblog") != nil {
				t.Errorf("bea's home: %v", home)
			}

			rel = expect(t, bea.do("POST", "/api/v1/accounts/"+boID+"/unfollow", nil), 200, "Relationship")
			if field(rel, "following") != false {
				t.Errorf("unfollow: %v", rel)
			}
			if home := expect(t, bea.do("GET", "/api/v1/timelines/home", nil), 200, "[]Status").([]any); len(home) != 0 {
				t.Errorf("bea's home after the unfollow: %v", home)
			}
		})
	}
}
