package mastoapi_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// A post's URL pasted into an app's search, with resolve=true and a
// member's token, is fetched from its server and can then be answered; a
// search that does not ask to resolve only finds posts already here.
func TestSearchResolvesPostURL(t *testing.T) {
	ctx := context.Background()
	a, b := fedtest.Start(t, storage.SQLite), fedtest.Start(t, storage.SQLite)
	member(t, a, "ana")
	bea := b.Member("bea")
	b.Community("practice", false, "bea")
	post, err := b.Service.Post(ctx, bea, federation.NewPost{Community: "practice", Text: "Our handover sheet"})
	if err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, a, tokenFor(t, a, "ana", "read write"))
	q := "/api/v2/search?type=statuses&q=" + url.QueryEscape(post.URI)
	if got := field(cl.ok("GET", q, nil).object(t), "statuses").([]any); len(got) != 0 {
		t.Fatalf("found without resolve=true before anyone fetched it: %v", got)
	}
	got := field(cl.ok("GET", q+"&resolve=true", nil).object(t), "statuses").([]any)
	if len(got) != 1 || str(field(got[0], "uri")) != post.URI {
		t.Fatalf("search resolve=true for %s: %v", post.URI, got)
	}
	id := str(field(got[0], "id"))
	reply := cl.ok("POST", "/api/v1/statuses", url.Values{"status": {"Thanks, using it"}, "in_reply_to_id": {id}}).object(t)
	if str(field(reply, "in_reply_to_id")) != id {
		t.Fatalf("reply to the resolved post: %v", reply)
	}
}
