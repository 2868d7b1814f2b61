package mastoapi_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// Reporting and moderating through the client API; the modlog is public
// and keeps private reasons for moderators.
func TestModerationAPI(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			n := fedtest.Start(t, d)
			olga, dan, eve := member(t, n, "olga"), member(t, n, "dan"), member(t, n, "eve")
			g := n.Community("practice", false, "olga").Actor
			for _, m := range []*storage.Actor{dan, eve} {
				if _, err := n.Service.Join(ctx, m, "practice"); err != nil {
					t.Fatal(err)
				}
			}
			post, err := n.Service.Post(ctx, dan, federation.NewPost{Community: "practice", Text: "Spam spam"})
			if err != nil {
				t.Fatal(err)
			}
			owner := newClient(t, n, tokenFor(t, n, "olga", "read write"))
			eveC := newClient(t, n, tokenFor(t, n, "eve", "read write"))
			visitor := newClient(t, n, "")
			gid, pid, did := strconv.FormatInt(g.ID, 10), strconv.FormatInt(post.ID, 10), strconv.FormatInt(dan.ID, 10)

			rep := eveC.ok("POST", "/api/v1/reports", map[string]any{"account_id": did, "status_ids": []string{pid}, "comment": "spam", "category": "spam"}).object(t)
			if rep["comment"] != "spam" || rep["category"] != "spam" || rep["action_taken"] != false || field(rep, "target_account", "id") != did {
				t.Fatalf("report: %v", rep)
			}
			if r := eveC.do("GET", "/api/v1/communities/"+gid+"/reports", nil); r.StatusCode != http.StatusNotFound {
				t.Fatalf("a member read the queue: %d", r.StatusCode)
			}
			queue := owner.ok("GET", "/api/v1/communities/"+gid+"/reports", nil).list(t)
			if len(queue) != 1 || field(queue[0], "account", "id") != strconv.FormatInt(eve.ID, 10) {
				t.Fatalf("queue: %v", queue)
			}
			if r := eveC.do("POST", "/api/v1/statuses/"+pid+"/remove", map[string]any{"reason": "mine"}); r.StatusCode != http.StatusForbidden {
				t.Fatalf("a member removed a post: %d %s", r.StatusCode, r.body)
			}
			owner.ok("POST", "/api/v1/communities/"+gid+"/moderators", map[string]any{"account_id": strconv.FormatInt(eve.ID, 10)})
			mods := visitor.ok("GET", "/api/v1/communities/"+gid+"/moderators", nil).list(t)
			if len(mods) != 2 {
				t.Fatalf("moderators: %v", mods)
			}
			eveC.ok("POST", "/api/v1/statuses/"+pid+"/remove", map[string]any{"reason": "known spammer", "private": true})
			eveC.ok("POST", "/api/v1/reports/"+str(rep["id"])+"/resolve", map[string]any{"note": "removed"})
			eveC.ok("POST", "/api/v1/communities/"+gid+"/bans", map[string]any{"account_id": did, "reason": "spam", "duration": 3600})
			if bans := eveC.ok("GET", "/api/v1/communities/"+gid+"/bans", nil).list(t); len(bans) != 1 || field(bans[0], "reason") != "spam" || field(bans[0], "expires_at") == nil {
				t.Fatalf("bans: %v", bans)
			}
			top, err := n.Service.Post(ctx, olga, federation.NewPost{Community: "practice", Text: "Rules"})
			if err != nil {
				t.Fatal(err)
			}
			tid := strconv.FormatInt(top.ID, 10)
			eveC.ok("POST", "/api/v1/statuses/"+tid+"/lock", map[string]any{"reason": "read only"})
			if r := eveC.do("POST", "/api/v1/statuses", map[string]any{"status": "no", "in_reply_to_id": tid}); r.StatusCode != http.StatusForbidden {
				t.Fatalf("reply to a locked thread: %d %s", r.StatusCode, r.body)
			}
			owner.ok("POST", "/api/v1/communities/"+gid+"/posting", map[string]any{"restricted": true})
			eveC.ok("DELETE", "/api/v1/communities/"+gid+"/bans/"+did, nil)

			// The visitor's modlog: every action, no private reason.
			log := visitor.ok("GET", "/api/v1/communities/"+gid+"/modlog", nil).list(t)
			want := []string{"unban", "restrict_posting", "lock", "ban", "resolve_report", "remove_post", "add_moderator"}
			if len(log) != len(want) {
				t.Fatalf("modlog: %v", log)
			}
			for i, e := range log {
				if field(e, "action") != want[i] {
					t.Errorf("entry %d: %v, want %s", i, field(e, "action"), want[i])
				}
			}
			removal := log[5]
			if field(removal, "reason") != nil || field(removal, "reason_private") != true || field(removal, "moderator", "id") != strconv.FormatInt(eve.ID, 10) {
				t.Fatalf("the visitor sees the removal as %v", removal)
			}
			if field(log[2], "reason") != "read only" {
				t.Fatalf("a public reason: %v", log[2])
			}
			modView := eveC.ok("GET", "/api/v1/communities/"+gid+"/modlog", nil).list(t)
			if field(modView[5], "reason") != "known spammer" {
				t.Fatalf("the moderator's view: %v", modView[5])
			}
		})
	}
}
