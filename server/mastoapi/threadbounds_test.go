package mastoapi_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// TestContextBounds: a thread's context is bounded as Mastodon's is.
// Without a member's token: 40 ancestors, 60 descendants at most 20
// replies deep; a member sees the whole thread. The old code walked any
// chain to its end for anyone (3,000 deep: 2.1 s per request).
func TestContextBounds(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			n := fedtest.Start(t, d)
			bea := member(t, n, "bea")
			token := tokenFor(t, n, "bea", "read")
			post := func(parent *storage.Object) *storage.Object {
				t.Helper()
				o := &storage.Object{URI: n.Service.URLs.NewObject(), Type: "Note", AuthorActorID: bea.ID,
					Content: "<p>x</p>", Local: true, PublishedAt: time.Now().UTC()}
				o.ContextURI = o.URI
				if parent != nil {
					o.InReplyToID, o.InReplyToURI = &parent.ID, parent.URI
					o.ContextURI, o.ReplyDepth = parent.ContextURI, parent.ReplyDepth+1
				}
				if err := n.DB.CreateObject(ctx, o); err != nil {
					t.Fatal(err)
				}
				return o
			}
			root := post(nil)
			last := root
			for range 99 { // a chain 99 replies deep
				last = post(last)
			}
			for range 70 { // and 70 direct answers to the first post
				post(root)
			}
			id := func(o *storage.Object) string { return strconv.FormatInt(o.ID, 10) }
			count := func(c *client, o *storage.Object, key string) int {
				t.Helper()
				return len(c.ok("GET", "/api/v1/statuses/"+id(o)+"/context", nil).object(t)[key].([]any))
			}
			anon, bear := newClient(t, n, ""), newClient(t, n, token)
			for _, tc := range []struct {
				who  string
				c    *client
				o    *storage.Object
				key  string
				want int
			}{
				{"anonymous", anon, last, "ancestors", 40},
				{"member", bear, last, "ancestors", 99},
				{"anonymous", anon, root, "descendants", 60},
				{"member", bear, root, "descendants", 99 + 70},
			} {
				if got := count(tc.c, tc.o, tc.key); got != tc.want {
					t.Errorf("%s: %d %s, want %d", tc.who, got, tc.key, tc.want)
				}
			}
			// Depth first, 20 deep: the chain's first 20, then 40 answers.
			desc := anon.ok("GET", "/api/v1/statuses/"+id(root)+"/context", nil).object(t)["descendants"].([]any)
			if got := field(desc[19], "in_reply_to_id"); got != fmt.Sprint(root.ID+19) {
				t.Errorf("20th descendant answers %v, want the chain's post %d", got, root.ID+19)
			}
			if got := field(desc[20], "in_reply_to_id"); got != id(root) {
				t.Errorf("21st descendant answers %v, want the first post", got)
			}
		})
	}
}

// TestReplyDepthBounded: a reply to a post federation.MaxReplyDepth
// replies deep is refused, so no stored thread is deeper.
func TestReplyDepthBounded(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			n := fedtest.Start(t, d)
			bea := member(t, n, "bea")
			deep := &storage.Object{URI: n.Service.URLs.NewObject(), Type: "Note", AuthorActorID: bea.ID,
				Content: "<p>deep</p>", Local: true, PublishedAt: time.Now().UTC(), ReplyDepth: federation.MaxReplyDepth}
			deep.ContextURI = deep.URI
			if err := n.DB.CreateObject(ctx, deep); err != nil {
				t.Fatal(err)
			}
			if _, err := n.Service.Post(ctx, bea, federation.NewPost{InReplyTo: deep.URI, Text: "one more"}); !errors.Is(err, federation.ErrInvalid) {
				t.Fatalf("reply past the depth bound: %v, want ErrInvalid", err)
			}
			deep.ReplyDepth = federation.MaxReplyDepth - 1
			if err := n.DB.Gorm(ctx).Model(deep).Update("reply_depth", deep.ReplyDepth).Error; err != nil {
				t.Fatal(err)
			}
			o, err := n.Service.Post(ctx, bea, federation.NewPost{InReplyTo: deep.URI, Text: "the last"})
			if err != nil || o.ReplyDepth != federation.MaxReplyDepth {
				t.Fatalf("reply at the bound: %v, depth %v", err, o)
			}
		})
	}
}
