package mastoapi_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// A member's boost reaches the home timelines of their followers here as
// Mastodon shows it: a status of its own (the boost's id, paged by it,
// fetched by it) whose reblog is the post and whose account is the
// booster, live on the user stream, and gone with the unreblog. A post
// the booster may not boost is not shown.
func TestHomeShowsMembersBoosts(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			n := fedtest.Start(t, d)
			n.Community("practice", false, "")
			for _, name := range []string{"ana", "bob", "cai", "dan"} {
				member(t, n, name)
			}
			cl := func(name string) (*client, string) {
				tok := tokenFor(t, n, name, "read write follow")
				return newClient(t, n, tok), tok
			}
			ana, _ := cl("ana")
			bob, _ := cl("bob")
			cai, caiTok := cl("cai")
			dan, _ := cl("dan")
			bobID := str(cai.ok("GET", "/api/v1/accounts/lookup?acct=bob", nil).object(t)["id"])
			cai.ok("POST", "/api/v1/accounts/"+bobID+"/follow", nil)

			ws := dialStream(t, n.URL, caiTok, url.Values{"stream": {"user"}})
			posted := ana.ok("POST", "/api/v1/statuses", url.Values{"status": {"@practice Lactate first?"}}).object(t)
			pid := str(posted["id"])
			rb := expect(t, bob.do("POST", "/api/v1/statuses/"+pid+"/reblog", nil), 200, "Status")
			boostID := str(field(rb, "id"))
			if boostID == pid || boostID == "" || str(field(rb, "reblog", "id")) != pid || str(field(rb, "account", "id")) != bobID {
				t.Fatalf("reblog answered %v: want a status of its own wrapping %s", rb, pid)
			}

			live := payloadOf(t, ws.next("the boost on cai's user stream", isEvent("user", "update")))
			if str(live["id"]) != boostID || str(field(live, "reblog", "id")) != pid || str(field(live, "account", "acct")) != "bob" {
				t.Fatalf("user stream update: %v", live)
			}

			home := expect(t, cai.do("GET", "/api/v1/timelines/home", nil), 200, "[]Status").([]any)
			if len(home) != 1 || str(field(home[0], "id")) != boostID || str(field(home[0], "reblog", "id")) != pid ||
				str(field(home[0], "account", "acct")) != "bob" || str(field(home[0], "reblog", "account", "acct")) != "ana" {
				t.Fatalf("cai's home = %v, want bob's boost of %s", home, pid)
			}
			// Paging by the boost's id: the post itself (older) is not in
			// cai's home, so the page before the boost is empty; the page
			// after the post holds the boost.
			if older := cai.ok("GET", "/api/v1/timelines/home?max_id="+boostID, nil).list(t); len(older) != 0 {
				t.Errorf("home before the boost = %v", older)
			}
			if newer := cai.ok("GET", "/api/v1/timelines/home?min_id="+pid, nil).list(t); len(newer) != 1 || str(field(newer[0], "id")) != boostID {
				t.Errorf("home after the post = %v", newer)
			}
			got := expect(t, cai.do("GET", "/api/v1/statuses/"+boostID, nil), 200, "Status")
			if str(field(got, "reblog", "id")) != pid || str(field(got, "account", "id")) != bobID {
				t.Errorf("GET the boost's id = %v", got)
			}
			// bob's own home shows his boost; dan follows nobody.
			if own := bob.ok("GET", "/api/v1/timelines/home", nil).list(t); len(own) == 0 || str(field(own[0], "id")) != boostID {
				t.Errorf("bob's home = %v", own)
			}
			if other := dan.ok("GET", "/api/v1/timelines/home", nil).list(t); len(other) != 0 {
				t.Errorf("dan's home = %v", other)
			}

			// A followers-only post of someone else cannot be boosted.
			private := ana.ok("POST", "/api/v1/statuses", url.Values{"status": {"Just for my followers"}, "visibility": {"private"}}).object(t)
			if r := bob.do("POST", "/api/v1/statuses/"+str(private["id"])+"/reblog", nil); r.StatusCode == 200 {
				t.Errorf("boost of another's followers-only post: %d", r.StatusCode)
			}

			bob.ok("POST", "/api/v1/statuses/"+pid+"/unreblog", nil)
			del := ws.next("the boost's delete on cai's user stream", isEvent("user", "delete"))
			if del.Payload == nil || *del.Payload != boostID {
				t.Fatalf("delete payload: %+v", del)
			}
			if after := cai.ok("GET", "/api/v1/timelines/home", nil).list(t); len(after) != 0 {
				t.Errorf("cai's home after the unreblog = %v", after)
			}
			if r := cai.do("GET", "/api/v1/statuses/"+boostID, nil); r.StatusCode != 404 {
				t.Errorf("GET the withdrawn boost: %d", r.StatusCode)
			}
		})
	}
}

// A remote person's boost (an Announce from a Person) reaches the home
// timelines of their followers here, with the boosted post fetched from
// its own server; a boost of a member's post notifies its author; a boost
// by someone nobody here follows, or of a post only its author's
// followers may read, is not kept; an Undo withdraws the boost.
func TestHomeShowsRemoteBoosts(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			n := fedtest.Start(t, d)
			n.Community("practice", false, "")
			cai := member(t, n, "cai")
			member(t, n, "ana")
			caiTok := tokenFor(t, n, "cai", "read write follow")
			caiCl := newClient(t, n, caiTok)
			ana := newClient(t, n, tokenFor(t, n, "ana", "read write follow"))
			m, stranger := fedtest.NewMastodon(t), fedtest.NewMastodon(t)
			inbox := n.URL + "/inbox"

			// cai follows alice on m; m accepts.
			if _, err := n.Service.Follow(ctx, cai, m.ActorURI()); err != nil {
				t.Fatal(err)
			}
			follow := m.WaitFor("cai's Follow", func(r fedtest.Received) bool { return r.Type == "Follow" })
			if code := m.Send(cai.InboxURI, map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
				"id": m.NewID("accepts"), "type": "Accept", "actor": m.ActorURI(), "object": follow.Doc}); code != 202 {
				t.Fatalf("Accept: %d", code)
			}
			fedtest.Eventually(t, "cai follows alice", func() (bool, error) {
				alice, err := n.DB.GetActorByURI(ctx, m.ActorURI())
				if err != nil {
					return false, nil
				}
				ms, err := n.DB.GetMembership(ctx, alice.ID, cai.ID)
				return err == nil && ms.State == storage.StateAccepted, nil
			})
			ws := dialStream(t, n.URL, caiTok, url.Values{"stream": {"user"}})

			// alice boosts a public post of another server's alice.
			elsewhere, _ := stranger.NoteWithVisibility("public", "Cultures before antibiotics", nil)
			announce, code := m.Boost(inbox, elsewhere, stranger.ActorURI())
			if code != 202 {
				t.Fatalf("Announce: %d", code)
			}
			live := payloadOf(t, ws.next("alice's boost on cai's user stream", isEvent("user", "update")))
			if str(live["uri"]) != announce || str(field(live, "account", "acct")) != m.Handle() || str(field(live, "reblog", "uri")) != elsewhere {
				t.Fatalf("user stream update: %v", live)
			}
			home := expect(t, caiCl.do("GET", "/api/v1/timelines/home", nil), 200, "[]Status").([]any)
			if len(home) != 1 || str(field(home[0], "id")) != str(live["id"]) || str(field(home[0], "reblog", "uri")) != elsewhere {
				t.Fatalf("cai's home = %v", home)
			}

			// alice boosts ana's post here: ana is notified, cai sees it.
			posted := ana.ok("POST", "/api/v1/statuses", url.Values{"status": {"@practice Lactate first?"}}).object(t)
			if _, code := m.Boost(inbox, str(posted["uri"]), n.URL+"/u/ana"); code != 202 {
				t.Fatalf("Announce of ana's post: %d", code)
			}
			fedtest.Eventually(t, "ana's reblog notification", func() (bool, error) {
				notes := ana.ok("GET", "/api/v1/notifications?types[]=reblog", nil).list(t)
				return len(notes) == 1 && str(field(notes[0], "account", "acct")) == m.Handle() && str(field(notes[0], "status", "id")) == str(posted["id"]), nil
			})
			home = caiCl.ok("GET", "/api/v1/timelines/home", nil).list(t)
			if len(home) != 2 || str(field(home[0], "reblog", "id")) != str(posted["id"]) {
				t.Fatalf("cai's home after alice boosted ana's post = %v", home)
			}

			// Not kept: a boost by someone nobody here follows (its post is
			// not even fetched), and a boost of another's followers-only post.
			unseen, _ := m.NoteWithVisibility("public", "Nobody here follows the booster", nil)
			if _, code := stranger.Boost(inbox, unseen, m.ActorURI()); code != 202 {
				t.Fatalf("stranger's Announce: %d", code)
			}
			private, _ := stranger.NoteWithVisibility("private", "For my followers", nil)
			if _, code := m.Boost(inbox, private, stranger.ActorURI()); code != 202 {
				t.Fatalf("Announce of a private post: %d", code)
			}
			n.Settled()
			if home = caiCl.ok("GET", "/api/v1/timelines/home", nil).list(t); len(home) != 2 {
				t.Errorf("cai's home = %v, want the two boosts by alice", home)
			}
			for _, uri := range []string{unseen, private} {
				if _, err := n.DB.GetObjectByURI(ctx, uri); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("%s stored (%v): a boost that concerns nobody here, or of a post its booster may not boost", uri, err)
				}
			}

			if code := m.Unboost(inbox, announce, elsewhere); code != 202 {
				t.Fatalf("Undo: %d", code)
			}
			del := ws.next("the boost's delete on cai's user stream", isEvent("user", "delete"))
			if del.Payload == nil || *del.Payload != str(live["id"]) {
				t.Fatalf("delete payload: %+v", del)
			}
			if home := caiCl.ok("GET", "/api/v1/timelines/home", nil).list(t); len(home) != 1 || str(field(home[0], "reblog", "id")) != str(posted["id"]) {
				t.Errorf("cai's home after the Undo = %v", home)
			}
		})
	}
}
