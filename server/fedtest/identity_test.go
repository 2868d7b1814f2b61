package fedtest_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/policy"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
	"github.com/google/uuid"
)

// Signatures are bound to the host they were made for (issue 9 item 3).
// A delivery captured by one instance and replayed to another is refused,
// and so is a GET an allowed server signed for a path on some other host
// and replayed to us with that host's Host header: in allowlist mode it
// would otherwise pass as the allowed server's fetch.
func TestSignatureBoundToHost(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) { signatureBoundToHost(t, d) })
	}
}

func signatureBoundToHost(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	a, b := fedtest.Start(t, d), fedtest.Start(t, storage.SQLite)
	a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	m := fedtest.NewMastodon(t)

	// signedFor signs body for url as m and readdresses it to to, keeping
	// the signed Host: what a replay looks like on the wire.
	signedFor := func(signed, to string, body []byte) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, signed, bytes.NewReader(body))
		m.Sign(req, body, time.Now())
		req.URL, _ = url.Parse(to)
		return req
	}
	follow := func() []byte {
		body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
			"id": m.NewID("follows"), "type": "Follow", "actor": m.ActorURI(), "object": group.URI})
		return body
	}
	for _, signed := range []string{b.URL + "/inbox", "http://" + m.Domain + "/inbox"} {
		before := countRows(t, a)
		if code := m.Do(signedFor(signed, a.URL+"/inbox", follow())); code != http.StatusUnauthorized {
			t.Errorf("delivery signed for %s, replayed to %s: %d, want 401", signed, a.URL, code)
		}
		a.Settled()
		if after := countRows(t, a); after != before {
			t.Errorf("replay from %s stored rows: %d -> %d", signed, before, after)
		}
	}
	// Signed for us, the same delivery is accepted.
	if code := m.Do(signedFor(group.InboxURI, group.InboxURI, follow())); code != http.StatusAccepted {
		t.Fatalf("delivery signed for our host: %d, want 202", code)
	}

	// Allowlist mode, m's server allowed: a fetch it signed for another
	// host is not its fetch of ours.
	pol := a.Service.Policy
	if _, err := pol.SetMode(ctx, admin, storage.ModeAllowlist); err != nil {
		t.Fatal(err)
	}
	if _, err := pol.Allow(ctx, admin, m.Domain, "partner"); err != nil {
		t.Fatal(err)
	}
	get := func(signedHost, path string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+signedHost+path, nil)
		req.Header.Set("Accept", "application/activity+json")
		m.SignGet(req, time.Now())
		req.URL, _ = url.Parse(a.URL + path)
		req.Host = signedHost
		return m.Do(req)
	}
	for _, path := range []string{"/u/olga/outbox", "/c/practice/followers", "/c/practice/outbox", "/u/olga"} {
		if code := get(m.Domain, path); code != http.StatusUnauthorized {
			t.Errorf("GET %s signed for %s: %d, want 401", path, m.Domain, code)
		}
		if code := get(b.Domain, path); code != http.StatusUnauthorized {
			t.Errorf("GET %s signed for %s: %d, want 401", path, b.Domain, code)
		}
		if code := get(a.Domain, path); code != http.StatusOK {
			t.Errorf("GET %s signed for our host: %d, want 200", path, code)
		}
	}
}

// countRows counts what a refused delivery must not add.
func countRows(t *testing.T, n *fedtest.Node) int64 {
	t.Helper()
	var total int64
	g := n.DB.Gorm(context.Background())
	for _, model := range []any{&storage.Activity{}, &storage.Object{}, &storage.Actor{}, &storage.Membership{}} {
		var c int64
		if err := g.Model(model).Count(&c).Error; err != nil {
			t.Fatal(err)
		}
		total += c
	}
	return total
}

// respelled is a server that writes its own host in another spelling in
// every id it publishes (actor, key, inbox, activities) and answers
// WebFinger for it: what a blocked server does to slip past a rule that
// names its canonical host.
type respelled struct {
	srv       *httptest.Server
	key       *rsa.PrivateKey
	canonical string // host:port as the rule names it
	base      string // http://<respelled host>
	next      int
	page      string // the actor's url, if any
	username  string // the actor's preferredUsername; "" is eve
	name      string // the actor's name
}

func newRespelled(t *testing.T, spell func(canonical string) string) *respelled {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	r := &respelled{key: key}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	r.canonical = strings.TrimPrefix(r.srv.URL, "http://")
	r.base = "http://" + spell(r.canonical)
	return r
}

func (r *respelled) actor() string { return r.base + "/users/eve" }

func (r *respelled) serve(w http.ResponseWriter, req *http.Request) {
	switch req.URL.Path {
	case "/.well-known/webfinger":
		res := req.URL.Query().Get("resource")
		w.Header().Set("Content-Type", "application/jrd+json")
		json.NewEncoder(w).Encode(map[string]any{"subject": res, "links": []map[string]string{
			{"rel": "self", "type": "application/activity+json", "href": r.actor()}}})
	case "/users/eve":
		der, _ := x509.MarshalPKIXPublicKey(&r.key.PublicKey)
		w.Header().Set("Content-Type", "application/activity+json")
		json.NewEncoder(w).Encode(map[string]any{
			"@context": []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
			"id":       r.actor(), "type": "Person", "preferredUsername": cmp.Or(r.username, "eve"), "name": r.name,
			"inbox": r.actor() + "/inbox", "url": r.page,
			"outbox": r.actor() + "/outbox", "followers": r.actor() + "/followers",
			"endpoints": map[string]string{"sharedInbox": r.base + "/inbox"},
			"publicKey": map[string]string{"id": r.actor() + "#main-key", "owner": r.actor(),
				"publicKeyPem": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))},
		})
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

// follow delivers a Follow of group, in the respelled ids, to inbox.
func (r *respelled) follow(t *testing.T, group, inbox string) int {
	t.Helper()
	r.next++
	return r.send(t, inbox, map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id":   r.base + "/follows/" + strconv.Itoa(r.next),
		"type": "Follow", "actor": r.actor(), "object": group})
}

// post delivers a Create of a public Note to group whose url is page, and
// returns the Note's id.
func (r *respelled) post(t *testing.T, group, inbox, page string) string {
	t.Helper()
	r.next++
	id := r.actor() + "/notes/" + strconv.Itoa(r.next)
	note := map[string]any{"id": id, "type": "Note", "attributedTo": r.actor(), "content": "<p>hello</p>", "url": page,
		"to": []string{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []string{group}}
	if code := r.send(t, inbox, map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": id + "/activity", "type": "Create", "actor": r.actor(), "to": note["to"], "cc": note["cc"], "object": note}); code != http.StatusAccepted {
		t.Fatalf("Create of %s: %d", id, code)
	}
	return id
}

func (r *respelled) send(t *testing.T, inbox string, doc map[string]any) int {
	t.Helper()
	body, _ := json.Marshal(doc)
	req, _ := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(body))
	fedtest.SignAs(t, req, body, time.Now(), r.actor()+"#main-key", r.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A suspended server does not federate by writing its host another way
// (issue 9 item 2): ids in a non-canonical spelling are refused when
// parsed, and every host is judged in its canonical form, so the rule on
// the canonical host holds.
func TestRespelledHostRefused(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) { respelledHostRefused(t, d) })
	}
}

func respelledHostRefused(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	a := fedtest.Start(t, d)
	a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	spellings := map[string]func(string) string{
		"leading zero in the port": func(c string) string {
			h, p, _ := net.SplitHostPort(c)
			return h + ":0" + p
		},
		"IPv4-mapped IPv6": func(c string) string {
			_, p, _ := net.SplitHostPort(c)
			return "[::ffff:127.0.0.1]:" + p
		},
	}
	for name, spell := range spellings {
		t.Run(name, func(t *testing.T) {
			evil := newRespelled(t, spell)
			if _, err := a.Service.Policy.Block(ctx, admin, policy.BlockInput{Domain: evil.canonical, Reason: "spam"}); err != nil {
				t.Fatal(err)
			}
			before := countRows(t, a)
			code := evil.follow(t, group.URI, group.InboxURI)
			if code == http.StatusAccepted {
				t.Errorf("Follow from %s (blocked as %s) accepted", evil.base, evil.canonical)
			}
			a.Settled()
			if after := countRows(t, a); after != before {
				t.Errorf("Follow from %s stored rows: %d -> %d", evil.base, before, after)
			}
			if m, err := membership(a, group.URI, evil.actor()); err == nil {
				t.Errorf("membership of %s: %+v", evil.actor(), m)
			}
		})
	}
}

// Link fields hold only http(s) pages on the document's own host (issue 9
// item 8): a javascript: url, or a page on another host, is not stored,
// and apps are shown the id instead.
func TestLinkFieldsOnOwnHost(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) { linkFieldsOnOwnHost(t, d) })
	}
}

func linkFieldsOnOwnHost(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	a := fedtest.Start(t, d)
	a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	for _, page := range []string{"javascript:alert(document.cookie)", "https://phish.example/@eve", "data:text/html,<script>", "//phish.example/@eve", "/@eve"} {
		eve := newRespelled(t, func(c string) string { return c })
		eve.page = page
		if code := eve.follow(t, group.URI, group.InboxURI); code != http.StatusAccepted {
			t.Fatalf("follow: %d", code)
		}
		fedtest.Eventually(t, "eve's join accepted", accepted(a, group.URI, eve.actor()))
		actor, err := a.DB.GetActorByURI(ctx, eve.actor())
		if err != nil {
			t.Fatal(err)
		}
		if actor.URL != "" {
			t.Errorf("actor url %q stored as %q", page, actor.URL)
		}
		if got := federation.LinkOrID(page, eve.actor()); got != eve.actor() {
			t.Errorf("LinkOrID(%q) = %q", page, got)
		}
		note := eve.post(t, group.URI, group.InboxURI, strings.Replace(page, "@eve", "@eve/1", 1))
		a.Settled()
		o, err := object(a, note)
		if err != nil {
			t.Fatal(err)
		}
		if o.URL != "" {
			t.Errorf("note url stored as %q", o.URL)
		}
	}
	// A page on the actor's own host is kept.
	eve := newRespelled(t, func(c string) string { return c })
	eve.page = eve.base + "/@eve"
	if code := eve.follow(t, group.URI, group.InboxURI); code != http.StatusAccepted {
		t.Fatalf("follow: %d", code)
	}
	fedtest.Eventually(t, "eve's join accepted", accepted(a, group.URI, eve.actor()))
	note := eve.post(t, group.URI, group.InboxURI, eve.base+"/@eve/1")
	a.Settled()
	if actor, err := a.DB.GetActorByURI(ctx, eve.actor()); err != nil || actor.URL != eve.page {
		t.Errorf("actor url on its own host: %+v %v", actor, err)
	}
	if o, err := object(a, note); err != nil || o.URL != eve.base+"/@eve/1" {
		t.Errorf("note url on its own host: %+v %v", o, err)
	}
}

// TestPostPagesStayHome: the page of a local post in a remote community
// whose stored url points to another host (a row stored before links were
// checked) neither redirects there nor links to it; browsers are sent
// only to our own pages or to an actor's own host.
func TestPostPagesStayHome(t *testing.T) {
	ctx := context.Background()
	a := fedtest.Start(t, storage.SQLite)
	olga := a.Member("olga")
	group := &storage.Actor{
		URI: "https://remote.example/c/practice", Type: storage.TypeGroup, Username: "practice", Domain: "remote.example",
		URL: "https://phish.example/c/practice", InboxURI: "https://remote.example/c/practice/inbox",
	}
	if err := a.DB.CreateActor(ctx, group); err != nil {
		t.Fatal(err)
	}
	postID := uuid.NewString()
	o := &storage.Object{
		URI: a.URL + "/o/" + postID, Type: "Note", AuthorActorID: olga.ID, CommunityActorID: &group.ID,
		Content: "<p>hello</p>", Visibility: "public", Local: true, PublishedAt: time.Now(),
	}
	if err := a.DB.CreateObject(ctx, o); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/o/" + postID, fmt.Sprintf("/posts/%d", o.ID)} {
		req, _ := http.NewRequest(http.MethodGet, a.URL+path, nil)
		req.Header.Set("Accept", "text/html")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Header.Get("Location") != "" {
			t.Errorf("%s: %d, Location %q", path, res.StatusCode, res.Header.Get("Location"))
		}
		if strings.Contains(string(body), "phish.example") {
			t.Errorf("%s links to the stored url on another host", path)
		}
	}
}

// TestRemoteNamesChecked: a remote actor whose preferredUsername is not
// one Mastodon accepts is refused (nothing stored), and display names are
// stored without bidi controls, zero-width characters or newlines, and
// bounded.
func TestRemoteNamesChecked(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) { remoteNamesChecked(t, d) })
	}
}

func remoteNamesChecked(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	a := fedtest.Start(t, d)
	a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	for _, bad := range []string{"admin@other.example", "eve\u202eexe", "ev\u200be", "e ve", "eve\n", "-eve", "eve.", ".eve", "\u0435ve", strings.Repeat("a", 20000)} {
		eve := newRespelled(t, func(c string) string { return c })
		eve.username = bad
		if code := eve.follow(t, group.URI, group.InboxURI); code == http.StatusAccepted {
			t.Errorf("Follow by an actor named %q accepted", bad)
		}
		a.Settled()
		if _, err := a.DB.GetActorByURI(ctx, eve.actor()); err == nil {
			t.Errorf("actor named %q stored", bad)
		}
	}
	eve := newRespelled(t, func(c string) string { return c })
	eve.username = "Eve.Admin-1"
	eve.name = "Eve\u202e nimdA\n\nof \u200bthe\u2066 server " + strings.Repeat("long ", 4000)
	if code := eve.follow(t, group.URI, group.InboxURI); code != http.StatusAccepted {
		t.Fatalf("follow: %d", code)
	}
	fedtest.Eventually(t, "eve's join accepted", accepted(a, group.URI, eve.actor()))
	actor, err := a.DB.GetActorByURI(ctx, eve.actor())
	if err != nil {
		t.Fatal(err)
	}
	if actor.Username != "Eve.Admin-1" {
		t.Errorf("username stored as %q", actor.Username)
	}
	if !strings.HasPrefix(actor.DisplayName, "Eve nimdA of the server long") || strings.ContainsAny(actor.DisplayName, "\u202e\u200b\u2066\n") || utf8.RuneCountInString(actor.DisplayName) > federation.MaxTitleLen {
		t.Errorf("display name stored as %q", actor.DisplayName)
	}
}
