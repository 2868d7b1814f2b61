package server

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

func TestNodeInfoLinks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storagetest.Open(t, storage.SQLite))
	var doc struct {
		Links []jrdLink `json:"links"`
	}
	res := f.get("/.well-known/nodeinfo", "")
	mustStatus(t, res, http.StatusOK)
	if err := json.Unmarshal(res.body, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"http://nodeinfo.diaspora.software/ns/schema/2.1": testBase + "/nodeinfo/2.1",
		"http://nodeinfo.diaspora.software/ns/schema/2.0": testBase + "/nodeinfo/2.0",
	}
	if len(doc.Links) != len(want) {
		t.Fatalf("links %+v", doc.Links)
	}
	for _, l := range doc.Links {
		if want[l.Rel] != l.Href {
			t.Errorf("link %+v, want href %q", l, want[l.Rel])
		}
	}
}

func TestNodeInfoCounts(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		f := seeded(t, db)
		type doc struct {
			Version           string
			Software          struct{ Name, Version string }
			Protocols         []string
			OpenRegistrations *bool
			Usage             struct {
				Users struct {
					Total, ActiveMonth, ActiveHalfyear *int64
				}
				LocalPosts, LocalComments *int64
			}
			Metadata struct {
				NodeName    string
				Communities int64
				Upstream    struct{ Name, Version string }
			}
		}
		read := func(version string) doc {
			t.Helper()
			res := f.get("/nodeinfo/"+version, "")
			mustStatus(t, res, http.StatusOK)
			wantType := `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/` + version + `#"`
			if got := res.Header.Get("Content-Type"); got != wantType {
				t.Errorf("Content-Type %q, want %q", got, wantType)
			}
			var d doc
			if err := json.Unmarshal(res.body, &d); err != nil {
				t.Fatal(err)
			}
			return d
		}
		before := read("2.1")
		if before.Version != "2.1" || before.Software.Name != "commonplace" || before.Software.Version != Version {
			t.Errorf("version %q software %+v", before.Version, before.Software)
		}
		if len(before.Protocols) != 1 || before.Protocols[0] != "activitypub" {
			t.Errorf("protocols %q", before.Protocols)
		}
		if before.OpenRegistrations == nil || *before.OpenRegistrations {
			t.Errorf("openRegistrations %v, want false", before.OpenRegistrations)
		}
		u := before.Usage
		if u.Users.Total == nil || u.Users.ActiveMonth == nil || u.Users.ActiveHalfyear == nil || u.LocalPosts == nil || u.LocalComments == nil {
			t.Fatalf("usage fields missing: %+v", u)
		}
		if *u.Users.Total != 1 || *u.Users.ActiveMonth != 1 || *u.Users.ActiveHalfyear != 1 {
			t.Errorf("users %d/%d/%d, want 1/1/1", *u.Users.Total, *u.Users.ActiveMonth, *u.Users.ActiveHalfyear)
		}
		if before.Metadata.NodeName != testDomain || before.Metadata.Communities != 1 {
			t.Errorf("metadata %+v", before.Metadata)
		}
		// megalodon (Whalebird, Fedistar) takes unknown software for
		// Mastodon only by this (issue 10, break 5).
		if before.Metadata.Upstream.Name != "mastodon" || before.Metadata.Upstream.Version != MastodonVersion {
			t.Errorf("metadata.upstream %+v, want mastodon %s", before.Metadata.Upstream, MastodonVersion)
		}

		if _, err := f.svc.CreateAccount(t.Context(), federation.NewAccount{Username: "bob", Email: "bob@example.org"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateCommunity(t.Context(), federation.NewCommunity{Name: "sepsis", Title: "Sepsis care"}); err != nil {
			t.Fatal(err)
		}
		after := read("2.0")
		if after.Version != "2.0" {
			t.Errorf("version %q", after.Version)
		}
		if *after.Usage.Users.Total != 2 || *after.Usage.Users.ActiveMonth != 2 {
			t.Errorf("after a new account: users %d, active %d; want 2, 2", *after.Usage.Users.Total, *after.Usage.Users.ActiveMonth)
		}
		if after.Metadata.Communities != 2 {
			t.Errorf("after a new community: communities %d, want 2", after.Metadata.Communities)
		}
	})
}
