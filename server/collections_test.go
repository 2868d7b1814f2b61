package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/piprate/json-gold/ld"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// walk reads a paged collection from its root through every next link and
// returns its totalItems and the items of all pages.
func walk(t *testing.T, f *fixture, path string) (int, []vocab.Ref) {
	t.Helper()
	res := f.get(path, acceptAP)
	mustStatus(t, res, http.StatusOK)
	root, err := vocab.ParseCollection(res.body)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if root.Type != vocab.TypeOrderedCollection || root.ID != testBase+path || root.TotalItems == nil {
		t.Fatalf("%s: root %+v", path, root)
	}
	next := root.First.ID()
	if next != testBase+path+"?page=true" {
		t.Fatalf("%s: first %q", path, next)
	}
	var items []vocab.Ref
	for pages := 0; next != ""; pages++ {
		if pages > 100 {
			t.Fatalf("%s: more than 100 pages", path)
		}
		res := f.get(strings.TrimPrefix(next, testBase), acceptAP)
		mustStatus(t, res, http.StatusOK)
		var raw map[string]any
		if err := json.Unmarshal(res.body, &raw); err != nil {
			t.Fatal(err)
		}
		if _, ok := raw["orderedItems"].([]any); !ok {
			t.Errorf("%s: orderedItems is not a list: %s", next, res.body)
		}
		page, err := vocab.ParseCollection(res.body)
		if err != nil {
			t.Fatalf("%s: %v", next, err)
		}
		if page.Type != vocab.TypeOrderedCollectionPage || page.ID != next || string(page.PartOf) != root.ID {
			t.Errorf("%s: page %+v", next, page)
		}
		if n := len(page.OrderedItems); n > pageSize || n < pageSize && page.Next != "" {
			t.Errorf("%s: %d items with next %q", next, n, page.Next)
		}
		items = append(items, page.OrderedItems...)
		next = string(page.Next)
	}
	return *root.TotalItems, items
}

func TestCollections(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		f := seeded(t, db)
		ctx := t.Context()
		com, err := db.GetCommunityByName(ctx, "practice")
		if err != nil {
			t.Fatal(err)
		}
		alice, err := db.GetAccountByUsername(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}

		// 60 remote members, and one still pending who must not show.
		const remote = 60
		want := map[string]bool{alice.Actor.URI: true}
		for i := range remote + 1 {
			a := &storage.Actor{
				URI: fmt.Sprintf("https://remote.example/users/m%d", i), Type: storage.TypePerson,
				Username: fmt.Sprintf("m%d", i), Domain: "remote.example",
				InboxURI: fmt.Sprintf("https://remote.example/users/m%d/inbox", i),
			}
			if err := db.UpsertRemoteActor(ctx, a); err != nil {
				t.Fatal(err)
			}
			state := storage.StateAccepted
			if i == remote {
				state = storage.StatePending
			} else {
				want[a.URI] = true
			}
			if err := db.PutMembership(ctx, &storage.Membership{CommunityActorID: com.ActorID, MemberActorID: a.ID, State: state}); err != nil {
				t.Fatal(err)
			}
		}
		total, items := walk(t, f, "/c/practice/followers")
		if total != remote+1 || len(items) != remote+1 {
			t.Errorf("followers: totalItems %d, %d items; want %d", total, len(items), remote+1)
		}
		for _, it := range items {
			if !want[it.ID()] {
				t.Errorf("followers: unexpected or repeated item %q", it.ID())
			}
			delete(want, it.ID())
		}

		// 52 posts and a reply by alice in the community.
		var first string
		for i := range 53 {
			o := &storage.Object{
				URI: f.svc.URLs.NewObject(), Type: vocab.TypeNote, AuthorActorID: alice.ActorID,
				CommunityActorID: &com.ActorID, Content: fmt.Sprintf("<p>post %d</p>", i),
				Local: true, PublishedAt: time.Now().UTC(),
			}
			if i == 52 {
				o.InReplyToURI = first
			}
			if err := db.CreateObject(ctx, o); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = o.URI
			}
		}
		total, items = walk(t, f, "/c/practice/outbox")
		if total != 52 || len(items) != 52 {
			t.Errorf("community outbox: totalItems %d, %d items; want 52", total, len(items))
		}
		for _, it := range items {
			act, err := it.Activity()
			if err != nil {
				t.Fatal(err)
			}
			if act.Type != vocab.TypeAnnounce || string(act.Actor) != testBase+"/c/practice" || !act.IsPublic() {
				t.Errorf("community outbox item %+v", act)
			}
		}
		if act, _ := items[len(items)-1].Activity(); act.Object.ID() != first {
			t.Errorf("community outbox is not newest first: last item announces %q", act.Object.ID())
		}
		total, items = walk(t, f, "/u/alice/outbox")
		if total != 53 || len(items) != 53 {
			t.Errorf("member outbox: totalItems %d, %d items; want 53", total, len(items))
		}
		if act, err := items[0].Activity(); err != nil || act.Type != vocab.TypeCreate || string(act.Actor) != testBase+"/u/alice" {
			t.Errorf("member outbox item %+v, %v", act, err)
		}

		total, items = walk(t, f, "/u/alice/following")
		if total != 1 || len(items) != 1 || items[0].ID() != testBase+"/c/practice" {
			t.Errorf("following: %d %v", total, items)
		}
		for _, path := range []string{"/u/alice/followers", "/c/practice/following"} {
			if total, items = walk(t, f, path); total != 0 || len(items) != 0 {
				t.Errorf("%s: %d %v, want empty", path, total, items)
			}
		}

		// Inline collections, read by Lemmy without paging.
		for _, tc := range []struct {
			path  string
			items []string
		}{
			{"/c/practice/moderators", []string{testBase + "/u/alice"}},
			{"/c/practice/featured", nil},
			{"/u/alice/featured", nil},
			{"/actor/outbox", nil},
			{"/actor/featured", nil},
		} {
			var raw map[string]any
			res := f.getJSON(tc.path, &raw)
			if _, ok := raw["orderedItems"].([]any); !ok {
				t.Errorf("%s: orderedItems is not a list: %s", tc.path, res.body)
			}
			c, err := vocab.ParseCollection(res.body)
			if err != nil {
				t.Fatal(err)
			}
			ids := c.Members().IDs()
			if c.Type != vocab.TypeOrderedCollection || c.ID != testBase+tc.path || c.TotalItems == nil ||
				*c.TotalItems != len(tc.items) || strings.Join(ids, " ") != strings.Join(tc.items, " ") {
				t.Errorf("%s: %s", tc.path, res.body)
			}
		}
	})
}

func TestCollectionPageParameter(t *testing.T) {
	t.Parallel()
	f := seeded(t, storagetest.Open(t, storage.SQLite))
	for _, q := range []string{
		"page", "page=", "page=abc", "page=0", "page=-1", "page=01", "page=+1", "page=1.5",
		"page=99999999999999999999", "page=true&page=1", "page=TRUE",
	} {
		res := f.get("/c/practice/followers?"+q, acceptAP)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("?%s: status %d, want 400", q, res.StatusCode)
		}
	}
	// A cursor past the end is an empty last page.
	res := f.get("/c/practice/followers?page=9223372036854775807", acceptAP)
	mustStatus(t, res, http.StatusOK)
	if !strings.Contains(string(res.body), `"orderedItems":[]`) {
		t.Errorf("body %s", res.body)
	}
}

// A post made through the service is listed under the id of the Announce
// the community actually sent, so that servers reading the outbox see the
// activity they already received.
func TestCommunityOutboxUsesSentAnnounce(t *testing.T) {
	t.Parallel()
	f := seeded(t, storagetest.Open(t, storage.SQLite))
	alice, err := f.db.GetAccountByUsername(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	post, err := f.svc.Post(t.Context(), alice.Actor, federation.NewPost{
		Community: "practice@" + testDomain, Title: "A case", Text: "What worked for us.",
	})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := f.db.FindLocalActivity(t.Context(), "Announce", testBase+"/c/practice", post.URI)
	if err != nil {
		t.Fatal(err)
	}
	_, items := walk(t, f, "/c/practice/outbox")
	if len(items) != 1 {
		t.Fatalf("%d items", len(items))
	}
	act, err := items[0].Activity()
	if err != nil {
		t.Fatal(err)
	}
	if act.ID != sent.URI || act.Object.ID() != post.URI {
		t.Errorf("outbox item %s of %s, want %s of %s", act.ID, act.Object.ID(), sent.URI, post.URI)
	}
}

// A member who hides their network (hide_collections) shows counts only,
// as Mastodon: no first page, and a page asked for directly is a 403.
func TestHiddenNetworkCollections(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		f := seeded(t, db)
		ctx := t.Context()
		alice, err := db.GetAccountByUsername(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if total, items := walk(t, f, "/u/alice/following"); total != 1 || len(items) != 1 {
			t.Fatalf("following before hiding: %d %v", total, items)
		}
		alice.Actor.HideCollections = true
		if err := db.UpdateProfile(ctx, alice.Actor); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/u/alice/following", "/u/alice/followers"} {
			var raw map[string]any
			res := f.getJSON(path, &raw)
			if _, ok := raw["first"]; ok || raw["totalItems"] == nil {
				t.Errorf("%s of a hidden network: %s", path, res.body)
			}
			mustStatus(t, f.get(path+"?page=true", acceptAP), http.StatusForbidden)
		}
		var raw map[string]any
		if res := f.getJSON("/u/alice/following", &raw); raw["totalItems"] != float64(1) {
			t.Errorf("hidden following keeps its count: %s", res.body)
		}
	})
}

// mastodonFeaturedTags reads a featuredTags collection as Mastodon's
// ActivityPub::FetchFeaturedTagsCollectionService does: the items of a
// Collection or the orderedItems of an OrderedCollection, the names of
// those of type Hashtag without their '#'. It also returns each name's
// href.
func mastodonFeaturedTags(t *testing.T, body []byte) (names []string, hrefs map[string]string) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if ctx, _ := doc["@context"].([]any); len(ctx) == 0 || ctx[0] != "https://www.w3.org/ns/activitystreams" {
		t.Errorf("unsupported @context (Mastodon's supported_context?): %v", doc["@context"])
	}
	var items []any
	switch doc["type"] {
	case "Collection", "CollectionPage":
		items, _ = doc["items"].([]any)
	case "OrderedCollection", "OrderedCollectionPage":
		items, _ = doc["orderedItems"].([]any)
	default:
		t.Fatalf("type %v is no collection: %s", doc["type"], body)
	}
	hrefs = map[string]string{}
	for _, it := range items {
		m, _ := it.(map[string]any)
		name, _ := m["name"].(string)
		if m["type"] != "Hashtag" || name == "" {
			t.Errorf("item %v is not a Hashtag with a name", it)
			continue
		}
		name = strings.TrimPrefix(name, "#")
		names = append(names, name)
		hrefs[name], _ = m["href"].(string)
	}
	return names, hrefs
}

// The community's tags and a member's featured hashtags are published as
// Mastodon publishes an account's featured tags: the actor's featuredTags
// (toot:featuredTags, an @id) names a collection of Hashtag objects, each
// with its page here as href and its name with '#'.
func TestFeaturedTagsCollections(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		f := seeded(t, db)
		ctx := t.Context()
		alice, err := db.GetAccountByUsername(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range []string{"Handover", "sepsis"} {
			if _, err := f.svc.FeatureTag(ctx, alice.Actor, tag); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			actor string
			want  []string
		}{
			{"/c/practice", []string{"early_years", "literacy"}},
			{"/u/alice", []string{"handover", "sepsis"}},
		} {
			var actor map[string]any
			f.getJSON(tc.actor, &actor)
			if actor["featuredTags"] != testBase+tc.actor+"/tags" {
				t.Fatalf("%s: featuredTags %v", tc.actor, actor["featuredTags"])
			}
			res := f.get(tc.actor+"/tags", acceptAP)
			mustStatus(t, res, http.StatusOK)
			names, hrefs := mastodonFeaturedTags(t, res.body)
			slices.Sort(names)
			if !slices.Equal(names, tc.want) {
				t.Errorf("%s/tags: names %v, want %v\n%s", tc.actor, names, tc.want, res.body)
			}
			for _, n := range names {
				if hrefs[n] != testBase+"/tags/"+n {
					t.Errorf("%s/tags: href of %s is %q", tc.actor, n, hrefs[n])
				}
			}
			c, err := vocab.ParseCollection(res.body)
			if err != nil || c.ID != testBase+tc.actor+"/tags" || c.TotalItems == nil || *c.TotalItems != len(tc.want) {
				t.Errorf("%s/tags: %+v, %v", tc.actor, c, err)
			}
		}
		// An actor with none has an empty collection; no such actor, none.
		if err := f.svc.UnfeatureTag(ctx, alice.Actor, mustFeatured(t, db, alice.Actor.ID, "sepsis")); err != nil {
			t.Fatal(err)
		}
		if names, _ := mastodonFeaturedTags(t, f.get("/u/alice/tags", acceptAP).body); len(names) != 1 || names[0] != "handover" {
			t.Errorf("after unfeaturing: %v", names)
		}
		mustStatus(t, f.get("/u/nobody/tags", acceptAP), http.StatusNotFound)
		mustStatus(t, f.get("/c/alice/tags", acceptAP), http.StatusNotFound)
	})
}

func mustFeatured(t *testing.T, db *storage.DB, actorID int64, tag string) int64 {
	t.Helper()
	rows, err := db.ListTags(t.Context(), storage.FeaturedTags, actorID, storage.Page{Limit: storage.MaxFeaturedTags})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Tag == tag {
			return r.ID
		}
	}
	t.Fatalf("%s is not featured", tag)
	return 0
}

// Our actors define featuredTags as Mastodon's do: expanded with their
// contexts, Mastodon's Person (a real payload) and ours both hold
// toot:featuredTags as a node reference.
func TestFeaturedTagsTermAsMastodons(t *testing.T) {
	t.Parallel()
	sample, err := os.ReadFile(sharedSample("ap-samples/from-lemmy-tests/mastodon/objects/person.json"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("Mastodon's sample actor is not present (shared/ap-samples beside the clone, or COMMONPLACE_SHARED)")
	} else if err != nil {
		t.Fatal(err)
	}
	f := seeded(t, storagetest.Open(t, storage.SQLite))
	const term = "http://joinmastodon.org/ns#featuredTags"
	expanded := func(body []byte) any {
		t.Helper()
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		opts := ld.NewJsonLdOptions("")
		opts.DocumentLoader = localContexts{dir: filepath.Join("testdata", "jsonld")}
		out, err := ld.NewJsonLdProcessor().Expand(doc, opts)
		if err != nil || len(out) != 1 {
			t.Fatalf("expand: %v", err)
		}
		m, _ := out[0].(map[string]any)
		refs, _ := m[term].([]any)
		if len(refs) != 1 {
			t.Fatalf("%s missing after expansion: %v", term, m)
		}
		ref, _ := refs[0].(map[string]any)
		if len(ref) != 1 || ref["@id"] == nil {
			t.Fatalf("%s is %v, want a node reference (@id)", term, refs[0])
		}
		return ref["@id"]
	}
	if got := expanded(sample); got != "https://masto.qa.urbanwildlife.biz/users/mastodon/collections/tags" {
		t.Fatalf("Mastodon's featuredTags expands to %v", got)
	}
	for _, p := range []string{"/u/alice", "/c/practice"} {
		if got := expanded(f.get(p, acceptAP).body); got != testBase+p+"/tags" {
			t.Errorf("%s: featuredTags expands to %v", p, got)
		}
	}
}

// sharedSample is the path of rel in the project's shared directory, found
// as fedtest.SharedDir finds it (which this package cannot import): in
// COMMONPLACE_SHARED, or in a "shared" directory beside the clone or above
// it. A path that does not exist when there is none.
func sharedSample(rel string) string {
	if dir := os.Getenv("COMMONPLACE_SHARED"); dir != "" {
		return filepath.Join(dir, rel)
	}
	dir, err := os.Getwd()
	if err != nil {
		return rel
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if p := filepath.Join(dir, "shared", rel); fileExists(p) {
			return p
		}
	}
	return filepath.Join(dir, "shared", rel)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
