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

// Accepting an answer from an app: the asker may, another member may not;
// unaccept takes the question's id as well as the answer's.
func TestAcceptAnswerAPI(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			n := fedtest.Start(t, d)
			member(t, n, "olga")
			dan := member(t, n, "dan")
			n.Community("practice", false, "olga")
			if _, err := n.Service.Join(ctx, dan, "practice"); err != nil {
				t.Fatal(err)
			}
			asker := newClient(t, n, tokenFor(t, n, "olga", "read write"))
			danC := newClient(t, n, tokenFor(t, n, "dan", "read write"))
			// The question by the client API's convention.
			q := asker.ok("POST", "/api/v1/statuses", map[string]any{"status": "@practice #question Where is the sepsis bundle?\n\nIn ward 3 I cannot find it."}).object(t)
			qid := str(q["id"])
			a := danC.ok("POST", "/api/v1/statuses", map[string]any{"status": "Top drawer of the red trolley.", "in_reply_to_id": qid}).object(t)
			aid := str(a["id"])

			if r := danC.do("POST", "/api/v1/statuses/"+aid+"/accept", nil); r.StatusCode != http.StatusForbidden {
				t.Fatalf("dan accepted an answer to olga's question: %d %s", r.StatusCode, r.body)
			}
			if r := asker.do("POST", "/api/v1/statuses/"+qid+"/accept", nil); r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("accepting the question itself: %d %s", r.StatusCode, r.body)
			}
			if got := asker.ok("POST", "/api/v1/statuses/"+aid+"/accept", nil).object(t); str(got["id"]) != aid {
				t.Fatalf("accept answered with %v", got["id"])
			}
			id, _ := strconv.ParseInt(qid, 10, 64)
			stored, err := n.DB.GetObjectByID(ctx, id)
			if err != nil || stored.Kind != federation.KindQuestion || stored.AcceptedAnswerURI != str(a["uri"]) {
				t.Fatalf("question %q answered by %q (%v)", stored.Kind, stored.AcceptedAnswerURI, err)
			}
			asker.ok("POST", "/api/v1/statuses/"+qid+"/unaccept", nil)
			if stored, _ = n.DB.GetObjectByID(ctx, id); stored.AcceptedAnswerURI != "" {
				t.Fatalf("still answered by %q", stored.AcceptedAnswerURI)
			}
		})
	}
}

// The repertoire from an app: a curator adds a community's post under a
// section, anyone reads it by section, a member may not change it.
func TestRepertoireAPI(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			n := fedtest.Start(t, d)
			member(t, n, "olga")
			dan := member(t, n, "dan")
			g := n.Community("practice", false, "olga").Actor
			if _, err := n.Service.Join(ctx, dan, "practice"); err != nil {
				t.Fatal(err)
			}
			owner := newClient(t, n, tokenFor(t, n, "olga", "read write"))
			danC := newClient(t, n, tokenFor(t, n, "dan", "read write"))
			visitor := newClient(t, n, "")
			gid := strconv.FormatInt(g.ID, 10)
			post := danC.ok("POST", "/api/v1/statuses", map[string]any{"status": "@practice #resource Night handover card\n\nSBAR on one card."}).object(t)
			pid := str(post["id"])

			if r := danC.do("POST", "/api/v1/communities/"+gid+"/repertoire", map[string]any{"status_id": pid, "section": "Templates"}); r.StatusCode != http.StatusForbidden {
				t.Fatalf("a member curated: %d %s", r.StatusCode, r.body)
			}
			secs := owner.ok("POST", "/api/v1/communities/"+gid+"/repertoire", map[string]any{"status_id": pid, "section": "Templates"}).list(t)
			if len(secs) != 1 || field(secs[0], "title") != "Templates" {
				t.Fatalf("repertoire after adding: %v", secs)
			}
			got := visitor.ok("GET", "/api/v1/communities/"+gid+"/repertoire", nil).list(t)
			statuses, _ := field(got[0], "statuses").([]any)
			if len(statuses) != 1 || field(statuses[0], "id") != pid {
				t.Fatalf("visitor reads %v", got)
			}
			if got := owner.ok("DELETE", "/api/v1/communities/"+gid+"/repertoire/"+pid, nil).list(t); len(got) != 0 {
				t.Fatalf("repertoire after removing: %v", got)
			}
		})
	}
}

// Finding things and trusting curators from an app: search by words and
// kind, the unanswered questions, and a trusted member who curates once
// the community lets them.
func TestPracticeAPI(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			n := fedtest.Start(t, d)
			member(t, n, "olga")
			dan := member(t, n, "dan")
			g := n.Community("practice", false, "olga").Actor
			if _, err := n.Service.Join(ctx, dan, "practice"); err != nil {
				t.Fatal(err)
			}
			owner := newClient(t, n, tokenFor(t, n, "olga", "read write"))
			danC := newClient(t, n, tokenFor(t, n, "dan", "read write"))
			visitor := newClient(t, n, "")
			gid, did := strconv.FormatInt(g.ID, 10), strconv.FormatInt(dan.ID, 10)
			q := danC.ok("POST", "/api/v1/statuses", map[string]any{"status": "@practice #question Where is the defibrillator?\n\nOn ward 3."}).object(t)
			res := danC.ok("POST", "/api/v1/statuses", map[string]any{"status": "@practice #resource Defibrillator checklist\n\nDaily checks."}).object(t)

			hits := visitor.ok("GET", "/api/v1/communities/"+gid+"/search?q=defibrillators", nil).list(t)
			if len(hits) != 2 {
				t.Fatalf("search: %v", hits)
			}
			if hits := visitor.ok("GET", "/api/v1/communities/"+gid+"/search?q=defibrillator&kind=question", nil).list(t); len(hits) != 1 || field(hits[0], "id") != q["id"] {
				t.Fatalf("search by kind: %v", hits)
			}
			if r := visitor.do("GET", "/api/v1/communities/"+gid+"/search?q=x&kind=bogus", nil); r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("unknown kind: %d", r.StatusCode)
			}
			if qs := visitor.ok("GET", "/api/v1/communities/"+gid+"/questions?unanswered=true", nil).list(t); len(qs) != 1 || field(qs[0], "id") != q["id"] {
				t.Fatalf("unanswered questions: %v", qs)
			}

			add := map[string]any{"status_id": str(res["id"]), "section": "Templates"}
			if r := danC.do("POST", "/api/v1/communities/"+gid+"/repertoire", add); r.StatusCode != http.StatusForbidden {
				t.Fatalf("an untrusted member curated: %d", r.StatusCode)
			}
			if r := danC.do("POST", "/api/v1/communities/"+gid+"/curation", map[string]any{"trusted_curate": true}); r.StatusCode != http.StatusForbidden {
				t.Fatalf("a member changed the curation setting: %d", r.StatusCode)
			}
			owner.ok("POST", "/api/v1/communities/"+gid+"/curators", map[string]any{"account_id": did})
			got := owner.ok("POST", "/api/v1/communities/"+gid+"/curation", map[string]any{"trusted_curate": true}).object(t)
			if got["trusted_curate"] != true || len(got["curators"].([]any)) != 1 {
				t.Fatalf("curators: %v", got)
			}
			danC.ok("POST", "/api/v1/communities/"+gid+"/repertoire", add)
			owner.ok("DELETE", "/api/v1/communities/"+gid+"/curators/"+did, nil)
			if r := danC.do("DELETE", "/api/v1/communities/"+gid+"/repertoire/"+str(res["id"]), nil); r.StatusCode != http.StatusForbidden {
				t.Fatalf("a member no longer trusted curated: %d", r.StatusCode)
			}
		})
	}
}
