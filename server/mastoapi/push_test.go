package mastoapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation/push/pushtest"
	"github.com/commonplace/commonplace/server/fedtest"
)

// Web Push through the apps: a member subscribes with the keys a browser
// would make; a mention reaches the push service on loopback as an
// encrypted push it decrypts to Mastodon's payload, signed with the VAPID
// key the instance and the app entity publish; alerts and the policy
// decide what is pushed; a push service's 410 removes the subscription.
func TestWebPush(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			n := fedtest.Start(t, d)
			member(t, n, "ana")
			member(t, n, "bo")
			member(t, n, "cy")
			anaTok := tokenFor(t, n, "ana", "read write follow push")
			ana, bo, cy := newClient(t, n, anaTok), newClient(t, n, tokenFor(t, n, "bo", "read write follow")), newClient(t, n, tokenFor(t, n, "cy", "read write follow"))
			anon := newClient(t, n, "")
			ps := pushtest.New(t)

			vapid := str(field(expect(t, anon.do("GET", "/api/v2/instance", nil), 200, "InstanceV2"), "configuration", "vapid", "public_key"))
			if len(vapid) < 80 {
				t.Fatalf("instance VAPID key %q", vapid)
			}
			app := expect(t, anon.do("POST", "/api/v1/apps", url.Values{"client_name": {"pushy"}, "redirect_uris": {"urn:ietf:wg:oauth:2.0:oob"}, "scopes": {"read push"}}), 200, "CredentialApp")
			if field(app, "vapid_key") != vapid {
				t.Fatalf("app vapid_key %v, instance %s", field(app, "vapid_key"), vapid)
			}
			if r := ana.do("GET", "/api/v1/push/subscription", nil); r.StatusCode != 404 {
				t.Fatalf("subscription before subscribing: %d", r.StatusCode)
			}
			if r := bo.do("POST", "/api/v1/push/subscription", url.Values{"subscription[endpoint]": {ps.Endpoint()}}); r.StatusCode != 403 {
				t.Fatalf("subscribing without the push scope: %d", r.StatusCode)
			}
			for name, bad := range map[string]url.Values{
				"no endpoint": {"subscription[keys][p256dh]": {ps.P256dh()}, "subscription[keys][auth]": {ps.Auth()}},
				"bad key":     {"subscription[endpoint]": {ps.Endpoint()}, "subscription[keys][p256dh]": {"AAAA"}, "subscription[keys][auth]": {ps.Auth()}},
				"bad policy": {"subscription[endpoint]": {ps.Endpoint()}, "subscription[keys][p256dh]": {ps.P256dh()}, "subscription[keys][auth]": {ps.Auth()},
					"data[policy]": {"friends"}},
			} {
				if r := ana.do("POST", "/api/v1/push/subscription", bad); r.StatusCode != 422 {
					t.Errorf("%s: %d", name, r.StatusCode)
				}
			}

			// Subscribed as apps do (JSON): mentions only.
			sub := expect(t, ana.do("POST", "/api/v1/push/subscription", map[string]any{
				"subscription": map[string]any{"endpoint": ps.Endpoint(), "keys": map[string]any{"p256dh": ps.P256dh(), "auth": ps.Auth()}},
				"data":         map[string]any{"alerts": map[string]any{"mention": true, "favourite": false}, "policy": "all"},
			}), 200, "WebPushSubscription").(map[string]any)
			if sub["server_key"] != vapid || sub["endpoint"] != ps.Endpoint() || field(sub, "alerts", "mention") != true || field(sub, "alerts", "favourite") != false || sub["policy"] != "all" {
				t.Fatalf("subscription %v", sub)
			}
			if got := expect(t, ana.do("GET", "/api/v1/push/subscription", nil), 200, "WebPushSubscription"); field(got, "id") != sub["id"] {
				t.Fatalf("GET %v", got)
			}

			expect(t, bo.do("POST", "/api/v1/statuses", url.Values{"status": {"@ana the sepsis bundle, step two?"}, "visibility": {"direct"}}), 200, "Status")
			var p map[string]any
			fedtest.Eventually(t, "the mention pushed", func() (bool, error) {
				pushes := ps.Pushes()
				if len(pushes) == 0 {
					return false, nil
				}
				if err := json.Unmarshal(pushes[0].Plain, &p); err != nil {
					t.Fatalf("payload %s: %v", pushes[0].Plain, err)
				}
				if pushes[0].ServerKey != vapid {
					t.Fatalf("push signed with %s, instance key %s", pushes[0].ServerKey, vapid)
				}
				return true, nil
			})
			notes := expect(t, ana.do("GET", "/api/v1/notifications", nil), 200, "[]Notification").([]any)
			if len(notes) != 1 {
				t.Fatalf("notifications %v", notes)
			}
			want := map[string]any{
				"access_token": anaTok, "preferred_locale": "en", "notification_type": "mention",
				"title": "bo mentioned you", "icon": n.URL + "/avatars/original/missing.png",
			}
			for k, v := range want {
				if p[k] != v {
					t.Errorf("payload %s = %v, want %v", k, p[k], v)
				}
			}
			if nid, _ := p["notification_id"].(float64); str(field(notes[0], "id")) != fmt.Sprint(int64(nid)) {
				t.Errorf("payload notification_id %v, notification %v", p["notification_id"], field(notes[0], "id"))
			}
			if body := str(p["body"]); !strings.Contains(body, "the sepsis bundle, step two?") || strings.Contains(body, "<") {
				t.Errorf("payload body %q", body)
			}

			// Alerts and policy: favourites now, and only from people ana
			// follows (bo, not cy).
			expect(t, ana.do("PUT", "/api/v1/push/subscription", url.Values{
				"data[alerts][mention]": {"true"}, "data[alerts][favourite]": {"true"}, "data[policy]": {"followed"},
			}), 200, "WebPushSubscription")
			boID := str(field(bo.ok("GET", "/api/v1/accounts/verify_credentials", nil).object(t), "id"))
			ana.ok("POST", "/api/v1/accounts/"+boID+"/follow", nil)
			own := expect(t, ana.do("POST", "/api/v1/statuses", url.Values{"status": {"@bo thanks, noted"}, "visibility": {"direct"}}), 200, "Status").(map[string]any)
			cy.do("POST", "/api/v1/statuses", url.Values{"status": {"@ana from cy"}, "visibility": {"direct"}})
			bo.ok("POST", "/api/v1/statuses/"+str(own["id"])+"/favourite", nil)
			fedtest.Eventually(t, "bo's favourite pushed", func() (bool, error) { return len(ps.Pushes()) >= 2, nil })
			n.Settled()
			var types []string
			for _, p := range ps.Pushes() {
				var m map[string]any
				json.Unmarshal(p.Plain, &m)
				types = append(types, str(m["notification_type"])+" "+str(m["title"]))
			}
			if len(types) != 2 || types[1] != "favourite bo favorited your post" {
				t.Fatalf("pushes %q: want the mention, then bo's favourite only (cy's mention is not from someone ana follows)", types)
			}

			// The push service drops the subscription: so do we.
			ps.AnswerWith(410)
			bo.do("POST", "/api/v1/statuses", url.Values{"status": {"@ana once more"}, "visibility": {"direct"}})
			fedtest.Eventually(t, "the subscription removed after 410", func() (bool, error) {
				return ana.do("GET", "/api/v1/push/subscription", nil).StatusCode == 404, nil
			})
			if r := ps.Refused(); len(r) > 0 {
				t.Fatalf("the push service refused pushes: %q", r)
			}
			expect(t, ana.do("POST", "/api/v1/push/subscription", url.Values{
				"subscription[endpoint]": {ps.Endpoint()}, "subscription[keys][p256dh]": {ps.P256dh()}, "subscription[keys][auth]": {ps.Auth()},
			}), 200, "WebPushSubscription")
			if got := ana.ok("DELETE", "/api/v1/push/subscription", nil).object(t); len(got) != 0 {
				t.Fatalf("DELETE answered %v", got)
			}
			if r := ana.do("GET", "/api/v1/push/subscription", nil); r.StatusCode != 404 {
				t.Fatalf("after DELETE: %d", r.StatusCode)
			}
		})
	}
}
