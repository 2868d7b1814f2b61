package fedtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// A reply that reaches B before the post it answers (issue 15 item 6):
// B fetches the chain it answers from A, then the thread's collection,
// and holds the whole thread, in the community, in one thread.
func TestThreadBackfill(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) { threadBackfill(t, d) })
	}
}

func threadBackfill(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	a, b := fedtest.Start(t, d), fedtest.Start(t, d)
	olga, ned := a.Member("olga"), a.Member("ned")
	a.Community("practice", false, "olga")
	post := func(who *storage.Actor, in federation.NewPost) *storage.Object {
		t.Helper()
		o, err := a.Service.Post(ctx, who, in)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	// Written before B has a member: B is sent none of them.
	root := post(olga, federation.NewPost{Community: "practice", Text: "How do you hand over at night?"})
	y := post(ned, federation.NewPost{InReplyTo: root.URI, Text: "A written sheet."})
	z := post(ned, federation.NewPost{InReplyTo: root.URI, Text: "And a walk round."})
	a.Settled()

	bea := b.Member("bea")
	if _, err := b.Service.Join(ctx, bea, a.Handle("practice")); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "bea's join accepted", accepted(a, a.URL+"/c/practice", bea.URI))
	b.Settled()
	for _, o := range []*storage.Object{root, y, z} {
		if _, err := object(b, o.URI); err == nil {
			t.Fatalf("B has %s before the test", o.URI)
		}
	}
	x := post(olga, federation.NewPost{InReplyTo: y.URI, Text: "With the bed numbers?"})
	fedtest.Eventually(t, "olga's reply on B", func() (bool, error) {
		_, err := object(b, x.URI)
		return err == nil, ignoreMissing(err)
	})
	b.Settled()
	group, err := b.DB.GetActorByURI(ctx, a.URL+"/c/practice")
	if err != nil {
		t.Fatal(err)
	}
	thread := root.URI + "/context"
	got := map[string]*storage.Object{}
	for _, o := range []*storage.Object{root, y, z, x} {
		c, err := object(b, o.URI)
		if err != nil {
			t.Errorf("%s on B: %v", o.URI, err)
			continue
		}
		got[o.URI] = c
		if c.ContextURI != thread || c.CommunityActorID == nil || *c.CommunityActorID != group.ID {
			t.Errorf("%s on B: thread %q, community %v; want %q, %d", o.URI, c.ContextURI, derefID(c.CommunityActorID), thread, group.ID)
		}
	}
	for child, parent := range map[*storage.Object]*storage.Object{y: root, z: root, x: y} {
		c, p := got[child.URI], got[parent.URI]
		if c != nil && p != nil && (c.InReplyToID == nil || *c.InReplyToID != p.ID) {
			t.Errorf("%s on B answers %v, want %d", child.URI, derefID(c.InReplyToID), p.ID)
		}
	}
	list, err := b.DB.ListThread(ctx, thread, nil, 10)
	if err != nil || len(list) != 4 {
		t.Errorf("B's thread: %d posts, %v; want 4", len(list), err)
	}
}

// sampleServer serves documents shaped as real servers write them (from
// ../shared/ap-samples, their host replaced by the stand-in's), with
// WebFinger for their actors. Each GET is counted.
type sampleServer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	docs  map[string][]byte // path -> body
	users map[string]string // preferredUsername -> actor id
	gets  map[string]int
}

func newSampleServer(t *testing.T) *sampleServer {
	s := &sampleServer{docs: map[string][]byte{}, users: map[string]string{}, gets: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.URL.Path == "/.well-known/webfinger" {
			user, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Query().Get("resource"), "acct:"), "@")
			id, ok := s.users[user]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/jrd+json")
			json.NewEncoder(w).Encode(map[string]any{"subject": "acct:" + user + "@" + r.Host,
				"links": []map[string]string{{"rel": "self", "type": "application/activity+json", "href": id}}})
			return
		}
		body, ok := s.docs[r.URL.RequestURI()]
		if !ok {
			http.NotFound(w, r)
			return
		}
		s.gets[r.URL.RequestURI()]++
		w.Header().Set("Content-Type", "application/activity+json")
		w.Write(body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// sample loads a sample, its host replaced, with edits applied, and
// serves it at its id's path. It returns the document's id.
func (s *sampleServer) sample(t *testing.T, file, host string, edit func(map[string]any)) string {
	t.Helper()
	dir, err := fedtest.SharedDir("ap-samples/from-lemmy-tests")
	if err != nil {
		t.Skipf("samples not found: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(raw), host, s.srv.URL)), &doc); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(doc)
	}
	return s.serve(doc)
}

// serve serves doc at its id's path.
func (s *sampleServer) serve(doc map[string]any) string {
	id := doc["id"].(string)
	body, _ := json.Marshal(doc)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs[strings.TrimPrefix(id, s.srv.URL)] = body
	if doc["type"] == "Person" {
		s.users[doc["preferredUsername"].(string)] = id
	}
	return id
}

// collection serves an OrderedCollection of ids at path: inline, or
// (paged) through a first page and a second.
func (s *sampleServer) collection(path string, paged bool, ids ...string) string {
	id := s.srv.URL + path
	if !paged {
		return s.serve(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": "OrderedCollection",
			"totalItems": len(ids), "orderedItems": ids})
	}
	half := len(ids) / 2
	s.serve(map[string]any{"id": id + "?page=2", "type": "OrderedCollectionPage", "partOf": id, "orderedItems": ids[half:]})
	s.serve(map[string]any{"id": id + "?page=1", "type": "OrderedCollectionPage", "partOf": id, "orderedItems": ids[:half], "next": id + "?page=2"})
	return s.serve(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": "OrderedCollection",
		"totalItems": len(ids), "first": id + "?page=1"})
}

// Threads from Lemmy (a Page and Note comments, each comment naming its
// own context), NodeBB (an Article and Notes in a topic collection, read
// through its pages) and Discourse (Notes with no addressing, in a
// collection) are read whole when a Mastodon user's reply to one of
// their posts reaches a member here: the posts it answers, then the
// thread's collection, each in one thread here. A post a collection
// lists from another host, and one its server serves only signed, are
// not taken.
func TestThreadBackfillFromSamples(t *testing.T) {
	b := fedtest.Start(t, storage.SQLite)
	bea := b.Member("bea")
	m := fedtest.NewMastodon(t)
	replyTo := func(parent string) string {
		t.Helper()
		id := m.NewID("statuses")
		note := map[string]any{"id": id, "type": "Note", "attributedTo": m.ActorURI(), "inReplyTo": parent,
			"content": "<p>@bea look at this</p>", "published": time.Now().UTC().Format(time.RFC3339),
			"to": []string{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []string{bea.URI},
			"tag": []map[string]string{{"type": "Mention", "href": bea.URI, "name": "@bea"}}}
		if code := m.Send(bea.InboxURI, map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
			"id": id + "/activity", "type": "Create", "actor": m.ActorURI(), "to": note["to"], "cc": note["cc"], "object": note}); code != http.StatusAccepted {
			t.Fatalf("Create of %s: %d", id, code)
		}
		b.Settled()
		return id
	}
	inOneThread := func(what string, ids ...string) {
		t.Helper()
		var thread string
		for i, id := range ids {
			o, err := object(b, id)
			if err != nil {
				t.Errorf("%s: %s not stored: %v", what, id, err)
				continue
			}
			if i == 0 {
				thread = o.ContextURI
			} else if o.ContextURI != thread {
				t.Errorf("%s: %s is in thread %q, want %q", what, id, o.ContextURI, thread)
			}
			if i > 0 && o.InReplyToID == nil {
				t.Errorf("%s: %s has no parent here", what, id)
			}
		}
	}

	// Lemmy: the reply answers the first comment; a second comment is
	// only in the post's context collection.
	lemmy := newSampleServer(t)
	const lemmyHost = "https://enterprise.lemmy.ml"
	lemmy.sample(t, "lemmy/objects/person.json", lemmyHost, nil)
	page := lemmy.sample(t, "lemmy/objects/page.json", lemmyHost, nil)
	first := lemmy.sample(t, "lemmy/objects/comment.json", lemmyHost, nil)
	second := lemmy.sample(t, "lemmy/objects/comment.json", lemmyHost, func(d map[string]any) {
		d["id"], d["inReplyTo"], d["content"] = lemmy.srv.URL+"/comment/38742", first, "<p>second comment</p>"
		d["context"] = lemmy.srv.URL + "/comment/38742/context"
	})
	lemmy.collection("/post/55143/context", false, page, first, second)
	inOneThread("Lemmy", page, first, second, replyTo(first))
	if o, err := object(b, page); err == nil && o.ContextURI != lemmy.srv.URL+"/post/55143/context" {
		t.Errorf("Lemmy's thread is kept as %q", o.ContextURI)
	}

	// NodeBB: the topic collection read through its pages.
	nodebb := newSampleServer(t)
	const nodebbHost = "https://bb.devnull.land"
	nodebb.sample(t, "nodebb/objects/person.json", nodebbHost, nil)
	topic := nodebb.sample(t, "nodebb/objects/page.json", nodebbHost, nil)
	later := nodebb.sample(t, "nodebb/objects/page.json", nodebbHost, func(d map[string]any) {
		d["id"], d["type"], d["inReplyTo"], d["name"] = nodebb.srv.URL+"/post/2", "Note", topic, nil
		d["content"] = "<p>Thanks, it works.</p>"
	})
	// A collection listing another server's post does not vouch for it:
	// it is fetched from its own server, which does not serve it.
	foreign := m.NewID("statuses")
	nodebb.collection("/topic/1", true, topic, later, foreign)
	inOneThread("NodeBB", topic, later, replyTo(topic))
	if _, err := object(b, foreign); err == nil {
		t.Errorf("a post the collection names on another host, which its server does not serve, was stored")
	}

	// Discourse: Notes without to or cc, public because served unsigned.
	discourse := newSampleServer(t)
	const discourseHost = "https://socialhub.activitypub.rocks"
	discourse.sample(t, "discourse/objects/person.json", discourseHost, nil)
	opening := discourse.sample(t, "discourse/objects/page.json", discourseHost, nil)
	answer := discourse.sample(t, "discourse/objects/page.json", discourseHost, func(d map[string]any) {
		d["id"], d["inReplyTo"], d["name"] = discourse.srv.URL+"/ap/object/2", opening, nil
		d["content"] = "<p>See you there.</p>"
	})
	discourse.collection("/ap/collection/8850f6e85b57c490da915a5dfbbd5045", false, opening, answer)
	inOneThread("Discourse", opening, answer, replyTo(opening))

	// bea's replies name the thread's collection, or no context at all
	// when the thread's first post named none (its id is a post, not a
	// collection of posts).
	ctx := context.Background()
	reply, err := b.Service.Post(ctx, bea, federation.NewPost{InReplyTo: second, Text: "Agreed"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(servedNote(t, reply.URI).Context); got != lemmy.srv.URL+"/post/55143/context" {
		t.Errorf("bea's reply in the Lemmy thread is served with context %q", got)
	}
	lone := m.NewID("statuses")
	if code := m.Send(bea.InboxURI, map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": lone + "/activity", "type": "Create", "actor": m.ActorURI(), "object": map[string]any{
			"id": lone, "type": "Note", "attributedTo": m.ActorURI(), "content": "<p>@bea hello</p>",
			"published": time.Now().UTC().Format(time.RFC3339), "to": []string{"https://www.w3.org/ns/activitystreams#Public"},
			"cc": []string{bea.URI}, "tag": []map[string]string{{"type": "Mention", "href": bea.URI, "name": "@bea"}}}}); code != http.StatusAccepted {
		t.Fatalf("Create: %d", code)
	}
	b.Settled()
	reply, err = b.Service.Post(ctx, bea, federation.NewPost{InReplyTo: lone, Text: "Hello"})
	if err != nil {
		t.Fatal(err)
	}
	if got := servedNote(t, reply.URI).Context; got != "" {
		t.Errorf("bea's reply to a post that named no context is served with context %q", got)
	}
}

// Backfill is bounded: a chain longer than federation's bound is fetched
// only that far up, and a thread's collection only so many posts in.
func TestThreadBackfillBounded(t *testing.T) {
	b := fedtest.Start(t, storage.SQLite)
	bea := b.Member("bea")
	m := fedtest.NewMastodon(t)
	srv := newSampleServer(t)
	const host = "https://bb.devnull.land"
	srv.sample(t, "nodebb/objects/person.json", host, nil)
	note := func(n int, parent string) string {
		return srv.sample(t, "nodebb/objects/page.json", host, func(d map[string]any) {
			d["id"], d["type"], d["name"] = srv.srv.URL+"/post/"+strconv.Itoa(n), "Note", nil
			if parent != "" {
				d["inReplyTo"] = parent
			}
		})
	}
	const chain, listed = 12, 60
	var ids []string
	for i := range chain {
		parent := ""
		if i > 0 {
			parent = ids[i-1]
		}
		ids = append(ids, note(i+1, parent))
	}
	var all []string
	for i := range listed {
		all = append(all, note(100+i, ids[chain-1]))
	}
	// The context of the chain's posts is /topic/1: a collection that
	// lists the chain's top, unreached, and many replies.
	srv.collection("/topic/1", false, append([]string{ids[0]}, all...)...)

	id := m.NewID("statuses")
	reply := map[string]any{"id": id, "type": "Note", "attributedTo": m.ActorURI(), "inReplyTo": ids[chain-1],
		"content": "<p>@bea deep</p>", "published": time.Now().UTC().Format(time.RFC3339),
		"to": []string{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []string{bea.URI},
		"tag": []map[string]string{{"type": "Mention", "href": bea.URI, "name": "@bea"}}}
	if code := m.Send(bea.InboxURI, map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": id + "/activity", "type": "Create", "actor": m.ActorURI(), "to": reply["to"], "cc": reply["cc"], "object": reply}); code != http.StatusAccepted {
		t.Fatalf("Create: %d", code)
	}
	b.Settled()
	for i, id := range ids {
		_, err := object(b, id)
		// The nearest posts up the chain, and the first, which the
		// collection lists first.
		if want := i >= chain-federation.MaxBackfillAncestors || i == 0; want != (err == nil) {
			t.Errorf("post %d of the chain: stored %v, want %v", i+1, err == nil, want)
		}
	}
	fromCollection := 0
	for _, id := range all {
		if _, err := object(b, id); err == nil {
			fromCollection++
		}
	}
	if fromCollection != federation.MaxBackfillPosts-1 {
		t.Errorf("%d replies of the collection stored, want %d (and the chain's first post)", fromCollection, federation.MaxBackfillPosts-1)
	}
	if _, err := object(b, id); err != nil {
		t.Errorf("the reply: %v", err)
	}
}
