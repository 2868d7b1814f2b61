package web_test

import (
	"encoding/json"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// The owner downloads the community's export from its moderation page;
// a member who does not own it, and a visitor, do not.
func TestCommunityExportPage(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		s := newModSite(t, db)
		alice, carol := s.signedIn(t, "alice"), s.signedIn(t, "carol")
		alice.get("/c/practice/moderation").must(t, 200, `href="/c/practice/export.json" download`)
		p := alice.get("/c/practice/export.json")
		p.must(t, 200, `"format": "commonplace-community"`, "Buy cheap pills")
		var exp federation.CommunityExport
		if err := json.Unmarshal([]byte(p.body), &exp); err != nil || exp.Community.Name != "practice" || len(exp.Posts) != 1 {
			t.Errorf("export: %v %+v", err, exp.Community)
		}
		carol.get("/c/practice/export.json").must(t, 404)
		s.browser().get("/c/practice/export.json").must(t, 303)
	})
}
