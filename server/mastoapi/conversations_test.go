package mastoapi_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/commonplace/commonplace/server/fedtest"
)

// Direct messages through the apps: the named member sees the post, in
// their conversations and on their direct stream (and, as a follower, on
// their user stream); a follower who is not named sees nothing of it, and
// nor does anyone else; a reply stays direct; conversations are read and
// removed as on Mastodon. A followers-only post reaches a follower's user
// stream and no one else's.
func TestDirectConversations(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			n := fedtest.Start(t, d)
			member(t, n, "ana")
			member(t, n, "bo")
			member(t, n, "cy")
			ana := newClient(t, n, tokenFor(t, n, "ana", "read write follow"))
			boTok, cyTok := tokenFor(t, n, "bo", "read write follow"), tokenFor(t, n, "cy", "read write follow")
			bo, cy := newClient(t, n, boTok), newClient(t, n, cyTok)
			anaID := str(ana.ok("GET", "/api/v1/accounts/verify_credentials", nil).object(t)["id"])
			bo.ok("POST", "/api/v1/accounts/"+anaID+"/follow", nil)
			cy.ok("POST", "/api/v1/accounts/"+anaID+"/follow", nil)

			boWS := dialStream(t, n.URL, boTok, url.Values{"stream": {"direct"}})
			boWS.send(map[string]string{"type": "subscribe", "stream": "user"})
			cyWS := dialStream(t, n.URL, cyTok, url.Values{"stream": {"direct"}})
			cyWS.send(map[string]string{"type": "subscribe", "stream": "user"})
			time.Sleep(100 * time.Millisecond)

			dm := expect(t, ana.do("POST", "/api/v1/statuses", url.Values{"status": {"@bo the hard case, privately"}, "visibility": {"direct"}}), 200, "Status").(map[string]any)
			if dm["visibility"] != "direct" {
				t.Fatalf("visibility %v", dm["visibility"])
			}
			dmID := str(dm["id"])
			conv := payloadOf(t, boWS.next("bo's conversation event", isEvent("direct", "conversation")))
			if str(field(conv, "last_status", "id")) != dmID || conv["unread"] != true {
				t.Fatalf("conversation event: %v", conv)
			}
			if accs, _ := conv["accounts"].([]any); len(accs) != 1 || str(field(accs[0], "id")) != anaID {
				t.Fatalf("conversation accounts: %v", conv["accounts"])
			}
			if p := payloadOf(t, boWS.next("the DM on bo's user stream", isEvent("user", "update"))); str(p["id"]) != dmID {
				t.Fatalf("update: %v", p)
			}
			cyWS.none("anything about the DM on cy's streams", func(m wsMessage) bool { return true })
			if r := cy.do("GET", "/api/v1/statuses/"+dmID, nil); r.StatusCode != 404 {
				t.Fatalf("cy reads the DM: %d", r.StatusCode)
			}
			if l := expect(t, cy.do("GET", "/api/v1/conversations", nil), 200, "[]object").([]any); len(l) != 0 {
				t.Fatalf("cy's conversations: %v", l)
			}

			// bo's conversation; read it; answer it (the reply stays direct).
			list := bo.ok("GET", "/api/v1/conversations", nil).list(t)
			if len(list) != 1 || field(list[0], "unread") != true || str(field(list[0], "last_status", "id")) != dmID {
				t.Fatalf("bo's conversations: %v", list)
			}
			cid := str(field(list[0], "id"))
			if r := bo.ok("POST", "/api/v1/conversations/"+cid+"/read", nil).object(t); r["unread"] != false {
				t.Fatalf("read: %v", r)
			}
			reply := bo.ok("POST", "/api/v1/statuses", url.Values{"status": {"@ana thanks"}, "in_reply_to_id": {dmID}}).object(t)
			if reply["visibility"] != "direct" {
				t.Fatalf("reply visibility %v", reply["visibility"])
			}
			al := ana.ok("GET", "/api/v1/conversations", nil).list(t)
			if len(al) != 1 || field(al[0], "unread") != true || str(field(al[0], "last_status", "id")) != str(reply["id"]) {
				t.Fatalf("ana's conversations: %v", al)
			}
			bo.ok("DELETE", "/api/v1/conversations/"+cid, nil)
			if l := bo.ok("GET", "/api/v1/conversations", nil).list(t); len(l) != 0 {
				t.Fatalf("after delete: %v", l)
			}

			// Followers-only: both followers' user streams; not cy once
			// she stops following.
			cy.ok("POST", "/api/v1/accounts/"+anaID+"/unfollow", nil)
			boWS.drain()
			cyWS.drain()
			priv := ana.ok("POST", "/api/v1/statuses", url.Values{"status": {"For my followers"}, "visibility": {"private"}}).object(t)
			if p := payloadOf(t, boWS.next("the private post on bo's user stream", isEvent("user", "update"))); str(p["id"]) != str(priv["id"]) || p["visibility"] != "private" {
				t.Fatalf("update: %v", p)
			}
			cyWS.none("the private post on cy's streams", func(m wsMessage) bool { return true })
			if r := cy.do("GET", "/api/v1/statuses/"+str(priv["id"]), nil); r.StatusCode != 404 {
				t.Fatalf("cy reads the private post: %d", r.StatusCode)
			}
		})
	}
}
