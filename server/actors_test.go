package server

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation/httpsig"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// actorFields are the fields every actor we serve must carry, present
// even when false or empty, because Mastodon, GoToSocial and Lemmy read
// them.
var actorFields = []string{
	"@context", "id", "type", "preferredUsername", "name", "summary", "url",
	"inbox", "outbox", "publicKey", "endpoints", "published",
	"manuallyApprovesFollowers", "discoverable",
}

func TestActorDocuments(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		f := seeded(t, db)
		for _, tc := range []struct {
			path, typ, username, golden string
			extra                       []string
			want                        map[string]any
		}{
			{
				path: "/c/practice", typ: "Group", username: "practice", golden: "group.json",
				extra: []string{"followers", "following", "featured", "featuredTags", "attributedTo", "moderators", "postingRestrictedToMods"},
				want: map[string]any{
					"name":                      "Practice",
					"featuredTags":              testBase + "/c/practice/tags",
					"manuallyApprovesFollowers": true,
					"discoverable":              true,
					"postingRestrictedToMods":   false,
					"featured":                  testBase + "/c/practice/featured",
					"attributedTo":              testBase + "/c/practice/moderators",
					"moderators":                testBase + "/c/practice/moderators",
					"followers":                 testBase + "/c/practice/followers",
					"following":                 testBase + "/c/practice/following",
					"summary":                   "<p>Early-years literacy: cases, tools &amp; stories.</p><p>All practitioners &lt;welcome&gt;.</p>",
				},
			},
			{
				path: "/u/alice", typ: "Person", username: "alice", golden: "person.json",
				extra: []string{"followers", "following", "featuredTags"},
				want: map[string]any{
					"name":                      "Alice Example",
					"featuredTags":              testBase + "/u/alice/tags",
					"manuallyApprovesFollowers": false,
					"discoverable":              false,
					"summary":                   "",
					"url":                       testBase + "/u/alice",
				},
			},
			{
				path: "/actor", typ: "Application", username: testDomain, golden: "application.json",
				want: map[string]any{
					"inbox":                     testBase + "/actor/inbox",
					"outbox":                    testBase + "/actor/outbox",
					"url":                       testBase + "/about",
					"manuallyApprovesFollowers": true,
				},
			},
		} {
			t.Run(tc.typ, func(t *testing.T) {
				for _, accept := range []string{acceptAP, acceptLD} {
					res := f.get(tc.path, accept)
					mustStatus(t, res, http.StatusOK)
					if ct := res.Header.Get("Content-Type"); ct != "application/activity+json" {
						t.Errorf("Accept %s: Content-Type %q", accept, ct)
					}
					if !strings.Contains(res.Header.Get("Vary"), "Accept") {
						t.Errorf("Vary %q lacks Accept", res.Header.Get("Vary"))
					}
				}
				res := f.get(tc.path, acceptAP)
				var doc map[string]any
				if err := json.Unmarshal(res.body, &doc); err != nil {
					t.Fatal(err)
				}
				for _, k := range append(actorFields, tc.extra...) {
					if _, ok := doc[k]; !ok {
						t.Errorf("field %q missing", k)
					}
				}
				id := testBase + tc.path
				for k, v := range map[string]any{
					"id": id, "type": tc.typ, "preferredUsername": tc.username,
					"inbox": id + "/inbox", "outbox": id + "/outbox",
				} {
					if tc.want[k] == nil {
						tc.want[k] = v
					}
				}
				for k, v := range tc.want {
					if doc[k] != v {
						t.Errorf("%s = %#v, want %#v", k, doc[k], v)
					}
				}
				ctx, _ := doc["@context"].([]any)
				if len(ctx) < 2 || ctx[0] != "https://www.w3.org/ns/activitystreams" || ctx[1] != "https://w3id.org/security/v1" {
					t.Errorf("@context %v", doc["@context"])
				}
				if ep, _ := doc["endpoints"].(map[string]any); ep["sharedInbox"] != testBase+"/inbox" {
					t.Errorf("endpoints %v", doc["endpoints"])
				}

				actor, err := vocab.ParseActor(res.body)
				if err != nil {
					t.Fatalf("vocab.ParseActor: %v", err)
				}
				if len(actor.PublicKey) != 1 {
					t.Fatalf("publicKey %+v", actor.PublicKey)
				}
				key := actor.PublicKey[0]
				if key.ID != id+"#main-key" || string(key.Owner) != id {
					t.Errorf("publicKey id %q owner %q", key.ID, key.Owner)
				}
				if _, err := httpsig.ParsePublicKeyPEM([]byte(key.PublicKeyPem)); err != nil {
					t.Errorf("publicKeyPem: %v", err)
				}
				if actor.Published.IsZero() {
					t.Error("published is zero")
				}
				golden(t, tc.golden, res.body)
			})
		}
	})
}

func TestGroupOpenCommunity(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storagetest.Open(t, storage.SQLite))
	if _, err := f.svc.CreateCommunity(t.Context(), federationCommunity("open", false)); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	f.getJSON("/c/open", &doc)
	if doc["manuallyApprovesFollowers"] != false {
		t.Errorf("manuallyApprovesFollowers %v, want false", doc["manuallyApprovesFollowers"])
	}
	if doc["summary"] != "" {
		t.Errorf("summary %v, want empty string", doc["summary"])
	}
}

// Members and communities share one namespace but each lives under its
// own path: the other path does not find it.
func TestActorPathsMatchTypes(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		f := seeded(t, db)
		for _, path := range []string{
			"/u/practice", "/c/alice", "/u/nobody", "/c/nobody", "/u/community.example",
			"/c/" + strings.Repeat("a", 31), "/u/practice/outbox", "/c/alice/followers", "/c/alice/moderators",
		} {
			res := f.get(path, acceptAP)
			mustStatus(t, res, http.StatusNotFound)
			var body struct{ Error string }
			if err := json.Unmarshal(res.body, &body); err != nil || body.Error == "" {
				t.Errorf("%s: body %s is not a JSON error", path, res.body)
			}
		}
		// Names are case-insensitive; the document keeps the canonical id.
		var doc map[string]any
		f.getJSON("/c/Practice", &doc)
		if doc["id"] != testBase+"/c/practice" {
			t.Errorf("id %v", doc["id"])
		}
	})
}

func TestContentNegotiation(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		f := seeded(t, db)
		for _, tc := range []struct {
			path, accept, mediaType string
		}{
			{"/c/practice", acceptHTML, "text/html"},
			{"/c/practice", "", "text/html"},
			{"/c/practice", "*/*", "text/html"},
			{"/c/practice", acceptAP, "application/activity+json"},
			{"/c/practice", acceptLD, "application/activity+json"},
			{"/c/practice", `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, "application/activity+json"},
			{"/c/practice", "application/json", "application/activity+json"},
			// ld+json with another profile is not an ActivityPub request.
			{"/c/practice", `application/ld+json; profile="http://example.org/other", text/html`, "text/html"},
			{"/u/alice", acceptHTML, "text/html"},
			{"/u/alice", acceptAP, "application/activity+json"},
		} {
			res := f.get(tc.path, tc.accept)
			mustStatus(t, res, http.StatusOK)
			mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
			if mt != tc.mediaType {
				t.Errorf("%s with Accept %q: %s, want %s", tc.path, tc.accept, mt, tc.mediaType)
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept") {
				t.Errorf("%s with Accept %q: Vary %q", tc.path, tc.accept, res.Header.Get("Vary"))
			}
		}
		// People asking for the instance actor are sent to the about page.
		res := f.get("/actor", acceptHTML)
		mustStatus(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/about" {
			t.Errorf("Location %q", loc)
		}
	})
}

func TestAllActorsParse(t *testing.T) {
	t.Parallel()
	f := seeded(t, storagetest.Open(t, storage.SQLite))
	for _, path := range []string{"/c/practice", "/u/alice", "/actor"} {
		res := f.get(path, acceptAP)
		mustStatus(t, res, http.StatusOK)
		a, err := vocab.ParseActor(res.body)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if string(a.Inbox) == "" || string(a.Outbox) == "" || a.SharedInbox() == "" || len(a.PublicKey) != 1 {
			t.Errorf("%s: parsed actor lacks inbox, outbox, shared inbox or key: %+v", path, a)
		}
		if a.Type == vocab.TypeGroup && a.ModeratorsCollection() != testBase+"/c/practice/moderators" {
			t.Errorf("moderators collection %q", a.ModeratorsCollection())
		}
	}
}
