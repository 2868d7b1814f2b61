package fedtest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// LemmyGroup is a stand-in for a community on a Lemmy server, shaped from
// Lemmy's own payloads: a Group at /c/NAME whose moderators are its
// attributedTo, a user at /u/NAME who writes Pages and may join other
// servers' communities, Follow answered with Accept, and FEP-1b12
// redistribution by Announce. Its inbox verifies signatures as strictly as
// the Mastodon stand-in, and, like Lemmy, reads a community's Announce
// only as the Announce of an activity (AnnounceFailures lists the others).
type LemmyGroup struct {
	t      testing.TB
	srv    *httptest.Server
	key    *rsa.PrivateKey // the community's
	ukey   *rsa.PrivateKey // the user's
	Domain string
	nextID atomic.Int64

	mu        sync.Mutex
	followers map[string]string // actor id -> inbox
	received  []Received
	pages     map[string][]byte
}

// NewLemmyGroup starts a Lemmy-like server with the community "lemmings"
// and the user "lem".
func NewLemmyGroup(t testing.TB) *LemmyGroup {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ukey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	l := &LemmyGroup{t: t, key: key, ukey: ukey, followers: map[string]string{}, pages: map[string][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/webfinger", l.webfinger)
	ServeNodeInfo(mux, "lemmy", "0.19.5")
	mux.HandleFunc("GET /c/lemmings", l.group)
	mux.HandleFunc("GET /u/lem", l.user)
	mux.HandleFunc("GET /post/{id}", l.page)
	mux.HandleFunc("GET /c/lemmings/{collection}", func(w http.ResponseWriter, r *http.Request) {
		writeAP(w, map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": l.URI() + "/" + r.PathValue("collection"),
			"type": "OrderedCollection", "totalItems": 0, "orderedItems": []any{}})
	})
	mux.HandleFunc("POST /inbox", l.inbox)
	mux.HandleFunc("POST /c/lemmings/inbox", l.inbox)
	mux.HandleFunc("POST /u/lem/inbox", l.inbox)
	l.srv = httptest.NewServer(mux)
	t.Cleanup(l.srv.Close)
	l.Domain = strings.TrimPrefix(l.srv.URL, "http://")
	return l
}

// URI is the community's actor id; UserURI the user's.
func (l *LemmyGroup) URI() string     { return l.srv.URL + "/c/lemmings" }
func (l *LemmyGroup) UserURI() string { return l.srv.URL + "/u/lem" }

// Handle is lemmings@domain.
func (l *LemmyGroup) Handle() string { return "lemmings@" + l.Domain }

func (l *LemmyGroup) webfinger(w http.ResponseWriter, r *http.Request) {
	var href string
	switch r.URL.Query().Get("resource") {
	case "acct:lemmings@" + l.Domain:
		href = l.URI()
	case "acct:lem@" + l.Domain:
		href = l.UserURI()
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/jrd+json")
	json.NewEncoder(w).Encode(map[string]any{
		"subject": r.URL.Query().Get("resource"),
		"links": []map[string]string{
			{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": href},
			{"rel": "self", "type": "application/activity+json", "href": href},
		},
	})
}

func publicKeyPEM(k *rsa.PrivateKey) string {
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

var lemmyContext = []any{"https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"}

func (l *LemmyGroup) group(w http.ResponseWriter, r *http.Request) {
	u := l.URI()
	writeAP(w, map[string]any{
		"@context": lemmyContext, "type": "Group", "id": u, "preferredUsername": "lemmings",
		"name": "Lemmings", "summary": "<p>A Lemmy community.</p>", "sensitive": false,
		"inbox": u + "/inbox", "followers": u + "/followers", "outbox": u + "/outbox",
		"featured": u + "/featured", "attributedTo": u + "/moderators", "postingRestrictedToMods": false,
		"endpoints": map[string]string{"sharedInbox": l.srv.URL + "/inbox"},
		"publicKey": map[string]string{"id": u + "#main-key", "owner": u, "publicKeyPem": publicKeyPEM(l.key)},
		"published": "2024-01-01T00:00:00Z",
	})
}

func (l *LemmyGroup) user(w http.ResponseWriter, r *http.Request) {
	u := l.UserURI()
	writeAP(w, map[string]any{
		"@context": lemmyContext, "type": "Person", "id": u, "preferredUsername": "lem",
		"inbox": u + "/inbox", "outbox": u + "/outbox",
		"endpoints": map[string]string{"sharedInbox": l.srv.URL + "/inbox"},
		"publicKey": map[string]string{"id": u + "#main-key", "owner": u, "publicKeyPem": publicKeyPEM(l.ukey)},
		"published": "2024-01-01T00:00:00Z",
	})
}

func (l *LemmyGroup) page(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	body, ok := l.pages[r.PathValue("id")]
	l.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/activity+json")
	w.Write(body)
}

func (l *LemmyGroup) inbox(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = VerifyLikeMastodon(r, body, FetchActorKey(http.DefaultClient))
	}
	if err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	typ, _ := doc["type"].(string)
	got := Received{Type: typ, Raw: body, Doc: doc}
	if typ == "Announce" {
		got.BoostErr = lemmyReads(doc)
	}
	l.mu.Lock()
	l.received = append(l.received, got)
	l.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	if typ == "Follow" && doc["object"] == l.URI() {
		actor, _ := doc["actor"].(string)
		go l.accept(actor, doc)
	}
}

// accept answers a Follow as Lemmy does: Accept with the Follow embedded.
func (l *LemmyGroup) accept(actor string, follow map[string]any) {
	inbox, err := actorInbox(actor)
	if err != nil {
		l.t.Errorf("lemmy: follower %s: %v", actor, err)
		return
	}
	l.mu.Lock()
	l.followers[actor] = inbox
	l.mu.Unlock()
	l.deliver(inbox, map[string]any{
		"@context": lemmyContext, "actor": l.URI(), "to": []string{actor}, "object": follow,
		"type": "Accept", "id": fmt.Sprintf("%s/activities/accept/%d", l.srv.URL, l.nextID.Add(1)),
	}, l.URI()+"#main-key", l.key)
}

// actorInbox reads an actor's shared inbox, or its inbox.
func actorInbox(actor string) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, actor, nil)
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var doc struct {
		Inbox     string `json:"inbox"`
		Endpoints struct {
			SharedInbox string `json:"sharedInbox"`
		} `json:"endpoints"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return "", err
	}
	if doc.Endpoints.SharedInbox != "" {
		return doc.Endpoints.SharedInbox, nil
	}
	return doc.Inbox, nil
}

func (l *LemmyGroup) deliver(inbox string, doc map[string]any, keyID string, key *rsa.PrivateKey) {
	body, _ := json.Marshal(doc)
	req, _ := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(body))
	SignAs(l.t, req, body, time.Now(), keyID, key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Errorf("lemmy: deliver to %s: %v", inbox, err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		l.t.Errorf("lemmy: deliver %v to %s: %d", doc["type"], inbox, resp.StatusCode)
	}
}

// lemmyReads is Lemmy's AnnounceActivity: its object is an activity it
// knows, embedded (an id would be fetched and must be an activity, which a
// post's id is not).
func lemmyReads(announce map[string]any) error {
	inner, ok := announce["object"].(map[string]any)
	if !ok {
		return fmt.Errorf("Announce of %v, not of an embedded activity: Lemmy cannot read it", announce["object"])
	}
	switch inner["type"] {
	case "Create", "Update", "Delete", "Like", "Dislike", "Undo", "Remove", "Add", "Lock", "Block":
		return nil
	}
	return fmt.Errorf("Announce of a %v: not an activity Lemmy reads", inner["type"])
}

// AnnounceFailures lists the Announces Lemmy could not read, with why.
func (l *LemmyGroup) AnnounceFailures() []string {
	var out []string
	for _, r := range l.Received() {
		if r.Type == "Announce" && r.BoostErr != nil {
			out = append(out, fmt.Sprintf("%v: %v", r.Doc["id"], r.BoostErr))
		}
	}
	return out
}

// Join makes lem subscribe to another server's community, as Lemmy sends
// it, and returns the Follow's id.
func (l *LemmyGroup) Join(groupURI, inbox string) string {
	id := fmt.Sprintf("%s/activities/follow/%d", l.srv.URL, l.nextID.Add(1))
	l.deliver(inbox, map[string]any{
		"@context": lemmyContext, "actor": l.UserURI(), "object": groupURI, "to": []string{groupURI},
		"type": "Follow", "id": id,
	}, l.UserURI()+"#main-key", l.ukey)
	return id
}

// Followers returns the number of accepted followers.
func (l *LemmyGroup) Followers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.followers)
}

// Received returns what the inbox accepted.
func (l *LemmyGroup) Received() []Received {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Received(nil), l.received...)
}

// NewPage makes lem write a Page in the community and returns the
// Create, as Lemmy would send it to the community.
func (l *LemmyGroup) NewPage(title, content string) (pageID string, create map[string]any) {
	n := l.nextID.Add(1)
	pageID = fmt.Sprintf("%s/post/%d", l.srv.URL, n)
	page := map[string]any{
		"type": "Page", "id": pageID, "attributedTo": l.UserURI(), "to": []string{l.URI(), "https://www.w3.org/ns/activitystreams#Public"},
		"name": title, "cc": []any{}, "content": content, "mediaType": "text/html",
		"source":    map[string]string{"content": content, "mediaType": "text/markdown"},
		"sensitive": false, "published": time.Now().UTC().Format(time.RFC3339), "audience": l.URI(),
	}
	body, _ := json.Marshal(page)
	l.mu.Lock()
	l.pages[fmt.Sprint(n)] = body
	l.mu.Unlock()
	create = map[string]any{
		"actor": l.UserURI(), "to": []string{"https://www.w3.org/ns/activitystreams#Public"}, "object": page,
		"cc": []string{l.URI()}, "type": "Create", "id": fmt.Sprintf("%s/activities/create/%d", l.srv.URL, n), "audience": l.URI(),
	}
	return pageID, create
}

// Announce redistributes object (an activity or an object id) to every
// follower, as Lemmy does: an Announce with no @context inside.
func (l *LemmyGroup) Announce(object any) {
	l.mu.Lock()
	inboxes := map[string]bool{}
	for _, in := range l.followers {
		inboxes[in] = true
	}
	l.mu.Unlock()
	for in := range inboxes {
		l.deliver(in, map[string]any{
			"@context": lemmyContext, "actor": l.URI(), "to": []string{"https://www.w3.org/ns/activitystreams#Public"},
			"object": object, "cc": []string{l.URI() + "/followers"}, "type": "Announce",
			"id": fmt.Sprintf("%s/activities/announce/%d", l.srv.URL, l.nextID.Add(1)),
		}, l.URI()+"#main-key", l.key)
	}
}

// WaitFor waits until the inbox has accepted an activity for which match
// is true, and returns it.
func (l *LemmyGroup) WaitFor(what string, match func(Received) bool) Received {
	l.t.Helper()
	var got Received
	Eventually(l.t, what, func() (bool, error) {
		for _, r := range l.Received() {
			if match(r) {
				got = r
				return true, nil
			}
		}
		return false, nil
	})
	return got
}

// SendAsUser delivers doc, signed by the user lem, as Lemmy would.
func (l *LemmyGroup) SendAsUser(inbox string, doc map[string]any) {
	l.deliver(inbox, doc, l.UserURI()+"#main-key", l.ukey)
}

// NewID returns a fresh activity id of the given kind on this server.
func (l *LemmyGroup) NewID(kind string) string {
	return fmt.Sprintf("%s/activities/%s/%d", l.srv.URL, kind, l.nextID.Add(1))
}
