package mastoapi_test

import (
	"net/url"
	"testing"

	"github.com/commonplace/commonplace/server/fedtest"
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
