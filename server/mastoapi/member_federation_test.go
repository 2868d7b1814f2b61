package mastoapi_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// What a member does through the apps reaches a Mastodon follower as
// Mastodon sends it: a boost is an Announce of the post's id that
// Mastodon can render, and its undoing an Undo of that Announce; a
// profile edit is an Update of the Person; a featured hashtag an Add of
// the Hashtag to the featuredTags collection (Remove when unfeatured); a
// block is a Block (and ends
// the follow), an unblock its Undo. (The storage behind these is tested
// on both databases by TestContractMemberSurface; this is about the wire.)
func TestMemberActionsReachMastodon(t *testing.T) {
	n := fedtest.Start(t, storage.SQLite)
	ana := member(t, n, "ana")
	n.Community("practice", false, "ana")
	cl := newClient(t, n, tokenFor(t, n, "ana", "read write follow"))

	m := fedtest.NewMastodon(t)
	if _, code := m.Follow(ana.URI, ana.InboxURI); code != 202 {
		t.Fatalf("Follow answered %d", code)
	}
	m.WaitFor("Accept of alice's follow", func(r fedtest.Received) bool { return r.Type == "Accept" })

	st := expect(t, cl.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice Handover notes"}}), 200, "Status")
	sid, uri := str(field(st, "id")), str(field(st, "uri"))
	expect(t, cl.do("POST", "/api/v1/statuses/"+sid+"/reblog", nil), 200, "Status")
	boost := m.WaitFor("ana's boost", func(r fedtest.Received) bool {
		return r.Type == "Announce" && r.Doc["actor"] == ana.URI && r.Doc["object"] == uri
	})
	if _, err := m.RenderBoost(boost); err != nil {
		t.Errorf("Mastodon could not render ana's boost: %v", err)
	}
	if boost.Doc["published"] == nil {
		t.Errorf("boost has no published: %s", boost.Raw)
	}
	expect(t, cl.do("POST", "/api/v1/statuses/"+sid+"/unreblog", nil), 200, "Status")
	m.WaitFor("Undo of the boost", func(r fedtest.Received) bool {
		inner, _ := r.Doc["object"].(map[string]any)
		return r.Type == "Undo" && inner != nil && inner["id"] == boost.Doc["id"] && inner["type"] == "Announce"
	})

	// A pin is an Add to the featured collection, which lists it.
	expect(t, cl.do("POST", "/api/v1/statuses/"+sid+"/pin", nil), 200, "Status")
	add := m.WaitFor("Add of the pin", func(r fedtest.Received) bool { return r.Type == "Add" })
	if add.Doc["object"] != uri || add.Doc["target"] != ana.FeaturedURI || ana.FeaturedURI == "" {
		t.Errorf("Add: %s (featured %q)", add.Raw, ana.FeaturedURI)
	}
	req, _ := http.NewRequest("GET", ana.FeaturedURI, nil)
	req.Header.Set("Accept", "application/activity+json")
	got, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	featured, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if got.StatusCode != 200 || !strings.Contains(string(featured), uri) {
		t.Errorf("featured collection: %d %s", got.StatusCode, featured)
	}
	expect(t, cl.do("POST", "/api/v1/statuses/"+sid+"/unpin", nil), 200, "Status")
	m.WaitFor("Remove of the pin", func(r fedtest.Received) bool { return r.Type == "Remove" && r.Doc["object"] == uri })

	// A featured hashtag is an Add of the Hashtag to the featuredTags
	// collection, which Mastodon applies (ActivityPub::Activity::Add).
	ft := expect(t, cl.do("POST", "/api/v1/featured_tags", url.Values{"name": {"Sepsis"}}), 200, "FeaturedTag")
	hashtagChange := func(typ string) func(fedtest.Received) bool {
		return func(r fedtest.Received) bool {
			obj, _ := r.Doc["object"].(map[string]any)
			return r.Type == typ && r.Doc["target"] == ana.URI+"/tags" && obj != nil && obj["type"] == "Hashtag" &&
				obj["name"] == "#sepsis" && obj["href"] == n.URL+"/tags/sepsis"
		}
	}
	m.WaitFor("Add of the featured hashtag", hashtagChange("Add"))
	expect(t, cl.do("POST", "/api/v1/featured_tags", url.Values{"name": {"sepsis"}}), 200, "FeaturedTag")
	expect(t, cl.do("DELETE", "/api/v1/featured_tags/"+str(field(ft, "id")), nil), 200, "object")
	m.WaitFor("Remove of the featured hashtag", hashtagChange("Remove"))
	adds := 0
	for _, r := range m.Received() {
		if hashtagChange("Add")(r) {
			adds++
		}
	}
	if adds != 1 {
		t.Errorf("%d Adds of the hashtag: featuring it again must send none", adds)
	}

	expect(t, cl.do("PATCH", "/api/v1/accounts/update_credentials", url.Values{
		"display_name": {"Ana from ward 7"}, "fields_attributes[0][name]": {"Ward"}, "fields_attributes[0][value]": {"7"},
	}), 200, "CredentialAccount")
	upd := m.WaitFor("Update of ana's Person", func(r fedtest.Received) bool { return r.Type == "Update" })
	person, _ := upd.Doc["object"].(map[string]any)
	if person == nil || person["id"] != ana.URI || person["type"] != "Person" || person["name"] != "Ana from ward 7" {
		t.Fatalf("Update: %s", upd.Raw)
	}
	if att, _ := person["attachment"].([]any); len(att) != 1 || field(att[0], "type") != "PropertyValue" || field(att[0], "name") != "Ward" {
		t.Errorf("profile fields not published: %v", person["attachment"])
	}

	// Block alice: she is told, and no longer follows ana.
	res := expect(t, cl.do("GET", "/api/v2/search?resolve=true&type=accounts&q="+url.QueryEscape("@"+m.Handle()), nil), 200, "Search")
	accounts := field(res, "accounts").([]any)
	if len(accounts) != 1 {
		t.Fatalf("search alice: %v", res)
	}
	aliceID := str(field(accounts[0], "id"))
	if rel := expect(t, cl.do("GET", "/api/v1/accounts/relationships?id[]="+aliceID, nil), 200, "[]Relationship").([]any); field(rel[0], "followed_by") != true {
		t.Fatalf("alice does not follow ana: %v", rel)
	}
	expect(t, cl.do("POST", "/api/v1/accounts/"+aliceID+"/block", nil), 200, "Relationship")
	block := m.WaitFor("Block", func(r fedtest.Received) bool { return r.Type == "Block" })
	if block.Doc["actor"] != ana.URI || block.Doc["object"] != m.ActorURI() {
		t.Errorf("Block: %s", block.Raw)
	}
	if rel := expect(t, cl.do("GET", "/api/v1/accounts/relationships?id[]="+aliceID, nil), 200, "[]Relationship").([]any); field(rel[0], "followed_by") != false || field(rel[0], "blocking") != true {
		t.Errorf("after block: %v", rel)
	}
	expect(t, cl.do("POST", "/api/v1/accounts/"+aliceID+"/unblock", nil), 200, "Relationship")
	m.WaitFor("Undo of the Block", func(r fedtest.Received) bool {
		inner, _ := r.Doc["object"].(map[string]any)
		return r.Type == "Undo" && inner != nil && inner["type"] == "Block" && inner["id"] == block.Doc["id"]
	})
	if refused := m.Refused(); len(refused) > 0 {
		t.Errorf("the stand-in refused deliveries: %s", strings.Join(refused, "; "))
	}
}
