package mastoapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/server/fedtest"
)

// Entities of the daily surface (docs.joinmastodon.org/entities), added to
// the schemas the contract test checks against.
func init() {
	for name, e := range map[string]map[string]spec{
		"StatusSource": {"id": req("string"), "text": req("string"), "spoiler_text": req("string")},
		"StatusEdit": {
			"content": req("string"), "spoiler_text": req("string"), "sensitive": req("boolean"), "created_at": req("datetime"),
			"account": req("Account"), "poll": null("object"), "media_attachments": req("array"), "emojis": req("[]CustomEmoji"),
		},
		"GroupedNotificationsResults": {
			"accounts": req("[]Account"), "statuses": req("[]Status"), "notification_groups": req("[]NotificationGroup"),
			"partial_accounts": opt("array"),
		},
		"NotificationGroup": {
			"group_key": req("string"), "notifications_count": req("number"), "type": req("string"),
			"most_recent_notification_id": req("string"), "page_min_id": opt("string"), "page_max_id": opt("string"),
			"latest_page_notification_at": opt("datetime"), "sample_account_ids": req("[]string"), "status_id": opt("string"),
			"report": opt("object"), "event": opt("object"), "moderation_warning": opt("object"),
		},
		"NotificationPolicy": {
			"for_not_following": req("string"), "for_not_followers": req("string"), "for_new_accounts": req("string"),
			"for_private_mentions": req("string"), "for_limited_accounts": req("string"), "summary": req("PolicySummary"),
		},
		"NotificationPolicyV1": {
			"filter_not_following": req("boolean"), "filter_not_followers": req("boolean"), "filter_new_accounts": req("boolean"),
			"filter_private_mentions": req("boolean"), "summary": req("PolicySummary"),
		},
		"PolicySummary": {"pending_requests_count": req("number"), "pending_notifications_count": req("number")},
		"NotificationRequest": {
			"id": req("string"), "created_at": req("datetime"), "updated_at": req("datetime"), "account": req("Account"),
			"notifications_count": req("string"), "last_status": opt("Status"),
		},
		"Filter": {
			"id": req("string"), "title": req("string"), "context": req("[]string"), "expires_at": null("datetime"),
			"filter_action": req("string"), "keywords": req("[]FilterKeyword"), "statuses": req("[]FilterStatus"),
		},
		"FilterKeyword": {"id": req("string"), "keyword": req("string"), "whole_word": req("boolean")},
		"FilterStatus":  {"id": req("string"), "status_id": req("string")},
		"FilterResult":  {"filter": req("Filter"), "keyword_matches": null("[]string"), "status_matches": null("[]string")},
		"V1Filter": {
			"id": req("string"), "phrase": req("string"), "context": req("[]string"), "expires_at": null("datetime"),
			"irreversible": req("boolean"), "whole_word": req("boolean"),
		},
		"List":        {"id": req("string"), "title": req("string"), "replies_policy": req("string"), "exclusive": opt("boolean")},
		"FeaturedTag": {"id": req("string"), "name": req("string"), "url": req("string"), "statuses_count": req("string"), "last_status_at": null("string")},
		"TagEntity": {
			"id": opt("string"), "name": req("string"), "url": req("string"), "history": req("[]TagHistory"), "following": opt("boolean"),
		},
		"TagHistory":          {"day": req("string"), "uses": req("string"), "accounts": req("string")},
		"Suggestion":          {"source": req("string"), "sources": req("[]string"), "account": req("Account")},
		"FamiliarFollower":    {"id": req("string"), "accounts": req("[]Account")},
		"WeekActivity":        {"week": req("string"), "statuses": req("string"), "logins": req("string"), "registrations": req("string")},
		"ExtendedDescription": {"updated_at": req("datetime"), "content": req("string")},
		"Preferences": {
			"posting:default:visibility": req("string"), "posting:default:sensitive": req("boolean"),
			"posting:default:language": null("string"), "reading:expand:media": req("string"), "reading:expand:spoilers": req("boolean"),
		},
		"Empty": {},
	} {
		entities[name] = e
	}
}

// TestContractMemberSurface walks the daily surface the way the apps use
// it, checking each answer against Mastodon's entities and that each
// action did what it says.
func TestContractMemberSurface(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			n := fedtest.Start(t, d)
			member(t, n, "olga")
			member(t, n, "ravi")
			member(t, n, "sam")
			n.Community("practice", false, "olga")
			olga := newClient(t, n, tokenFor(t, n, "olga", "read write follow"))
			ravi := newClient(t, n, tokenFor(t, n, "ravi", "read write follow"))
			sam := newClient(t, n, tokenFor(t, n, "sam", "read write follow"))
			anon := newClient(t, n, "")
			idOf := func(name string) string {
				return str(field(expect(t, anon.do("GET", "/api/v1/accounts/lookup?acct="+name, nil), 200, "Account"), "id"))
			}
			olgaID, raviID, samID, groupID := idOf("olga"), idOf("ravi"), idOf("sam"), idOf("practice")

			for _, c := range []*client{ravi, sam} {
				expect(t, c.do("POST", "/api/v1/accounts/"+groupID+"/follow", nil), 200, "Relationship")
			}
			expect(t, olga.do("POST", "/api/v1/accounts/"+raviID+"/follow", nil), 200, "Relationship")
			st := expect(t, olga.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice Our #handover checklist, first draft"}}), 200, "Status")
			sid := str(field(st, "id"))

			// Followers and following, paged; a community's followers are
			// its members.
			fl := expect(t, anon.do("GET", "/api/v1/accounts/"+groupID+"/followers?limit=1", nil), 200, "[]Account").([]any)
			if len(fl) != 1 {
				t.Fatalf("followers page of 1: %v", fl)
			}
			if r := anon.do("GET", "/api/v1/accounts/"+groupID+"/followers?limit=1", nil); !strings.Contains(r.Header.Get("Link"), `rel="next"`) {
				t.Errorf("followers: no next link: %q", r.Header.Get("Link"))
			}
			if fl := expect(t, anon.do("GET", "/api/v1/accounts/"+raviID+"/following", nil), 200, "[]Account").([]any); len(fl) != 1 || field(fl[0], "id") != groupID {
				t.Errorf("ravi's following: %v", fl)
			}

			// Profile editing and preferences.
			cred := expect(t, ravi.do("PATCH", "/api/v1/accounts/update_credentials", map[string]any{
				"display_name": "Ravi K", "note": "ICU nurse", "locked": true, "discoverable": true, "hide_collections": true,
				"fields_attributes": []map[string]any{{"name": "Ward", "value": "7 <b>East</b>"}},
				"source":            map[string]any{"language": "en", "sensitive": true},
			}), 200, "CredentialAccount")
			if field(cred, "display_name") != "Ravi K" || field(cred, "locked") != true || field(cred, "discoverable") != true ||
				field(cred, "source", "note") != "ICU nurse" || field(cred, "source", "language") != "en" || field(cred, "source", "sensitive") != true {
				t.Errorf("update_credentials: %v", cred)
			}
			if f := field(cred, "fields").([]any); len(f) != 1 || field(f[0], "value") != "7 &lt;b&gt;East&lt;/b&gt;" {
				t.Errorf("fields are not escaped: %v", f)
			}
			if f := field(cred, "source", "fields").([]any); len(f) != 1 || field(f[0], "value") != "7 <b>East</b>" {
				t.Errorf("source fields: %v", f)
			}
			expect(t, ravi.do("PATCH", "/api/v1/accounts/update_credentials", url.Values{"display_name": {strings.Repeat("x", 101)}}), 422, "Error")
			prefs := expect(t, ravi.do("GET", "/api/v1/preferences", nil), 200, "Preferences")
			if field(prefs, "posting:default:language") != "en" || field(prefs, "posting:default:sensitive") != true {
				t.Errorf("preferences: %v", prefs)
			}
			// ravi hides his lists now: others see none, he sees his own.
			if fl := expect(t, anon.do("GET", "/api/v1/accounts/"+raviID+"/following", nil), 200, "[]Account").([]any); len(fl) != 0 {
				t.Errorf("hidden following shown: %v", fl)
			}
			if fl := expect(t, ravi.do("GET", "/api/v1/accounts/"+raviID+"/following", nil), 200, "[]Account").([]any); len(fl) != 1 {
				t.Errorf("own hidden following: %v", fl)
			}

			// Source and history.
			src := expect(t, olga.do("GET", "/api/v1/statuses/"+sid+"/source", nil), 200, "StatusSource")
			if !strings.Contains(str(field(src, "text")), "#handover checklist") {
				t.Errorf("source: %v", src)
			}
			expect(t, olga.do("PUT", "/api/v1/statuses/"+sid, url.Values{"status": {"Our #handover checklist, second draft"}}), 200, "Status")
			hist := expect(t, anon.do("GET", "/api/v1/statuses/"+sid+"/history", nil), 200, "[]StatusEdit").([]any)
			if len(hist) != 2 || !strings.Contains(str(field(hist[0], "content")), "first draft") || !strings.Contains(str(field(hist[1], "content")), "second draft") {
				t.Errorf("history: %v", hist)
			}

			// Boosts, likes, bookmarks, pins.
			rb := expect(t, ravi.do("POST", "/api/v1/statuses/"+sid+"/reblog", nil), 200, "Status")
			if field(rb, "reblog", "id") != sid || field(rb, "reblogged") != true || field(rb, "account", "id") != raviID {
				t.Errorf("reblog: %v", rb)
			}
			expect(t, ravi.do("POST", "/api/v1/statuses/"+sid+"/favourite", nil), 200, "Status")
			expect(t, sam.do("POST", "/api/v1/statuses/"+sid+"/favourite", nil), 200, "Status")
			if by := expect(t, anon.do("GET", "/api/v1/statuses/"+sid+"/favourited_by", nil), 200, "[]Account").([]any); len(by) != 2 || field(by[0], "id") != samID {
				t.Errorf("favourited_by (newest first): %v", by)
			}
			if by := expect(t, anon.do("GET", "/api/v1/statuses/"+sid+"/reblogged_by", nil), 200, "[]Account").([]any); len(by) != 1 || field(by[0], "id") != raviID {
				t.Errorf("reblogged_by: %v", by)
			}
			got := expect(t, ravi.do("GET", "/api/v1/statuses/"+sid, nil), 200, "Status")
			if field(got, "reblogs_count") != 1.0 || field(got, "reblogged") != true {
				t.Errorf("status after boost: %v", got)
			}
			bm := expect(t, ravi.do("POST", "/api/v1/statuses/"+sid+"/bookmark", nil), 200, "Status")
			if field(bm, "bookmarked") != true {
				t.Errorf("bookmark: %v", bm)
			}
			if l := expect(t, ravi.do("GET", "/api/v1/bookmarks", nil), 200, "[]Status").([]any); len(l) != 1 || field(l[0], "id") != sid {
				t.Errorf("bookmarks: %v", l)
			}
			if l := expect(t, ravi.do("GET", "/api/v1/favourites", nil), 200, "[]Status").([]any); len(l) != 1 {
				t.Errorf("favourites: %v", l)
			}
			expect(t, ravi.do("POST", "/api/v1/statuses/"+sid+"/unbookmark", nil), 200, "Status")
			if l := expect(t, ravi.do("GET", "/api/v1/bookmarks", nil), 200, "[]Status").([]any); len(l) != 0 {
				t.Errorf("bookmarks after unbookmark: %v", l)
			}
			expect(t, ravi.do("POST", "/api/v1/statuses/"+sid+"/pin", nil), 422, "Error")
			if p := expect(t, olga.do("POST", "/api/v1/statuses/"+sid+"/pin", nil), 200, "Status"); field(p, "pinned") != true {
				t.Errorf("pin: %v", p)
			}
			if l := expect(t, anon.do("GET", "/api/v1/accounts/"+olgaID+"/statuses?pinned=true", nil), 200, "[]Status").([]any); len(l) != 1 || field(l[0], "pinned") != true {
				t.Errorf("pinned statuses: %v", l)
			}
			expect(t, olga.do("POST", "/api/v1/statuses/"+sid+"/unpin", nil), 200, "Status")
			if l := expect(t, anon.do("GET", "/api/v1/statuses?id[]="+sid+"&id[]=999999", nil), 200, "[]Status").([]any); len(l) != 1 {
				t.Errorf("statuses by id: %v", l)
			}
			if l := expect(t, anon.do("GET", "/api/v1/accounts?id[]="+olgaID+"&id[]="+groupID, nil), 200, "[]Account").([]any); len(l) != 2 || field(l[1], "id") != groupID {
				t.Errorf("accounts by id: %v", l)
			}

			// Grouped notifications: two likes of one post are one group.
			res := expect(t, olga.do("GET", "/api/v2/notifications", nil), 200, "GroupedNotificationsResults")
			var favGroup map[string]any
			for _, g := range field(res, "notification_groups").([]any) {
				if field(g, "type") == "favourite" {
					favGroup = g.(map[string]any)
				}
			}
			if favGroup == nil || favGroup["notifications_count"] != 2.0 || len(favGroup["sample_account_ids"].([]any)) != 2 || favGroup["status_id"] != sid {
				t.Fatalf("favourite group: %v", favGroup)
			}
			key := str(favGroup["group_key"])
			expect(t, olga.do("GET", "/api/v2/notifications/"+key, nil), 200, "GroupedNotificationsResults")
			if acc := expect(t, olga.do("GET", "/api/v2/notifications/"+key+"/accounts", nil), 200, "[]Account").([]any); len(acc) != 2 {
				t.Errorf("group accounts: %v", acc)
			}
			types := map[string]bool{}
			for _, nt := range expect(t, olga.do("GET", "/api/v1/notifications", nil), 200, "[]Notification").([]any) {
				types[str(field(nt, "type"))] = true
				if field(nt, "type") == "favourite" && field(nt, "group_key") != key {
					t.Errorf("v1 group_key %v, want %s", field(nt, "group_key"), key)
				}
			}
			if !types["reblog"] || !types["favourite"] {
				t.Errorf("v1 notification types: %v", types)
			}
			if c := expect(t, olga.do("GET", "/api/v1/notifications/unread_count", nil), 200, "object"); field(c, "count").(float64) < 3 {
				t.Errorf("unread count: %v", c)
			}
			if c := expect(t, olga.do("GET", "/api/v2/notifications/unread_count", nil), 200, "object"); field(c, "count").(float64) < 2 {
				t.Errorf("unread group count: %v", c)
			}
			expect(t, olga.do("POST", "/api/v2/notifications/"+key+"/dismiss", nil), 200, "object")
			expect(t, olga.do("GET", "/api/v2/notifications/"+key, nil), 404, "Error")
			expect(t, olga.do("GET", "/api/v2/notifications/nonsense-key", nil), 404, "Error")

			// The policy: sam (whom olga does not follow) is filtered.
			expect(t, sam.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice @olga what do you think?"}}), 200, "Status")
			pol := expect(t, olga.do("PATCH", "/api/v2/notifications/policy", url.Values{"for_not_following": {"filter"}}), 200, "NotificationPolicy")
			if field(pol, "for_not_following") != "filter" {
				t.Errorf("policy: %v", pol)
			}
			expect(t, olga.do("PATCH", "/api/v2/notifications/policy", url.Values{"for_not_following": {"maybe"}}), 422, "Error")
			for _, nt := range expect(t, olga.do("GET", "/api/v1/notifications", nil), 200, "[]Notification").([]any) {
				if field(nt, "account", "id") == samID {
					t.Errorf("filtered sender shown: %v", nt)
				}
			}
			reqs := expect(t, olga.do("GET", "/api/v1/notifications/requests", nil), 200, "[]NotificationRequest").([]any)
			if len(reqs) != 1 || field(reqs[0], "account", "id") != samID {
				t.Errorf("requests: %v", reqs)
			}
			rid := str(field(reqs[0], "id"))
			expect(t, olga.do("GET", "/api/v1/notifications/requests/"+rid, nil), 200, "NotificationRequest")
			expect(t, olga.do("GET", "/api/v1/notifications/requests/merged", nil), 200, "object")
			expect(t, olga.do("POST", "/api/v1/notifications/requests/"+rid+"/accept", nil), 200, "object")
			fromSam := func() bool {
				for _, nt := range expect(t, olga.do("GET", "/api/v1/notifications", nil), 200, "[]Notification").([]any) {
					if field(nt, "account", "id") == samID {
						return true
					}
				}
				return false
			}
			if !fromSam() {
				t.Errorf("accepted sender's notifications still filtered")
			}
			if l := expect(t, olga.do("GET", "/api/v1/notifications/requests", nil), 200, "[]NotificationRequest").([]any); len(l) != 0 {
				t.Errorf("requests after accepting: %v", l)
			}
			expect(t, olga.do("POST", "/api/v1/notifications/requests/dismiss", url.Values{"id[]": {rid}}), 200, "object")
			if l := expect(t, olga.do("GET", "/api/v1/notifications/requests", nil), 200, "[]NotificationRequest").([]any); len(l) != 0 || fromSam() {
				t.Errorf("dismissed request still listed (%v) or its notifications shown", l)
			}
			if v1 := expect(t, olga.do("GET", "/api/v1/notifications/policy", nil), 200, "NotificationPolicyV1"); field(v1, "filter_not_following") != true {
				t.Errorf("policy v1: %v", v1)
			}
			expect(t, olga.do("PATCH", "/api/v1/notifications/policy", url.Values{"filter_not_following": {"false"}}), 200, "NotificationPolicyV1")

			// Mutes, blocks, domain blocks, notes.
			rel := expect(t, olga.do("POST", "/api/v1/accounts/"+samID+"/mute", url.Values{"notifications": {"true"}}), 200, "Relationship")
			if field(rel, "muting") != true || field(rel, "muting_notifications") != true {
				t.Errorf("mute: %v", rel)
			}
			if l := expect(t, olga.do("GET", "/api/v1/mutes", nil), 200, "[]Account").([]any); len(l) != 1 || field(l[0], "id") != samID {
				t.Errorf("mutes: %v", l)
			}
			for _, nt := range expect(t, olga.do("GET", "/api/v1/notifications", nil), 200, "[]Notification").([]any) {
				if field(nt, "account", "id") == samID {
					t.Errorf("muted account's notification shown: %v", nt)
				}
			}
			if l := expect(t, olga.do("GET", "/api/v1/timelines/public", nil), 200, "[]Status").([]any); len(l) != 1 {
				t.Errorf("muted account's post in public timeline: %d statuses", len(l))
			}
			expect(t, olga.do("POST", "/api/v1/accounts/"+samID+"/unmute", nil), 200, "Relationship")
			if rel := expect(t, olga.do("POST", "/api/v1/accounts/"+samID+"/block", nil), 200, "Relationship"); field(rel, "blocking") != true {
				t.Errorf("block: %v", rel)
			}
			if rel := expect(t, sam.do("GET", "/api/v1/accounts/relationships?id[]="+olgaID, nil), 200, "[]Relationship").([]any); field(rel[0], "blocked_by") != true {
				t.Errorf("blocked_by: %v", rel)
			}
			if l := expect(t, olga.do("GET", "/api/v1/blocks", nil), 200, "[]Account").([]any); len(l) != 1 {
				t.Errorf("blocks: %v", l)
			}
			expect(t, olga.do("POST", "/api/v1/accounts/"+samID+"/unblock", nil), 200, "Relationship")
			// A muted thread notifies no more.
			if m := expect(t, olga.do("POST", "/api/v1/statuses/"+sid+"/mute", nil), 200, "Status"); field(m, "muted") != true {
				t.Errorf("mute conversation: %v", m)
			}
			expect(t, ravi.do("POST", "/api/v1/statuses", map[string]any{"status": "Muted reply", "in_reply_to_id": sid}), 200, "Status")
			for _, nt := range expect(t, olga.do("GET", "/api/v1/notifications", nil), 200, "[]Notification").([]any) {
				if strings.Contains(str(field(nt, "status", "content")), "Muted reply") {
					t.Errorf("notified from a muted thread: %v", nt)
				}
			}
			if m := expect(t, olga.do("POST", "/api/v1/statuses/"+sid+"/unmute", nil), 200, "Status"); field(m, "muted") != false {
				t.Errorf("unmute conversation: %v", m)
			}
			expect(t, olga.do("POST", "/api/v1/domain_blocks", url.Values{"domain": {"spam.example"}}), 200, "object")
			if l := expect(t, olga.do("GET", "/api/v1/domain_blocks", nil), 200, "[]string").([]any); len(l) != 1 || l[0] != "spam.example" {
				t.Errorf("domain blocks: %v", l)
			}
			expect(t, olga.do("POST", "/api/v1/domain_blocks", url.Values{"domain": {n.Domain}}), 422, "Error")
			expect(t, olga.do("DELETE", "/api/v1/domain_blocks", url.Values{"domain": {"spam.example"}}), 200, "object")
			if rel := expect(t, olga.do("POST", "/api/v1/accounts/"+samID+"/note", url.Values{"comment": {"met at the conference"}}), 200, "Relationship"); field(rel, "note") != "met at the conference" {
				t.Errorf("note: %v", rel)
			}
			ff := expect(t, sam.do("GET", "/api/v1/accounts/familiar_followers?id[]="+raviID, nil), 200, "[]FamiliarFollower").([]any)
			if len(ff) != 1 {
				t.Errorf("familiar followers: %v", ff)
			}

			// Filters v2: a keyword filter warns in the public timeline.
			filter := expect(t, ravi.do("POST", "/api/v2/filters", map[string]any{
				"title": "Drafts", "context": []string{"public", "home"}, "filter_action": "warn",
				"keywords_attributes": []map[string]any{{"keyword": "draft", "whole_word": true}, {"keyword": "check"}},
			}), 200, "Filter")
			fid := str(field(filter, "id"))
			kws := field(filter, "keywords").([]any)
			if len(kws) != 2 {
				t.Fatalf("filter keywords: %v", filter)
			}
			pub := expect(t, ravi.do("GET", "/api/v1/timelines/public", nil), 200, "[]Status").([]any)
			var warned map[string]any
			for _, s := range pub {
				if field(s, "id") == sid {
					warned = s.(map[string]any)
				}
			}
			if fr, _ := warned["filtered"].([]any); len(fr) != 1 {
				t.Errorf("filtered: %v", warned["filtered"])
			} else {
				for _, e := range conform(fr[0], "FilterResult", "filtered[0]") {
					t.Errorf("contract: %s", e)
				}
			}
			expect(t, ravi.do("GET", "/api/v2/filters", nil), 200, "[]Filter")
			expect(t, ravi.do("GET", "/api/v2/filters/"+fid, nil), 200, "Filter")
			expect(t, sam.do("GET", "/api/v2/filters/"+fid, nil), 404, "Error")
			expect(t, ravi.do("GET", "/api/v2/filters/"+fid+"/keywords", nil), 200, "[]FilterKeyword")
			kw := expect(t, ravi.do("POST", "/api/v2/filters/"+fid+"/keywords", url.Values{"keyword": {"rota"}, "whole_word": {"false"}}), 200, "FilterKeyword")
			kid := str(field(kw, "id"))
			expect(t, ravi.do("GET", "/api/v2/filters/keywords/"+kid, nil), 200, "FilterKeyword")
			if k := expect(t, ravi.do("PUT", "/api/v2/filters/keywords/"+kid, url.Values{"keyword": {"rotas"}}), 200, "FilterKeyword"); field(k, "keyword") != "rotas" {
				t.Errorf("keyword update: %v", k)
			}
			expect(t, ravi.do("DELETE", "/api/v2/filters/keywords/"+kid, nil), 200, "object")
			fs := expect(t, ravi.do("POST", "/api/v2/filters/"+fid+"/statuses", url.Values{"status_id": {sid}}), 200, "FilterStatus")
			expect(t, ravi.do("GET", "/api/v2/filters/"+fid+"/statuses", nil), 200, "[]FilterStatus")
			expect(t, ravi.do("GET", "/api/v2/filters/statuses/"+str(field(fs, "id")), nil), 200, "FilterStatus")
			expect(t, ravi.do("DELETE", "/api/v2/filters/statuses/"+str(field(fs, "id")), nil), 200, "object")
			// Hiding takes the post out of the timeline.
			expect(t, ravi.do("PUT", "/api/v2/filters/"+fid, url.Values{"filter_action": {"hide"}}), 200, "Filter")
			for _, s := range expect(t, ravi.do("GET", "/api/v1/timelines/public", nil), 200, "[]Status").([]any) {
				if field(s, "id") == sid {
					t.Errorf("hidden by a filter but shown: %v", s)
				}
			}
			// v1 sees each keyword as a filter.
			v1 := expect(t, ravi.do("GET", "/api/v1/filters", nil), 200, "[]V1Filter").([]any)
			if len(v1) != 2 || field(v1[0], "irreversible") != true {
				t.Errorf("v1 filters: %v", v1)
			}
			created := expect(t, ravi.do("POST", "/api/v1/filters", url.Values{"phrase": {"night shift"}, "context[]": {"home"}}), 200, "V1Filter")
			v1id := str(field(created, "id"))
			expect(t, ravi.do("GET", "/api/v1/filters/"+v1id, nil), 200, "V1Filter")
			if u := expect(t, ravi.do("PUT", "/api/v1/filters/"+v1id, url.Values{"phrase": {"night shifts"}, "context[]": {"home", "thread"}}), 200, "V1Filter"); field(u, "phrase") != "night shifts" || len(field(u, "context").([]any)) != 2 {
				t.Errorf("v1 update: %v", u)
			}
			expect(t, ravi.do("DELETE", "/api/v1/filters/"+v1id, nil), 200, "object")
			expect(t, ravi.do("DELETE", "/api/v2/filters/"+fid, nil), 200, "object")
			if l := expect(t, ravi.do("GET", "/api/v2/filters", nil), 200, "[]Filter").([]any); len(l) != 0 {
				t.Errorf("filters left: %v", l)
			}
			expect(t, ravi.do("POST", "/api/v2/filters", url.Values{"title": {"x"}, "context[]": {"elsewhere"}}), 422, "Error")

			// Lists.
			list := expect(t, ravi.do("POST", "/api/v1/lists", url.Values{"title": {"Practice"}}), 200, "List")
			lid := str(field(list, "id"))
			expect(t, ravi.do("PUT", "/api/v1/lists/"+lid, url.Values{"title": {"Handover"}, "replies_policy": {"followed"}}), 200, "List")
			expect(t, ravi.do("POST", "/api/v1/lists/"+lid+"/accounts", url.Values{"account_ids[]": {groupID}}), 200, "object")
			expect(t, ravi.do("POST", "/api/v1/lists/"+lid+"/accounts", url.Values{"account_ids[]": {samID}}), 422, "Error")
			if l := expect(t, ravi.do("GET", "/api/v1/lists/"+lid+"/accounts", nil), 200, "[]Account").([]any); len(l) != 1 {
				t.Errorf("list accounts: %v", l)
			}
			if l := expect(t, ravi.do("GET", "/api/v1/timelines/list/"+lid, nil), 200, "[]Status").([]any); len(l) < 1 {
				t.Errorf("list timeline: %v", l)
			}
			if l := expect(t, ravi.do("GET", "/api/v1/accounts/"+groupID+"/lists", nil), 200, "[]List").([]any); len(l) != 1 {
				t.Errorf("account lists: %v", l)
			}
			expect(t, ravi.do("GET", "/api/v1/lists", nil), 200, "[]List")
			expect(t, ravi.do("GET", "/api/v1/lists/"+lid, nil), 200, "List")
			expect(t, olga.do("GET", "/api/v1/lists/"+lid, nil), 404, "Error")
			expect(t, ravi.do("DELETE", "/api/v1/lists/"+lid+"/accounts", url.Values{"account_ids[]": {groupID}}), 200, "object")
			expect(t, ravi.do("DELETE", "/api/v1/lists/"+lid, nil), 200, "object")

			// Hashtags: tag entity, follow, featured.
			tag := expect(t, ravi.do("GET", "/api/v1/tags/handover", nil), 200, "TagEntity")
			if h := field(tag, "history").([]any); len(h) != 7 || field(h[0], "uses") != "1" || field(tag, "following") != false {
				t.Errorf("tag: %v", tag)
			}
			if tg := expect(t, sam.do("POST", "/api/v1/tags/handover/follow", nil), 200, "TagEntity"); field(tg, "following") != true {
				t.Errorf("follow tag: %v", tg)
			}
			if l := expect(t, sam.do("GET", "/api/v1/followed_tags", nil), 200, "[]TagEntity").([]any); len(l) != 1 {
				t.Errorf("followed tags: %v", l)
			}
			expect(t, sam.do("POST", "/api/v1/tags/handover/unfollow", nil), 200, "TagEntity")
			expect(t, sam.do("POST", "/api/v1/tags/not%20a%20tag/follow", nil), 404, "Error")
			if l := expect(t, olga.do("GET", "/api/v1/featured_tags/suggestions", nil), 200, "[]TagEntity").([]any); len(l) != 1 {
				t.Errorf("featured tag suggestions: %v", l)
			}
			ft := expect(t, olga.do("POST", "/api/v1/featured_tags", url.Values{"name": {"handover"}}), 200, "FeaturedTag")
			if field(ft, "statuses_count") != "1" {
				t.Errorf("featured tag: %v", ft)
			}
			expect(t, olga.do("GET", "/api/v1/featured_tags", nil), 200, "[]FeaturedTag")
			if l := expect(t, anon.do("GET", "/api/v1/accounts/"+olgaID+"/featured_tags", nil), 200, "[]FeaturedTag").([]any); len(l) != 1 {
				t.Errorf("account featured tags: %v", l)
			}
			expect(t, olga.do("DELETE", "/api/v1/featured_tags/"+str(field(ft, "id")), nil), 200, "object")

			// Discovery.
			expect(t, anon.do("GET", "/api/v1/instance/peers", nil), 200, "[]string")
			weeks := expect(t, anon.do("GET", "/api/v1/instance/activity", nil), 200, "[]WeekActivity").([]any)
			if len(weeks) != 12 || field(weeks[0], "statuses") == "0" || field(weeks[0], "registrations") != "3" {
				t.Errorf("activity: %v", weeks[0])
			}
			expect(t, anon.do("GET", "/api/v1/instance/extended_description", nil), 200, "ExtendedDescription")
			dir := expect(t, anon.do("GET", "/api/v1/directory", nil), 200, "[]Account").([]any)
			if len(dir) != 2 { // ravi (discoverable) and the community
				t.Errorf("directory: %d accounts", len(dir))
			}
			member(t, n, "tia")
			tia := newClient(t, n, tokenFor(t, n, "tia", "read write follow"))
			if s := expect(t, tia.do("GET", "/api/v2/suggestions", nil), 200, "[]Suggestion").([]any); len(s) != 1 || field(s[0], "account", "id") != groupID {
				t.Errorf("suggestions: %v", s)
			}
			expect(t, tia.do("GET", "/api/v1/suggestions", nil), 200, "[]Account")
			expect(t, tia.do("DELETE", "/api/v1/suggestions/"+groupID, nil), 200, "object")
			if s := expect(t, tia.do("GET", "/api/v2/suggestions", nil), 200, "[]Suggestion").([]any); len(s) != 0 {
				t.Errorf("dismissed suggestion still suggested: %v", s)
			}
			if tr := expect(t, anon.do("GET", "/api/v1/trends/tags", nil), 200, "[]TagEntity").([]any); len(tr) != 1 {
				t.Errorf("trending tags: %v", tr)
			}
			if tr := expect(t, anon.do("GET", "/api/v1/trends/statuses", nil), 200, "[]Status").([]any); len(tr) != 1 || field(tr[0], "id") != sid {
				t.Errorf("trending statuses: %v", tr)
			}
			meta := expect(t, anon.do("GET", "/.well-known/oauth-authorization-server", nil), 200, "object")
			if field(meta, "authorization_endpoint") != n.URL+"/oauth/authorize" {
				t.Errorf("oauth metadata: %v", meta)
			}
			if r := ravi.do("POST", "/api/v1/accounts/"+olgaID+"/remove_from_followers", nil); r.StatusCode != http.StatusOK {
				t.Errorf("remove_from_followers: %d %s", r.StatusCode, r.body)
			}
			if rel := expect(t, olga.do("GET", "/api/v1/accounts/relationships?id[]="+raviID, nil), 200, "[]Relationship").([]any); field(rel[0], "following") != false {
				t.Errorf("still following after removal: %v", rel)
			}
		})
	}
}
