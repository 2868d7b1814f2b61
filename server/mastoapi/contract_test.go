package mastoapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/server/fedtest"
)

// The entities of Mastodon's API documentation (docs.joinmastodon.org/
// entities), written down as field -> JSON type. Every response of every
// endpoint is checked against them: a renamed field, a number sent as a
// string, a null where the docs promise a value fails the test.
//
// Types: string, number, boolean, array, object, datetime (an ISO 8601
// string), or the name of another entity; "[]Entity" is an array of it.

type spec struct {
	typ      string
	nullable bool
	optional bool
}

func req(typ string) spec  { return spec{typ: typ} }
func null(typ string) spec { return spec{typ: typ, nullable: true} }
func opt(typ string) spec  { return spec{typ: typ, optional: true, nullable: true} }

var entities = map[string]map[string]spec{
	"Account": {
		"id": req("string"), "username": req("string"), "acct": req("string"), "url": req("string"),
		"display_name": req("string"), "note": req("string"), "avatar": req("string"),
		"avatar_static": req("string"), "header": req("string"), "header_static": req("string"),
		"locked": req("boolean"), "fields": req("[]Field"), "emojis": req("[]CustomEmoji"),
		"bot": req("boolean"), "group": req("boolean"), "discoverable": null("boolean"),
		"noindex": opt("boolean"), "moved": opt("Account"), "suspended": opt("boolean"),
		"limited": opt("boolean"), "created_at": req("datetime"), "last_status_at": null("string"),
		"statuses_count": req("number"), "followers_count": req("number"), "following_count": req("number"),
		"uri": req("string"), "indexable": opt("boolean"), "hide_collections": opt("boolean"), "roles": opt("array"),
	},
	"CredentialAccount": {
		// Account's fields and these.
		"source": req("AccountSource"), "role": opt("Role"),
	},
	"AccountSource": {
		"note": req("string"), "fields": req("[]Field"), "privacy": req("string"), "sensitive": req("boolean"),
		"language": req("string"), "follow_requests_count": req("number"),
	},
	"Role":        {"id": req("string"), "name": req("string"), "permissions": req("string"), "color": req("string"), "highlighted": req("boolean")},
	"Field":       {"name": req("string"), "value": req("string"), "verified_at": null("datetime")},
	"CustomEmoji": {"shortcode": req("string"), "url": req("string"), "static_url": req("string"), "visible_in_picker": req("boolean")},
	"Status": {
		"id": req("string"), "uri": req("string"), "created_at": req("datetime"), "account": req("Account"),
		"content": req("string"), "visibility": req("string"), "sensitive": req("boolean"),
		"spoiler_text": req("string"), "media_attachments": req("array"), "application": opt("object"),
		"mentions": req("[]StatusMention"), "tags": req("[]StatusTag"), "emojis": req("[]CustomEmoji"),
		"reblogs_count": req("number"), "favourites_count": req("number"), "replies_count": req("number"),
		"url": null("string"), "in_reply_to_id": null("string"), "in_reply_to_account_id": null("string"),
		"reblog": null("Status"), "poll": null("Poll"), "card": null("object"), "language": null("string"),
		"text": null("string"), "edited_at": null("datetime"), "favourited": opt("boolean"),
		"reblogged": opt("boolean"), "muted": opt("boolean"), "bookmarked": opt("boolean"),
		"pinned": opt("boolean"), "filtered": opt("array"),
	},
	"Poll": {
		"id": req("string"), "expires_at": null("datetime"), "expired": req("boolean"), "multiple": req("boolean"),
		"votes_count": req("number"), "voters_count": null("number"), "options": req("[]PollOption"),
		"emojis": req("[]CustomEmoji"), "voted": opt("boolean"), "own_votes": opt("array"),
	},
	"PollOption":    {"title": req("string"), "votes_count": null("number")},
	"StatusMention": {"id": req("string"), "username": req("string"), "url": req("string"), "acct": req("string")},
	"StatusTag":     {"name": req("string"), "url": req("string")},
	"Tag":           {"name": req("string"), "url": req("string"), "history": req("array"), "following": opt("boolean")},
	"Relationship": {
		"id": req("string"), "following": req("boolean"), "showing_reblogs": req("boolean"),
		"notifying": req("boolean"), "languages": null("array"), "followed_by": req("boolean"),
		"blocking": req("boolean"), "blocked_by": req("boolean"), "muting": req("boolean"),
		"muting_notifications": req("boolean"), "requested": req("boolean"), "requested_by": req("boolean"),
		"domain_blocking": req("boolean"), "endorsed": req("boolean"), "note": req("string"),
	},
	"Notification": {
		"id": req("string"), "type": req("string"), "created_at": req("datetime"), "account": req("Account"),
		"status": opt("Status"), "report": opt("object"), "group_key": opt("string"),
	},
	"Context":       {"ancestors": req("[]Status"), "descendants": req("[]Status")},
	"Search":        {"accounts": req("[]Account"), "statuses": req("[]Status"), "hashtags": req("[]Tag")},
	"Marker":        {"last_read_id": req("string"), "version": req("number"), "updated_at": req("datetime")},
	"Application":   {"name": req("string"), "website": null("string"), "scopes": opt("array"), "redirect_uris": opt("array"), "redirect_uri": opt("string"), "vapid_key": opt("string")},
	"CredentialApp": {"client_id": req("string"), "client_secret": req("string"), "id": req("string")},
	"WebPushSubscription": {
		"id": req("string"), "endpoint": req("string"), "standard": opt("boolean"), "alerts": req("object"),
		"policy": req("string"), "server_key": req("string"),
	},
	"Token": {"access_token": req("string"), "token_type": req("string"), "scope": req("string"), "created_at": req("number")},
	"Error": {"error": req("string"), "error_description": opt("string")},
	"InstanceV1": {
		"uri": req("string"), "title": req("string"), "short_description": req("string"), "description": req("string"),
		"email": req("string"), "version": req("string"), "urls": req("object"), "stats": req("InstanceStats"),
		"thumbnail": null("string"), "languages": req("array"), "registrations": req("boolean"),
		"approval_required": req("boolean"), "invites_enabled": req("boolean"), "configuration": req("ConfigurationV1"),
		"contact_account": null("Account"), "rules": req("array"),
	},
	"InstanceStats":   {"user_count": req("number"), "status_count": req("number"), "domain_count": req("number")},
	"ConfigurationV1": {"statuses": req("StatusesConfig"), "media_attachments": req("object"), "polls": req("object"), "accounts": opt("object")},
	"StatusesConfig":  {"max_characters": req("number"), "max_media_attachments": req("number"), "characters_reserved_per_url": req("number")},
	"InstanceV2": {
		"domain": req("string"), "title": req("string"), "version": req("string"), "source_url": req("string"),
		"description": req("string"), "usage": req("object"), "thumbnail": req("object"), "languages": req("array"),
		"configuration": req("ConfigurationV2"), "registrations": req("object"), "contact": req("object"), "rules": req("array"),
	},
	"ConfigurationV2": {
		"urls": req("object"), "accounts": req("object"), "statuses": req("StatusesConfig"),
		"media_attachments": req("object"), "polls": req("object"), "translation": req("object"),
	},
}

// conform checks v against entity name and returns the problems found.
func conform(v any, name, at string) []string {
	s, ok := entities[name]
	if !ok {
		panic("no entity " + name)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: want a %s object, got %T", at, name, v)}
	}
	var errs []string
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := s[k]
		val, present := m[k]
		path := at + "." + k
		switch {
		case !present && f.optional:
		case !present:
			errs = append(errs, path+": missing")
		case val == nil && f.nullable:
		case val == nil:
			errs = append(errs, path+": null, want "+f.typ)
		default:
			errs = append(errs, checkType(val, f.typ, path)...)
		}
	}
	return errs
}

func checkType(val any, typ, path string) []string {
	bad := func() []string { return []string{fmt.Sprintf("%s: %T (%v), want %s", path, val, val, typ)} }
	switch typ {
	case "string":
		if _, ok := val.(string); !ok {
			return bad()
		}
	case "datetime":
		s, ok := val.(string)
		if !ok {
			return bad()
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return []string{fmt.Sprintf("%s: %q is not an ISO 8601 datetime", path, s)}
		}
	case "number":
		if _, ok := val.(float64); !ok {
			return bad()
		}
	case "boolean":
		if _, ok := val.(bool); !ok {
			return bad()
		}
	case "array":
		if _, ok := val.([]any); !ok {
			return bad()
		}
	case "object":
		if _, ok := val.(map[string]any); !ok {
			return bad()
		}
	default:
		if elem, ok := strings.CutPrefix(typ, "[]"); ok {
			l, ok := val.([]any)
			if !ok {
				return bad()
			}
			var errs []string
			for i, e := range l {
				at := fmt.Sprintf("%s[%d]", path, i)
				if _, entity := entities[elem]; entity {
					errs = append(errs, conform(e, elem, at)...)
				} else {
					errs = append(errs, checkType(e, elem, at)...)
				}
			}
			return errs
		}
		return conform(val, typ, path)
	}
	return nil
}

// expect checks a response's status and its body against an entity
// ("[]Name" for a list).
func expect(t *testing.T, r response, status int, entity string) any {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q", r.Request.Method, r.Request.URL.Path, ct)
	}
	v := r.json(t)
	var errs []string
	if elem, ok := strings.CutPrefix(entity, "[]"); ok {
		errs = checkType(v, "[]"+elem, r.Request.URL.Path)
	} else if entity == "object" {
		errs = checkType(v, "object", r.Request.URL.Path)
	} else {
		errs = conform(v, entity, r.Request.URL.Path)
		if entity == "CredentialAccount" {
			errs = append(errs, conform(v, "Account", r.Request.URL.Path)...)
		}
		if entity == "CredentialApp" {
			errs = append(errs, conform(v, "Application", r.Request.URL.Path)...)
		}
	}
	for _, e := range errs {
		t.Errorf("contract: %s", e)
	}
	return v
}

// The schema checker itself must catch what it is for.
func TestConformCatchesDrift(t *testing.T) {
	good := map[string]any{"last_read_id": "1", "version": 1.0, "updated_at": "2026-01-02T03:04:05.000Z"}
	if errs := conform(good, "Marker", "m"); len(errs) > 0 {
		t.Fatalf("good marker refused: %v", errs)
	}
	for name, bad := range map[string]map[string]any{
		"missing field":     {"last_read_id": "1", "version": 1.0},
		"id as number":      {"last_read_id": 1.0, "version": 1.0, "updated_at": "2026-01-02T03:04:05Z"},
		"null not nullable": {"last_read_id": nil, "version": 1.0, "updated_at": "2026-01-02T03:04:05Z"},
		"bad datetime":      {"last_read_id": "1", "version": 1.0, "updated_at": "yesterday"},
	} {
		if errs := conform(bad, "Marker", "m"); len(errs) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
}

// Every endpoint answers in the shape of Mastodon's entities.
func TestContract(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			n := fedtest.Start(t, d)
			member(t, n, "olga")
			member(t, n, "ravi")
			n.Community("practice", false, "olga")
			n.Community("council", true, "olga")
			olga := newClient(t, n, tokenFor(t, n, "olga", "read write follow"))
			ravi := newClient(t, n, tokenFor(t, n, "ravi", "read write follow"))
			anon := newClient(t, n, "")

			expect(t, anon.do("GET", "/api/v1/instance", nil), 200, "InstanceV1")
			v2 := expect(t, anon.do("GET", "/api/v2/instance", nil), 200, "InstanceV2")
			if field(v2, "configuration", "statuses", "max_characters") != 10000.0 {
				t.Errorf("max_characters = %v", field(v2, "configuration", "statuses", "max_characters"))
			}
			me := expect(t, olga.do("GET", "/api/v1/accounts/verify_credentials", nil), 200, "CredentialAccount")
			olgaID := str(field(me, "id"))

			group := expect(t, anon.do("GET", "/api/v1/accounts/lookup?acct=practice", nil), 200, "Account")
			if field(group, "group") != true || field(group, "acct") != "practice" {
				t.Errorf("community account: %v", group)
			}
			groupID := str(field(group, "id"))
			council := expect(t, anon.do("GET", "/api/v1/accounts/lookup?acct=council@"+n.Domain, nil), 200, "Account")
			if field(council, "locked") != true {
				t.Errorf("closed community not locked: %v", council)
			}
			expect(t, anon.do("GET", "/api/v1/accounts/"+olgaID, nil), 200, "Account")

			rel := expect(t, ravi.do("POST", "/api/v1/accounts/"+groupID+"/follow", nil), 200, "Relationship")
			if field(rel, "following") != true {
				t.Errorf("follow of an open community: %v", rel)
			}
			rel = expect(t, ravi.do("POST", "/api/v1/accounts/"+str(field(council, "id"))+"/follow", nil), 200, "Relationship")
			if field(rel, "requested") != true || field(rel, "following") != false {
				t.Errorf("follow of a closed community: %v", rel)
			}
			rels := expect(t, ravi.do("GET", "/api/v1/accounts/relationships?id[]="+groupID+"&id[]="+olgaID, nil), 200, "[]Relationship").([]any)
			if len(rels) != 2 || field(rels[0], "id") != groupID {
				t.Errorf("relationships: %v", rels)
			}

			st := expect(t, olga.do("POST", "/api/v1/statuses", url.Values{
				"status": {"@practice How do you run #Handover meetings?"}, "language": {"en"}, "spoiler_text": {"work"},
			}), 200, "Status")
			statusID := str(field(st, "id"))
			content := str(field(st, "content"))
			if !strings.Contains(content, `class="u-url mention"`) || !strings.Contains(content, `class="mention hashtag"`) ||
				!strings.Contains(content, `/tags/handover"`) || !strings.Contains(content, `#<span>Handover</span></a>`) {
				t.Errorf("content not rendered as Mastodon does: %s", content)
			}
			if strings.Contains(content, "@practice How") {
				t.Errorf("community mention repeated in the text: %s", content)
			}
			if field(st, "language") != "en" || field(st, "spoiler_text") != "work" || field(st, "sensitive") != true {
				t.Errorf("status fields: %v", st)
			}
			if tags := field(st, "tags").([]any); len(tags) != 1 || field(tags[0], "name") != "handover" {
				t.Errorf("tags: %v", field(st, "tags"))
			}
			if m := field(st, "mentions").([]any); len(m) != 1 || field(m[0], "id") != groupID {
				t.Errorf("mentions: %v", field(st, "mentions"))
			}
			expect(t, anon.do("GET", "/api/v1/statuses/"+statusID, nil), 200, "Status")
			reply := expect(t, ravi.do("POST", "/api/v1/statuses", map[string]any{"status": "We use a checklist.", "in_reply_to_id": statusID}), 200, "Status")
			if field(reply, "in_reply_to_id") != statusID || field(reply, "in_reply_to_account_id") != olgaID {
				t.Errorf("reply: %v", reply)
			}
			ctx := expect(t, anon.do("GET", "/api/v1/statuses/"+statusID+"/context", nil), 200, "Context")
			if d := field(ctx, "descendants").([]any); len(d) != 1 || field(d[0], "id") != field(reply, "id") {
				t.Errorf("context descendants: %v", d)
			}
			ctx = expect(t, anon.do("GET", "/api/v1/statuses/"+str(field(reply, "id"))+"/context", nil), 200, "Context")
			if a := field(ctx, "ancestors").([]any); len(a) != 1 || field(a[0], "id") != statusID {
				t.Errorf("context ancestors: %v", a)
			}
			fav := expect(t, ravi.do("POST", "/api/v1/statuses/"+statusID+"/favourite", nil), 200, "Status")
			if field(fav, "favourited") != true || field(fav, "favourites_count") != 1.0 {
				t.Errorf("favourite: %v", fav)
			}
			edited := expect(t, olga.do("PUT", "/api/v1/statuses/"+statusID, url.Values{"status": {"How do you run #handover meetings safely?"}}), 200, "Status")
			if field(edited, "edited_at") == nil || !strings.Contains(str(field(edited, "content")), "safely") {
				t.Errorf("edit: %v", edited)
			}

			home := expect(t, ravi.do("GET", "/api/v1/timelines/home", nil), 200, "[]Status").([]any)
			if len(home) != 2 {
				t.Fatalf("home timeline has %d statuses, want the post and ravi's reply", len(home))
			}
			boost := home[1] // older: olga's post
			if field(boost, "account", "group") != true || field(boost, "reblog", "id") != statusID {
				t.Errorf("home: a community's post is not its reblog: %v", boost)
			}
			expect(t, anon.do("GET", "/api/v1/timelines/public?local=true", nil), 200, "[]Status")
			expect(t, anon.do("GET", "/api/v1/timelines/public?remote=true", nil), 200, "[]Status")
			tagged := expect(t, anon.do("GET", "/api/v1/timelines/tag/handover", nil), 200, "[]Status").([]any)
			if len(tagged) != 1 {
				t.Errorf("tag timeline: %d statuses", len(tagged))
			}
			expect(t, anon.do("GET", "/api/v1/accounts/"+olgaID+"/statuses", nil), 200, "[]Status")
			groupStatuses := expect(t, anon.do("GET", "/api/v1/accounts/"+groupID+"/statuses", nil), 200, "[]Status").([]any)
			if len(groupStatuses) != 1 || field(groupStatuses[0], "reblog", "id") != statusID {
				t.Errorf("community statuses: %v", groupStatuses)
			}

			notes := expect(t, olga.do("GET", "/api/v1/notifications", nil), 200, "[]Notification").([]any)
			types := map[string]bool{}
			for _, nt := range notes {
				types[str(field(nt, "type"))] = true
			}
			for _, want := range []string{"follow", "follow_request", "mention", "favourite"} {
				if !types[want] {
					t.Errorf("no %s notification for the owner; got %v", want, types)
				}
			}
			expect(t, olga.do("GET", "/api/v1/notifications/"+str(field(notes[0], "id")), nil), 200, "Notification")
			reqs := expect(t, olga.do("GET", "/api/v1/follow_requests", nil), 200, "[]Account").([]any)
			if len(reqs) != 1 || field(reqs[0], "username") != "ravi" {
				t.Fatalf("follow requests: %v", reqs)
			}
			expect(t, olga.do("POST", "/api/v1/follow_requests/"+str(field(reqs[0], "id"))+"/authorize", nil), 200, "Relationship")
			rel = expect(t, ravi.do("GET", "/api/v1/accounts/relationships?id[]="+str(field(council, "id")), nil), 200, "[]Relationship")
			if field(rel.([]any)[0], "following") != true {
				t.Errorf("request approved but not following: %v", rel)
			}

			res := expect(t, ravi.do("GET", "/api/v2/search?q=handov", nil), 200, "Search")
			if h := field(res, "hashtags").([]any); len(h) != 1 {
				t.Errorf("hashtag search: %v", h)
			}
			res = expect(t, ravi.do("GET", "/api/v2/search?q=@practice@"+n.Domain+"&resolve=true", nil), 200, "Search")
			if a := field(res, "accounts").([]any); len(a) != 1 || field(a[0], "id") != groupID {
				t.Errorf("account search: %v", a)
			}

			m := expect(t, ravi.do("POST", "/api/v1/markers", map[string]any{"home": map[string]any{"last_read_id": statusID}}), 200, "object").(map[string]any)
			conformMarkers(t, m)
			m = expect(t, ravi.do("GET", "/api/v1/markers?timeline[]=home&timeline[]=notifications", nil), 200, "object").(map[string]any)
			conformMarkers(t, m)
			if field(m, "home", "last_read_id") != statusID {
				t.Errorf("markers: %v", m)
			}

			app := expect(t, anon.do("POST", "/api/v1/apps", url.Values{"client_name": {"Test"}, "redirect_uris": {"urn:ietf:wg:oauth:2.0:oob"}, "scopes": {"read write"}}), 200, "CredentialApp")
			tok := expect(t, anon.do("POST", "/oauth/token", url.Values{
				"grant_type": {"client_credentials"}, "client_id": {str(field(app, "client_id"))}, "client_secret": {str(field(app, "client_secret"))}, "scope": {"read"},
			}), 200, "Token")
			appClient := newClient(t, n, str(field(tok, "access_token")))
			expect(t, appClient.do("GET", "/api/v1/apps/verify_credentials", nil), 200, "Application")
			expect(t, appClient.do("GET", "/api/v1/accounts/verify_credentials", nil), 422, "Error")

			// Only the author or a moderator deletes.
			expect(t, ravi.do("DELETE", "/api/v1/statuses/"+statusID, nil), 403, "Error")
			deleted := expect(t, ravi.do("DELETE", "/api/v1/statuses/"+str(field(reply, "id")), nil), 200, "Status")
			if field(deleted, "text") != "We use a checklist." {
				t.Errorf("deleted status has no source text: %v", deleted)
			}
			expect(t, anon.do("GET", "/api/v1/statuses/"+str(field(reply, "id")), nil), 404, "Error")
			unf := expect(t, ravi.do("POST", "/api/v1/statuses/"+statusID+"/unfavourite", nil), 200, "Status")
			if field(unf, "favourited") != false || field(unf, "favourites_count") != 0.0 {
				t.Errorf("unfavourite: %v", unf)
			}
			rel = expect(t, ravi.do("POST", "/api/v1/accounts/"+groupID+"/unfollow", nil), 200, "Relationship")
			if field(rel, "following") != false {
				t.Errorf("unfollow: %v", rel)
			}
			if r := anon.do("GET", "/api/v1/instance", nil); r.Header.Get("X-RateLimit-Limit") != "300" || r.Header.Get("X-RateLimit-Remaining") == "" {
				t.Errorf("rate limit headers: %v", r.Header)
			} else if _, err := time.Parse(time.RFC3339, r.Header.Get("X-RateLimit-Reset")); err != nil {
				t.Errorf("X-RateLimit-Reset: %v", err)
			}
			_ = http.StatusOK
		})
	}
}

func conformMarkers(t *testing.T, m map[string]any) {
	t.Helper()
	for k, v := range m {
		for _, e := range conform(v, "Marker", "markers."+k) {
			t.Errorf("contract: %s", e)
		}
	}
}
