package fedtest_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"

	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// gtsInterop is one Commonplace instance and one real GoToSocial, each on
// port 80 under its own name.
type gtsInterop struct {
	t   *testing.T
	gts *fedtest.GoToSocial
	cp  *fedtest.Node
}

// relationship is GoToSocial's view of gina's follow of account id.
func (x *gtsInterop) relationship(u *fedtest.GTSUser, id string) (following, requested bool, err error) {
	var rels []struct {
		Following bool `json:"following"`
		Requested bool `json:"requested"`
	}
	if err := u.Call(http.MethodGet, "/api/v1/accounts/relationships?id[]="+id, nil, &rels); err != nil || len(rels) != 1 {
		return false, false, err
	}
	return rels[0].Following, rels[0].Requested, nil
}

// statusID is GoToSocial's id of the status with ActivityPub id uri,
// resolved through search as an app does.
func (x *gtsInterop) statusID(u *fedtest.GTSUser, uri string) string {
	x.t.Helper()
	var res struct {
		Statuses []fedtest.GTSStatus `json:"statuses"`
	}
	u.API(x.t, http.MethodGet, "/api/v2/search", url.Values{"q": {uri}, "resolve": {"true"}, "type": {"statuses"}}, &res)
	for _, st := range res.Statuses {
		if st.URI == uri {
			return st.ID
		}
	}
	x.t.Fatalf("GoToSocial search found no status %s", uri)
	return ""
}

// join makes u follow the community name on Commonplace and returns the
// community's GoToSocial account.
func (x *gtsInterop) join(u *fedtest.GTSUser, name string) fedtest.GTSAccount {
	x.t.Helper()
	acct := u.Lookup(x.t, x.cp.Handle(name))
	u.API(x.t, http.MethodPost, "/api/v1/accounts/"+acct.ID+"/follow", nil, nil)
	return acct
}

// status finds the status with ActivityPub id uri in u's home timeline,
// itself or boosted.
func (x *gtsInterop) inHome(u *fedtest.GTSUser, match func(fedtest.GTSStatus) bool) (*fedtest.GTSStatus, error) {
	var home []fedtest.GTSStatus
	if err := u.Call(http.MethodGet, "/api/v1/timelines/home", url.Values{"limit": {"40"}}, &home); err != nil {
		return nil, err
	}
	for _, st := range home {
		if st.Reblog != nil && match(*st.Reblog) {
			return st.Reblog, nil
		}
		if match(st) {
			return &st, nil
		}
	}
	return nil, nil
}

// waitHome waits until u's home timeline shows a status that matches.
func (x *gtsInterop) waitHome(u *fedtest.GTSUser, what string, match func(fedtest.GTSStatus) bool) fedtest.GTSStatus {
	x.t.Helper()
	var got *fedtest.GTSStatus
	fedtest.Eventually(x.t, what, func() (bool, error) {
		st, err := x.inHome(u, match)
		got = st
		return st != nil, err
	})
	return *got
}

func withURI(uri string) func(fedtest.GTSStatus) bool {
	return func(st fedtest.GTSStatus) bool { return st.URI == uri }
}

// A member of a real GoToSocial joins communities on Commonplace and takes
// part in them through GoToSocial's client API, as from an app.
func TestGoToSocialInterop(t *testing.T) {
	x := &gtsInterop{t: t, gts: fedtest.StartGoToSocial(t, "gina")}
	x.cp = fedtest.StartNamed(t, storage.SQLite)
	cp, gina := x.cp, x.gts.User
	olga := cp.Member("olga")
	open := cp.Community("practice", false, "olga").Actor
	closed := cp.Community("board", true, "olga").Actor

	t.Run("join an open community", func(t *testing.T) {
		acct := x.join(gina, "practice")
		fedtest.Eventually(t, "gina's join accepted on Commonplace", accepted(cp, open.URI, gina.ActorURI()))
		fedtest.Eventually(t, "GoToSocial records the follow as accepted", func() (bool, error) {
			following, _, err := x.relationship(gina, acct.ID)
			return following, err
		})
	})

	t.Run("join a closed community", func(t *testing.T) {
		acct := x.join(gina, "board")
		fedtest.Eventually(t, "gina's request waits on Commonplace", func() (bool, error) {
			m, err := membership(cp, closed.URI, gina.ActorURI())
			return err == nil && m.State == storage.StatePending, nil
		})
		if following, requested, err := x.relationship(gina, acct.ID); err != nil || following || !requested {
			t.Fatalf("before approval GoToSocial says following=%v requested=%v (%v), want a pending request", following, requested, err)
		}
		if _, err := cp.Service.Decide(context.Background(), "board", gina.ActorURI(), true); err != nil {
			t.Fatal(err)
		}
		fedtest.Eventually(t, "GoToSocial records the approval", func() (bool, error) {
			following, _, err := x.relationship(gina, acct.ID)
			return following, err
		})
	})

	// Once GoToSocial's software is known, it gets only what it reads.
	cp.WaitSoftware(x.gts.Name)

	var olgasPost *storage.Object
	t.Run("see a member's post and reply, edited and deleted", func(t *testing.T) {
		ctx := context.Background()
		post, err := cp.Service.Post(ctx, olga, federation.NewPost{Community: "practice", Text: "What goes into a good handover?"})
		if err != nil {
			t.Fatal(err)
		}
		olgasPost = post
		x.waitHome(gina, "olga's post in gina's home timeline", withURI(post.URI))
		reply, err := cp.Service.Post(ctx, olga, federation.NewPost{InReplyTo: post.URI, Text: "SBAR, for a start."})
		if err != nil {
			t.Fatal(err)
		}
		x.waitHome(gina, "olga's reply in gina's home timeline", withURI(reply.URI))
		if _, err := cp.Service.Edit(ctx, olga, reply.URI, "SBAR, and a checklist."); err != nil {
			t.Fatal(err)
		}
		x.waitHome(gina, "the edit of olga's reply on GoToSocial", func(st fedtest.GTSStatus) bool {
			return st.URI == reply.URI && strings.Contains(st.Content, "checklist") && st.EditedAt != nil
		})
		if err := cp.Service.Delete(ctx, olga, reply.URI); err != nil {
			t.Fatal(err)
		}
		fedtest.Eventually(t, "the deleted reply gone from GoToSocial", func() (bool, error) {
			st, err := x.inHome(gina, withURI(reply.URI))
			return st == nil, err
		})
	})

	var ginasPost fedtest.GTSStatus
	t.Run("post by mention, like, edit, delete", func(t *testing.T) {
		gina.API(t, http.MethodPost, "/api/v1/statuses", url.Values{
			"status": {"@" + cp.Handle("practice") + " How do your teams run handovers?"}, "visibility": {"public"},
		}, &ginasPost)
		fedtest.Eventually(t, "gina's post in the community", func() (bool, error) {
			o, err := object(cp, ginasPost.URI)
			return err == nil && o.CommunityActorID != nil && *o.CommunityActorID == open.ID, nil
		})
		var fav fedtest.GTSStatus
		gina.API(t, http.MethodPost, "/api/v1/statuses/"+x.statusID(gina, olgasPost.URI)+"/favourite", nil, &fav)
		fedtest.Eventually(t, "gina's like of olga's post recorded", func() (bool, error) {
			o, err := object(cp, olgasPost.URI)
			if err != nil {
				return false, err
			}
			n, err := cp.DB.CountLikes(context.Background(), o.ID)
			return n == 1, err
		})
		gina.API(t, http.MethodPut, "/api/v1/statuses/"+ginasPost.ID, url.Values{
			"status": {"@" + cp.Handle("practice") + " How do your teams run handovers at night?"},
		}, nil)
		fedtest.Eventually(t, "gina's edit applied", func() (bool, error) {
			o, err := object(cp, ginasPost.URI)
			return err == nil && strings.Contains(o.Content, "at night") && o.EditedAt != nil, nil
		})
		gina.API(t, http.MethodDelete, "/api/v1/statuses/"+ginasPost.ID, nil, nil)
		fedtest.Eventually(t, "gina's post deleted", func() (bool, error) {
			o, err := object(cp, ginasPost.URI)
			return err == nil && o.DeletedAt != nil, nil
		})
	})

	t.Run("a Commonplace member follows, answers and mentions a GoToSocial member", func(t *testing.T) {
		ctx := context.Background()
		if _, err := cp.Service.Follow(ctx, olga, gina.Handle()); err != nil {
			t.Fatal(err)
		}
		fedtest.Eventually(t, "olga's follow of gina accepted", func() (bool, error) {
			m, err := membership(cp, gina.ActorURI(), olga.URI)
			return err == nil && m.State == storage.StateAccepted, nil
		})
		var own fedtest.GTSStatus
		gina.API(t, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"Night shifts need better handovers."}, "visibility": {"public"}}, &own)
		fedtest.Eventually(t, "gina's post reaches olga's instance", func() (bool, error) {
			_, err := object(cp, own.URI)
			return err == nil, nil
		})
		reply, err := cp.Service.Post(ctx, olga, federation.NewPost{InReplyTo: own.URI, Text: "Agreed: a checklist helps."})
		if err != nil {
			t.Fatal(err)
		}
		mention, err := cp.Service.Post(ctx, olga, federation.NewPost{Community: "practice", Text: "@" + gina.Handle() + " started a good thread on handovers."})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if t.Failed() {
				t.Logf("reply %s, mention %s; GoToSocial warnings:\n%s", reply.URI, mention.URI, strings.Join(x.gts.Warnings(), "\n"))
			}
		}()
		// GoToSocial shows the community post with its mention of gina.
		// (It notifies her only when olga's own Create arrives before the
		// community's boost, which it dereferences without notifying: the
		// delivery order is not yet guaranteed, see the closing note.)
		fedtest.Eventually(t, "GoToSocial sees the mention of gina", func() (bool, error) {
			var st fedtest.GTSStatus
			err := gina.Call(http.MethodGet, "/api/v1/statuses/"+x.statusID(gina, mention.URI), nil, &st)
			for _, m := range st.Mentions {
				if strings.EqualFold(m.Acct, gina.Username) {
					return true, nil
				}
			}
			return false, err
		})
		for _, want := range []*storage.Object{reply} {
			fedtest.Eventually(t, "gina notified of "+want.URI, func() (bool, error) {
				var notes []struct {
					Type   string             `json:"type"`
					Status *fedtest.GTSStatus `json:"status"`
				}
				err := gina.Call(http.MethodGet, "/api/v1/notifications", nil, &notes)
				for _, n := range notes {
					if n.Type == "mention" && n.Status != nil && n.Status.URI == want.URI {
						return true, nil
					}
				}
				return false, err
			})
		}
	})

	t.Run("followers-only and direct posts, both ways", func(t *testing.T) { x.privatePosts(t, olga) })

	t.Run("polls, both ways", func(t *testing.T) { x.polls(t, olga) })

	t.Run("leave", func(t *testing.T) {
		acct := gina.Lookup(t, cp.Handle("practice"))
		gina.API(t, http.MethodPost, "/api/v1/accounts/"+acct.ID+"/unfollow", nil, nil)
		fedtest.Eventually(t, "gina's membership ends", func() (bool, error) {
			_, err := membership(cp, open.URI, gina.ActorURI())
			return err != nil, nil
		})
	})

	// What GoToSocial complained of while talking to us, and what it was
	// sent that it cannot read.
	cp.Settled()
	var unreadable []string
	if err := cp.DB.Gorm(context.Background()).Table("deliveries").Joins("JOIN activities ON activities.id = deliveries.activity_id").
		Where("deliveries.host = ? AND activities.type = 'Announce' AND activities.object_uri NOT IN (SELECT uri FROM objects)", x.gts.Name).
		Pluck("activities.uri", &unreadable).Error; err != nil {
		t.Fatal(err)
	}
	if len(unreadable) > 0 {
		t.Errorf("GoToSocial was sent Announces of activities: %v", unreadable)
	}
	// One request for olga's post, sent once GoToSocial's software was
	// known: the community's boost (olga's own Create went to no one
	// there, gina did not follow her yet).
	if olgasPost != nil {
		var about []string
		if err := cp.DB.Gorm(context.Background()).Table("deliveries").Joins("JOIN activities ON activities.id = deliveries.activity_id").
			Where("deliveries.host = ? AND activities.object_uri = ?", x.gts.Name, olgasPost.URI).
			Pluck("activities.type", &about).Error; err != nil {
			t.Fatal(err)
		}
		if len(about) != 1 || about[0] != "Announce" {
			t.Errorf("GoToSocial was sent %v about olga's post, want one Announce", about)
		}
	}
	for _, w := range x.gts.Warnings() {
		if strings.Contains(w, cp.Domain) || strings.Contains(w, "empty url host") {
			t.Errorf("GoToSocial logged: %s", w)
		}
	}
}
