package fedtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// threadPage is a context collection's first page as a server reads it.
type threadPage struct {
	ID           string   `json:"id"`
	Type         string   `json:"type"`
	TotalItems   int      `json:"totalItems"`
	First        string   `json:"first"`
	OrderedItems []string `json:"orderedItems"`
}

// fetchThread GETs a context collection (page true: its first page),
// signed by sign when not nil, and returns the status and document.
func fetchThread(t *testing.T, uri string, page bool, sign func(*http.Request)) (int, threadPage) {
	t.Helper()
	if page {
		uri += "?page=true"
	}
	req, _ := http.NewRequest(http.MethodGet, uri, nil)
	req.Header.Set("Accept", "application/activity+json")
	if sign != nil {
		sign(req)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var doc threadPage
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("%s: %v: %s", uri, err, body)
		}
	}
	return res.StatusCode, doc
}

// Threads across servers (issue 15 item 6): a thread begun on A is named
// by its context collection on every post, on A and as B sends its
// member's reply; the collection lists the thread's posts oldest first,
// each as its reader may see it; a reply keeps its parent's thread
// whatever context it names.
func TestThreadContext(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) { threadContext(t, d) })
	}
}

func threadContext(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	a, b := fedtest.Start(t, d), fedtest.Start(t, storage.SQLite)
	olga := a.Member("olga")
	a.Community("practice", false, "olga")
	bea := b.Member("bea")
	if _, err := b.Service.Join(ctx, bea, a.Handle("practice")); err != nil {
		t.Fatal(err)
	}
	group, err := a.DB.GetActorByURI(ctx, a.URL+"/c/practice")
	if err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "bea's join accepted", accepted(a, group.URI, bea.URI))
	b.Settled()

	root, err := a.Service.Post(ctx, olga, federation.NewPost{Community: "practice", Text: "How do you hand over at night?"})
	if err != nil {
		t.Fatal(err)
	}
	thread := root.URI + "/context"
	if got := string(servedNote(t, root.URI).Context); got != thread {
		t.Errorf("the first post's context: %q, want %q", got, thread)
	}
	fedtest.Eventually(t, "the post on B", func() (bool, error) {
		_, err := object(b, root.URI)
		return err == nil, ignoreMissing(err)
	})
	onB, _ := object(b, root.URI)
	if onB.ContextURI != thread {
		t.Errorf("B keeps the thread as %q, want %q", onB.ContextURI, thread)
	}
	reply, err := b.Service.Post(ctx, bea, federation.NewPost{InReplyTo: root.URI, Text: "A written sheet."})
	if err != nil {
		t.Fatal(err)
	}
	if reply.ContextURI != thread {
		t.Errorf("bea's reply on B is in thread %q, want %q", reply.ContextURI, thread)
	}
	if got := string(servedNote(t, reply.URI).Context); got != thread {
		t.Errorf("bea's reply is served with context %q, want %q", got, thread)
	}
	fedtest.Eventually(t, "bea's reply on A", func() (bool, error) {
		_, err := object(a, reply.URI)
		return err == nil, ignoreMissing(err)
	})
	if o, _ := object(a, reply.URI); o.ContextURI != root.URI {
		t.Errorf("A keeps bea's reply in thread %q, want %q", o.ContextURI, root.URI)
	}
	answer, err := a.Service.Post(ctx, olga, federation.NewPost{InReplyTo: reply.URI, Text: "With the bed numbers?"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(servedNote(t, answer.URI).Context); got != thread {
		t.Errorf("olga's answer is served with context %q, want %q", got, thread)
	}

	// A Mastodon user's reply naming its own context, and a direct one
	// to olga: both in the thread on A, only the first listed to all.
	m := fedtest.NewMastodon(t)
	send := func(note map[string]any) string {
		id := m.NewID("statuses")
		note["id"], note["type"], note["attributedTo"] = id, "Note", m.ActorURI()
		note["published"] = time.Now().UTC().Format(time.RFC3339)
		if code := m.Send(a.URL+"/inbox", map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
			"id": id + "/activity", "type": "Create", "actor": m.ActorURI(), "to": note["to"], "cc": note["cc"], "object": note}); code != http.StatusAccepted {
			t.Fatalf("Create of %s: %d", id, code)
		}
		a.Settled()
		return id
	}
	public := send(map[string]any{"inReplyTo": answer.URI, "content": "<p>And the drugs given.</p>",
		"context": m.ActorURI() + "/contexts/1",
		"to":      []string{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []string{olga.URI, group.URI}})
	direct := send(map[string]any{"inReplyTo": root.URI, "content": "<p>Privately: ours is worse.</p>",
		"to": []string{olga.URI}, "cc": []string{}})
	for _, id := range []string{public, direct} {
		o, err := object(a, id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if o.ContextURI != root.URI {
			t.Errorf("%s is in thread %q, want %q", id, o.ContextURI, root.URI)
		}
	}
	// A post that answers nothing cannot join a thread by naming it.
	stray := send(map[string]any{"content": "<p>@practice Not a reply</p>", "context": thread,
		"to": []string{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []string{group.URI},
		"tag": []map[string]string{{"type": "Mention", "href": group.URI, "name": "@practice"}}})
	if o, err := object(a, stray); err != nil || o.ContextURI != stray {
		t.Errorf("a top-level post naming A's thread: %+v, %v; want a thread of its own", o, err)
	}

	want := []string{root.URI, reply.URI, answer.URI, public}
	code, coll := fetchThread(t, thread, false, nil)
	if code != http.StatusOK || coll.ID != thread || coll.Type != "OrderedCollection" || coll.TotalItems != len(want) || coll.First == "" {
		t.Errorf("the thread's collection: %d %+v; want %d items", code, coll, len(want))
	}
	if code, page := fetchThread(t, thread, true, nil); code != http.StatusOK || !slices.Equal(page.OrderedItems, want) {
		t.Errorf("the thread's first page: %d %v; want %v", code, page.OrderedItems, want)
	}
	// Signed by a server none of whose actors the direct reply names:
	// the same. A reply's own id names no collection.
	m2 := fedtest.NewMastodon(t)
	if code, page := fetchThread(t, thread, true, func(r *http.Request) { m2.SignGet(r, time.Now()) }); code != http.StatusOK || !slices.Equal(page.OrderedItems, want) {
		t.Errorf("the thread's first page, signed by another server: %d %v; want %v", code, page.OrderedItems, want)
	}
	if code, _ := fetchThread(t, answer.URI+"/context", false, nil); code != http.StatusNotFound {
		t.Errorf("a collection at a reply's id: %d, want 404", code)
	}
}

// A members-only community's thread is listed only to servers that host
// a member; others, signed or not, find no such collection.
func TestThreadContextMembersOnly(t *testing.T) {
	ctx := context.Background()
	a := fedtest.Start(t, storage.SQLite)
	olga := a.Member("olga")
	com, err := a.Service.CreateCommunity(ctx, federation.NewCommunity{Name: "circle", Title: "Circle", Summary: "Hard cases.", MembersOnly: true, Owner: "olga"})
	if err != nil {
		t.Fatal(err)
	}
	m, m2 := fedtest.NewMastodon(t), fedtest.NewMastodon(t)
	if code := m.Send(com.Actor.InboxURI, map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": m.NewID("follows"), "type": "Follow", "actor": m.ActorURI(), "object": com.Actor.URI}); code != http.StatusAccepted {
		t.Fatalf("follow: %d", code)
	}
	a.Settled()
	if _, err := a.Service.Decide(ctx, "circle", m.ActorURI(), true); err != nil {
		t.Fatal(err)
	}
	root, err := a.Service.Post(ctx, olga, federation.NewPost{Community: "circle", Text: "A hard case"})
	if err != nil {
		t.Fatal(err)
	}
	thread := root.URI + "/context"
	if code, page := fetchThread(t, thread, true, func(r *http.Request) { m.SignGet(r, time.Now()) }); code != http.StatusOK || !slices.Equal(page.OrderedItems, []string{root.URI}) {
		t.Errorf("a member's server reads the thread: %d %v", code, page.OrderedItems)
	}
	if code, _ := fetchThread(t, thread, false, func(r *http.Request) { m2.SignGet(r, time.Now()) }); code != http.StatusNotFound {
		t.Errorf("another server reads the thread: %d, want 404", code)
	}
	if code, _ := fetchThread(t, thread, true, nil); code != http.StatusNotFound {
		t.Errorf("an unsigned read of the thread: %d, want 404", code)
	}
}

func ignoreMissing(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}
