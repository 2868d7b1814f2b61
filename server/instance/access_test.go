package instance_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/media/mediatest"
	"github.com/commonplace/commonplace/federation/policy"
	"github.com/commonplace/commonplace/server"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/server/mastoapi"
	"github.com/commonplace/commonplace/storage"
)

// What stays public in allowlist mode: discovery, the instance actor,
// sign-in (OAuth and its page), app registration, instance metadata,
// static files and health. Adding to it is a decision: it must show
// nothing of members, posts or communities. Say why in docs/security.md.
var wantPublic = []string{
	"GET /.well-known/host-meta",
	"GET /.well-known/nodeinfo",
	"GET /.well-known/oauth-authorization-server", // endpoint addresses, for signing in
	"GET /.well-known/webfinger",
	"GET /actor",
	"GET /api/v1/apps/verify_credentials",
	"GET /api/v1/custom_emojis",
	"GET /api/v1/instance",
	"GET /api/v1/instance/domain_blocks",
	"GET /api/v1/instance/extended_description", // the instance's description only
	"GET /api/v1/streaming/health",
	"GET /api/v2/instance",
	"GET /auth/confirm",
	"GET /auth/oidc/callback", // signing in through the identity provider
	"GET /auth/oidc/choose",
	"GET /auth/password",
	"GET /auth/password/reset",
	"GET /auth/sign_in",
	"GET /auth/sign_up",
	"GET /avatars/original/missing.png",
	"GET /headers/original/missing.png",
	"GET /livez",
	"GET /nodeinfo/2.0",
	"GET /nodeinfo/2.1",
	"GET /oauth/authorize",
	"GET /readyz",
	"GET /static/*",
	"POST /api/v1/apps",
	"POST /auth/oidc",
	"POST /auth/oidc/choose",
	"POST /auth/password",
	"POST /auth/password/reset",
	"POST /auth/sign_in",
	"POST /auth/sign_out",
	"POST /auth/sign_up",
	"POST /oauth/authorize",
	"POST /oauth/revoke",
	"POST /oauth/token",
}

// Strings that only members' content holds: a post, a reply from another
// server, a member's display name, a community's title and summary.
var secrets = []string{"ZQXPOSTBODY", "ZQXREPLYBODY", "ZQXDISPLAYNAME", "ZQXTITLE", "ZQXSUMMARY"}

// fixture is an instance in allowlist mode with content in every kind of
// place a route may show, and the values to put in route parameters.
type fixture struct {
	a, b        *fedtest.Node
	memberToken string
	// memberSession is alice's web session, sent with her token so that
	// pages (which know sessions, not tokens) answer her too.
	memberSession string
	appToken      string
	// params maps "route :param" (or just ":param") to values to try.
	params map[string][]string
	// query adds a query string to routes that need one to show anything.
	query map[string]string
}

func newFixture(t *testing.T, d storage.Dialect) *fixture {
	ctx := context.Background()
	a, b := fedtest.Start(t, d), fedtest.Start(t, d)
	acct, err := a.Service.CreateAccount(ctx, federation.NewAccount{
		Username: "alice", Email: "alice@example.org", DisplayName: "Alice ZQXDISPLAYNAME", Admin: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	alice := acct.Actor
	com, err := a.Service.CreateCommunity(ctx, federation.NewCommunity{
		Name: "circle", Title: "The ZQXTITLE circle", Summary: "About ZQXSUMMARY.", Owner: "alice", Tags: []string{"zqxtag"},
	})
	if err != nil {
		t.Fatal(err)
	}
	pol := a.Service.Policy
	if _, err := pol.SetMode(ctx, "test", storage.ModeAllowlist); err != nil {
		t.Fatal(err)
	}
	allow, err := pol.Allow(ctx, "test", b.Domain, "")
	if err != nil {
		t.Fatal(err)
	}
	block, err := pol.Block(ctx, "test", policy.BlockInput{Domain: "blocked.example"})
	if err != nil {
		t.Fatal(err)
	}
	// A member of an allowed server joins and replies, so that remote
	// content and a notification exist too.
	bob := b.Member("bob")
	if _, err := b.Service.Join(ctx, bob, a.Handle("circle")); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "bob's join accepted", func() (bool, error) {
		who, err := a.DB.GetActorByURI(ctx, bob.URI)
		if err != nil {
			return false, err
		}
		m, err := a.DB.GetMembership(ctx, com.ActorID, who.ID)
		return err == nil && m.State == storage.StateAccepted, err
	})
	post, err := a.Service.Post(ctx, alice, federation.NewPost{Community: a.Handle("circle"), Text: "ZQXPOSTBODY #zqxtag"})
	if err != nil {
		t.Fatal(err)
	}
	// In the repertoire, so that its entry (/c/circle/featured/ID) answers.
	if err := a.Service.Curate(ctx, alice, post.URI, federation.RepertoireChange{Section: "ZQXSECTION"}); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "the post reaches B", func() (bool, error) {
		_, err := b.DB.GetObjectByURI(ctx, post.URI)
		return err == nil, nil
	})
	reply, err := b.Service.Post(ctx, bob, federation.NewPost{InReplyTo: post.URI, Text: "ZQXREPLYBODY"})
	if err != nil {
		t.Fatal(err)
	}
	var replyOnA *storage.Object
	fedtest.Eventually(t, "the reply stored on A", func() (bool, error) {
		replyOnA, err = a.DB.GetObjectByURI(ctx, reply.URI)
		return err == nil, nil
	})
	a.Settled()
	create, err := a.DB.FindLocalActivity(ctx, "Create", alice.URI, post.URI)
	if err != nil {
		t.Fatal(err)
	}
	notes, err := a.DB.ListNotifications(ctx, storage.NotificationFilter{RecipientActorID: alice.ID})
	if err != nil || len(notes) == 0 {
		t.Fatalf("alice has no notification (%v): the fixture must exercise /api/v1/notifications/:id", err)
	}
	bobOnA := mustActor(t, a, bob.URI)

	// A member's own things, for the routes that name them.
	filter := &storage.Filter{ActorID: alice.ID, Title: "zqxfilter", Context: "home", Action: "warn"}
	keywords := []storage.FilterKeyword{{Keyword: "zqxword", WholeWord: true}}
	if err := a.Service.SaveFilter(ctx, filter, keywords, nil, nil); err != nil {
		t.Fatal(err)
	}
	filtered, err := a.Service.AddFilterStatus(ctx, alice, filter.ID, post.ID)
	if err != nil {
		t.Fatal(err)
	}
	// alice's policy keeps aside bob's notifications (she does not follow
	// him): a notification request.
	if err := a.Service.SetNotificationPolicy(ctx, &storage.NotificationPolicy{ActorID: alice.ID, ForNotFollowing: "filter",
		ForNotFollowers: "accept", ForNewAccounts: "accept", ForPrivateMentions: "accept", ForLimitedAccounts: "accept"}); err != nil {
		t.Fatal(err)
	}
	dm, err := a.Service.Post(ctx, alice, federation.NewPost{Visibility: storage.VisibilityDirect, Text: "ZQXDIRECT note to self"})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := a.DB.GetConversationByThread(ctx, alice.ID, dm.ContextURI)
	if err != nil {
		t.Fatal(err)
	}
	// A poll (issue 11), so that /api/v1/polls/:id answers a member.
	pollPost, err := a.Service.Post(ctx, alice, federation.NewPost{Community: a.Handle("circle"), Text: "ZQXPOLL which?",
		Poll: &federation.NewPoll{Options: []string{"ZQXOPTIONA", "ZQXOPTIONB"}, ExpiresIn: 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	poll, err := a.DB.GetPollByObject(ctx, pollPost.ID)
	if err != nil {
		t.Fatal(err)
	}
	photo := mediatest.JPEGWithGPS(40, 30, 1)
	upload, err := a.Service.UploadMedia(ctx, alice, federation.Upload{Name: "p.jpg", File: bytes.NewReader(photo), Size: int64(len(photo))})
	if err != nil {
		t.Fatal(err)
	}
	mediaDir, mediaFile, _ := strings.Cut(upload.FileKey, "/")
	list := &storage.List{ActorID: alice.ID, Title: "zqxlist", RepliesPolicy: "list"}
	if err := a.Service.SaveList(ctx, list); err != nil {
		t.Fatal(err)
	}

	f := &fixture{a: a, b: b}
	f.memberToken, err = mastoapi.IssueToken(ctx, a.DB, "alice", "read write follow push admin:read admin:write")
	if err != nil {
		t.Fatal(err)
	}
	// A Web Push subscription of alice's token (issue 11), so that
	// /api/v1/push/subscription answers her.
	subscribe(t, a.URL, f.memberToken)
	f.appToken = appToken(t, a)
	aliceAcct, err := a.DB.GetAccountByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if f.memberSession, err = a.Service.StartSession(ctx, aliceAcct, "test", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	statuses := []string{id(post.ID), id(replyOnA.ID)}
	accounts := []string{id(alice.ID), id(com.ActorID), id(bobOnA.ID)}
	f.params = map[string][]string{
		":name":    {"alice", "circle"},
		":hashtag": {"zqxtag"},
		"*":        {"style.css"},

		"/o/:id :id":                          {lastSegment(post.URI)},
		"/posts/:id :id":                      statuses,
		"/tags/:name :name":                   {"zqxtag"},
		"/o/:id/replies :id":                  {lastSegment(post.URI)},
		"/o/:id/context :id":                  {lastSegment(post.URI)},
		"/a/:id :id":                          {lastSegment(create.URI)},
		"/api/v1/statuses/:id :id":            statuses,
		"/api/v1/statuses/:id/context :id":    statuses,
		"/api/v1/accounts/:id :id":            accounts,
		"/api/v1/accounts/:id/statuses :id":   accounts,
		"/api/v1/notifications/:id :id":       {id(notes[0].ID)},
		"/api/v1/media/:id :id":               {id(upload.ID)},
		"/api/v1/polls/:id :id":               {id(poll.ID)},
		"/media/:dir/:file :dir":              {mediaDir},
		"/media/:dir/:file :file":             {mediaFile},
		"/api/v1/admin/domain_blocks/:id :id": {id(block.Rule.ID)},
		"/api/v1/admin/domain_allows/:id :id": {id(allow.Rule.ID)},

		"/api/v1/accounts/:id/followers :id":        accounts,
		"/api/v1/accounts/:id/following :id":        accounts,
		"/api/v1/accounts/:id/featured_tags :id":    accounts,
		"/api/v1/accounts/:id/lists :id":            accounts,
		"/api/v1/statuses/:id/source :id":           statuses,
		"/api/v1/statuses/:id/history :id":          statuses,
		"/api/v1/statuses/:id/favourited_by :id":    statuses,
		"/api/v1/statuses/:id/reblogged_by :id":     statuses,
		"/api/v2/filters/:id :id":                   {id(filter.ID)},
		"/api/v2/filters/:id/keywords :id":          {id(filter.ID)},
		"/api/v2/filters/:id/statuses :id":          {id(filter.ID)},
		"/api/v2/filters/keywords/:id :id":          {id(keywords[0].ID)},
		"/api/v1/filters/:id :id":                   {id(keywords[0].ID)},
		"/api/v2/filters/statuses/:id :id":          {id(filtered.ID)},
		"/api/v1/lists/:id :id":                     {id(list.ID)},
		"/api/v1/lists/:id/accounts :id":            {id(list.ID)},
		":list_id":                                  {id(list.ID)},
		"/api/v1/notifications/requests/:id :id":    {id(bobOnA.ID)},
		":group_key":                                {"ungrouped-" + id(notes[0].ID)},
		"/api/v1/conversations/:id :id":             {id(conv.ID)},
		"/api/v1/conversations/:id/read :id":        {id(conv.ID)},
		"/api/v2/notifications/:group_key/accounts": {"ungrouped-" + id(notes[0].ID)},
		// Moderation (issue 14).
		"/api/v1/communities/:id/moderators :id": {id(com.ActorID)},
		"/api/v1/communities/:id/bans :id":       {id(com.ActorID)},
		"/api/v1/communities/:id/modlog :id":     {id(com.ActorID)},
		"/api/v1/communities/:id/reports :id":    {id(com.ActorID)},
		// The repertoire (issue 15).
		"/api/v1/communities/:id/repertoire :id": {id(com.ActorID)},
		"/c/:name/featured/:id :id":              statuses,
		"/api/v1/communities/:id/search :id":     {id(com.ActorID)},
		"/api/v1/communities/:id/questions :id":  {id(com.ActorID)},
		"/api/v1/communities/:id/curators :id":   {id(com.ActorID)},
	}
	f.query = map[string]string{
		"/.well-known/webfinger":         "resource=acct:alice@" + a.Domain,
		"/api/v1/accounts/lookup":        "acct=alice",
		"/api/v2/search":                 "q=alice",
		"/search":                        "q=zqx",
		"/api/v1/communities/:id/search": "q=zqxpostbody",
		"/c/:name/search":                "q=zqxpostbody",
		"/authorize_interaction":         "uri=" + url.QueryEscape(a.URL+"/c/circle"),
		"/api/v1/timelines/public":       "local=false",
		// Streams: a stream only ever sends what comes after it opened,
		// so here a member's connection is shown to be answered, and the
		// others to be refused.
		"/api/v1/streaming/hashtag":       "tag=zqxtag",
		"/api/v1/streaming/hashtag/local": "tag=zqxtag",
	}
	return f
}

func mustActor(t *testing.T, n *fedtest.Node, uri string) *storage.Actor {
	t.Helper()
	a, err := n.DB.GetActorByURI(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func lastSegment(uri string) string { return uri[strings.LastIndex(uri, "/")+1:] }

// appToken registers an app and takes a client_credentials token, as
// anyone may.
func appToken(t *testing.T, n *fedtest.Node) string {
	t.Helper()
	app := postForm(t, n.URL+"/api/v1/apps", url.Values{"client_name": {"outsider"}, "redirect_uris": {"urn:ietf:wg:oauth:2.0:oob"}, "scopes": {"read"}})
	tok := postForm(t, n.URL+"/oauth/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {app["client_id"]}, "client_secret": {app["client_secret"]}, "scope": {"read"},
	})
	if tok["access_token"] == "" {
		t.Fatal("no app token")
	}
	return tok["access_token"]
}

// postForm posts a form that must answer 200 and returns the string
// fields of the JSON object it answers.
func postForm(t *testing.T, u string, v url.Values) map[string]string {
	t.Helper()
	res, err := http.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", u, res.StatusCode, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// paths expands a route template into concrete paths with the fixture's
// values. A parameter the fixture has no value for is an error: a new
// route with a new parameter must be given real values here, so that
// the test reaches what the route would show.
func (f *fixture) paths(route string) ([]string, error) {
	out := []string{""}
	for _, seg := range strings.Split(strings.TrimPrefix(route, "/"), "/") {
		vals := []string{seg}
		if strings.HasPrefix(seg, ":") || seg == "*" {
			vals = f.params[route+" "+seg]
			if vals == nil {
				vals = f.params[seg]
			}
			if vals == nil {
				return nil, fmt.Errorf("route %s: give the allowlist contract test (server/instance/access_test.go) real values for %s", route, seg)
			}
		}
		var next []string
		for _, p := range out {
			for _, v := range vals {
				next = append(next, p+"/"+url.PathEscape(v))
			}
		}
		out = next
	}
	if q := f.query[route]; q != "" {
		for i := range out {
			out[i] += "?" + q
		}
	}
	return out, nil
}

type result struct {
	status int
	body   string
}

func (f *fixture) get(t *testing.T, method, path, token, accept string) result {
	t.Helper()
	req, err := http.NewRequest(method, f.a.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if path == "/api/v1/streaming" {
		// The streaming WebSocket answers only an upgrade.
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req = req.WithContext(ctx)
	if token == f.memberToken {
		req.AddCookie(&http.Cookie{Name: "commonplace_session", Value: f.memberSession})
	}
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusSwitchingProtocols || strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		// A stream never ends: take what it sends at once.
		time.AfterFunc(300*time.Millisecond, cancel)
	}
	body, _ := io.ReadAll(res.Body)
	return result{res.StatusCode, string(body)}
}

func leaked(body string) string {
	for _, s := range secrets {
		if strings.Contains(body, s) {
			return s
		}
	}
	return ""
}

var accepts = []string{"application/json", "text/html", "application/activity+json", "*/*"}

// TestAllowlistContract walks every registered route of a whole instance
// in allowlist mode. Without credentials and with an application's own
// token, no GET shows anything of members, posts or communities, and
// every route that is not declared public refuses; with a member's token
// the same paths do answer, so the refusals are not an artefact of wrong
// parameters. A route added later is walked too: it leaks only if it is
// declared public, and the public list is held here.
func TestAllowlistContract(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			f := newFixture(t, d)
			srv := f.a.Instance.Server
			routes := srv.Echo().Routes()
			registered := map[string]bool{}
			for _, r := range routes {
				registered[r.Method+" "+r.Path] = true
			}

			if got := srv.Declared(server.Public); !slices.Equal(got, wantPublic) {
				t.Errorf("routes public in allowlist mode:\n got  %q\n want %q\n(change wantPublic only for a route that shows nothing of members or posts)", got, wantPublic)
			}
			for _, a := range []server.Access{server.Public, server.Peers} {
				for _, r := range srv.Declared(a) {
					if !registered[r] {
						t.Errorf("%s route %q is declared but not registered", a, r)
					}
				}
			}

			var gets, refused, answered int
			for _, r := range routes {
				if r.Method != http.MethodGet && r.Method != http.MethodHead {
					continue
				}
				access := srv.AccessOf(r.Method, r.Path)
				paths, err := f.paths(r.Path)
				if err != nil {
					t.Error(err)
					continue
				}
				gets++
				memberAnswered := false
				for _, p := range paths {
					for _, cred := range []struct{ name, token string }{{"no credentials", ""}, {"an app token", f.appToken}} {
						for _, acc := range accepts {
							res := f.get(t, r.Method, p, cred.token, acc)
							if s := leaked(res.body); s != "" {
								t.Errorf("%s %s (%s, Accept %s): %d, shows %q", r.Method, p, cred.name, acc, res.status, s)
							}
							if access != server.Public {
								if res.status != http.StatusUnauthorized {
									t.Errorf("%s %s (%s, Accept %s): %d, want 401 (%s route)", r.Method, p, cred.name, acc, res.status, access)
								} else {
									refused++
								}
							}
						}
					}
					if access != server.Public && r.Method == http.MethodGet && !memberAnswered {
						if res := f.get(t, r.Method, p, f.memberToken, "application/json"); res.status < 300 {
							memberAnswered = true
							answered++
						}
					}
				}
				if access != server.Public && r.Method == http.MethodGet && !memberAnswered {
					t.Errorf("GET %s: no path answered a member either; give the test values that reach its content (%q)", r.Path, paths)
				}
			}
			// Members-only routes of other methods refuse too, before any
			// handler runs.
			for _, r := range routes {
				if r.Method == http.MethodGet || r.Method == http.MethodHead || srv.AccessOf(r.Method, r.Path) != server.Members {
					continue
				}
				// The gate answers before any handler: any id will do.
				path := regexp.MustCompile(`:[a-z_]+`).ReplaceAllString(r.Path, "1")
				if res := f.get(t, r.Method, path, f.appToken, "application/json"); res.status != http.StatusUnauthorized {
					t.Errorf("%s %s with an app token: %d, want 401", r.Method, path, res.status)
				}
			}
			t.Logf("%d GET/HEAD routes walked; %d refusals checked; %d routes answered a member", gets, refused, answered)

			// The test can fail: the same instance in blocklist mode shows
			// the content to anyone.
			if _, err := f.a.Service.Policy.SetMode(context.Background(), "test", storage.ModeBlocklist); err != nil {
				t.Fatal(err)
			}
			if res := f.get(t, http.MethodGet, "/api/v1/timelines/public", "", "application/json"); leaked(res.body) == "" {
				t.Errorf("blocklist mode: the public timeline shows no post (%d %s); the fixture is broken", res.status, res.body)
			}
		})
	}
}

// subscribe makes a Web Push subscription for token as an app does (the
// endpoint is never called here: nothing is notified after it).
func subscribe(t *testing.T, base, token string) {
	t.Helper()
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	v := url.Values{
		"subscription[endpoint]":     {"https://push.example/zqx"},
		"subscription[keys][p256dh]": {base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes())},
		"subscription[keys][auth]":   {base64.RawURLEncoding.EncodeToString(auth)},
		"data[alerts][mention]":      {"true"},
	}
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/push/subscription", strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if body, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusOK {
		t.Fatalf("push subscription: %d %s", res.StatusCode, body)
	}
}
