package mastoapi_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/server/fedtest"
)

// oauthLogin runs Mastodon's OAuth flow as an app and a browser would:
// register the app, open the authorize page, post the login and consent
// form with its CSRF token, take the code from the redirect and exchange
// it with the PKCE verifier. It returns the access token.
func oauthLogin(t *testing.T, n *fedtest.Node, username, scopes string) string {
	t.Helper()
	return oauthLoginVia(t, n, username, scopes, "https://app.example/callback", "/oauth/authorize")
}

// oauthLoginVia is oauthLogin with the app's redirect URI and the
// authorize path it opens (toot opens "/oauth/authorize/").
func oauthLoginVia(t *testing.T, n *fedtest.Node, username, scopes, redirect, authorizePath string) string {
	t.Helper()
	return oauthGrantVia(t, n, username, scopes, redirect, authorizePath).token
}

// oauthGrant is a token and the app it was granted to.
type oauthGrant struct {
	token, clientID, clientSecret string
	// exchange is the code's exchange, for trying it again.
	exchange url.Values
}

// oauthLoginApp is oauthLogin that also returns the app's credentials.
func oauthLoginApp(t *testing.T, n *fedtest.Node, username, scopes string) oauthGrant {
	t.Helper()
	return oauthGrantVia(t, n, username, scopes, "https://app.example/callback", "/oauth/authorize")
}

func oauthGrantVia(t *testing.T, n *fedtest.Node, username, scopes, redirect, authorizePath string) oauthGrant {
	t.Helper()
	anon := newClient(t, n, "")
	app := expect(t, anon.do("POST", "/api/v1/apps", map[string]any{
		"client_name": "Phanpy", "redirect_uris": []string{redirect}, "scopes": scopes, "website": "https://app.example",
	}), 200, "CredentialApp")
	clientID := str(field(app, "client_id"))

	verifier := strings.Repeat("v3rifier-", 6)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	q := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect}, "scope": {scopes},
		"state": {"xyz"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := browser.Get(n.URL + authorizePath + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, res)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("authorize page: %d %s", res.StatusCode, page)
	}
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("the authorize page must not be readable cross-origin")
	}
	// Browsers apply form-action to the redirect after the POST, and
	// Chromium refuses apps' own schemes whatever the list says: the page
	// sends none, as Mastodon's does, and keeps the rest of the policy.
	if csp := res.Header.Get("Content-Security-Policy"); strings.Contains(csp, "form-action") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("authorize page CSP: %q, want no form-action and the rest of the policy", csp)
	}
	m := regexp.MustCompile(`name="authenticity_token" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page: %s", page)
	}
	form := url.Values{}
	for _, h := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
		form.Set(h[1], htmlUnescape(h[2]))
	}
	form.Set("username", username)
	form.Set("password", password)
	form.Set("decision", "approve")
	res, err = browser.PostForm(n.URL+authorizePath, form)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, res)
	var code string
	if redirect == "urn:ietf:wg:oauth:2.0:oob" {
		// The code is shown for the member to paste into the app.
		m := regexp.MustCompile(`<code class="oauth-code">([^<]+)</code>`).FindStringSubmatch(body)
		if res.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("login out of band: %d %s", res.StatusCode, body)
		}
		code = m[1]
	} else {
		if res.StatusCode != http.StatusFound {
			t.Fatalf("login: %d %s", res.StatusCode, body)
		}
		loc, err := url.Parse(res.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(loc.String(), redirect+"?") || loc.Query().Get("state") != "xyz" || loc.Query().Get("code") == "" {
			t.Fatalf("redirect to the app: %q", res.Header.Get("Location"))
		}
		code = loc.Query().Get("code")
	}
	exchange := url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "client_id": {clientID},
		"redirect_uri": {redirect}, "code_verifier": {verifier},
	}
	tok := expect(t, anon.do("POST", "/oauth/token", exchange), 200, "Token")
	if field(tok, "scope") != scopes || field(tok, "token_type") != "Bearer" {
		t.Errorf("token: %v", tok)
	}
	return oauthGrant{token: str(field(tok, "access_token")), clientID: clientID, clientSecret: str(field(app, "client_secret")), exchange: exchange}
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

var htmlUnescape = strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace

// The scenario across three instances: a member of B gets a token
// through the OAuth flow, finds the community on A by search, follows it
// and posts to it by mention; a member of C who follows the same
// community sees the post in the home timeline as the community's reblog,
// replies, and the reply reaches B's notifications.
func TestThreeInstancesThroughTheClientAPI(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			a, b, c := fedtest.Start(t, d), fedtest.Start(t, d), fedtest.Start(t, d)
			member(t, a, "olga")
			a.Community("practice", false, "olga")
			member(t, b, "bea")
			member(t, c, "cai")

			bea := newClient(t, b, oauthLogin(t, b, "bea", "read write follow"))
			cai := newClient(t, c, oauthLogin(t, c, "cai", "read write follow"))
			if me := bea.ok("GET", "/api/v1/accounts/verify_credentials", nil).object(t); me["username"] != "bea" {
				t.Fatalf("verify_credentials: %v", me)
			}

			// Both find @practice@A by WebFinger and follow it.
			follow := func(cl *client) string {
				res := expect(t, cl.do("GET", "/api/v2/search?resolve=true&type=accounts&q="+url.QueryEscape("@practice@"+a.Domain), nil), 200, "Search")
				accounts := field(res, "accounts").([]any)
				if len(accounts) != 1 || field(accounts[0], "group") != true || field(accounts[0], "acct") != "practice@"+a.Domain {
					t.Fatalf("search: %v", res)
				}
				id := str(field(accounts[0], "id"))
				expect(t, cl.do("POST", "/api/v1/accounts/"+id+"/follow", nil), 200, "Relationship")
				fedtest.Eventually(t, "the follow accepted", func() (bool, error) {
					rels := cl.ok("GET", "/api/v1/accounts/relationships?id[]="+id, nil).list(t)
					return len(rels) == 1 && field(rels[0], "following") == true, nil
				})
				return id
			}
			follow(bea)
			follow(cai)

			post := expect(t, bea.do("POST", "/api/v1/statuses", url.Values{
				"status": {"@practice@" + a.Domain + " How do you run handovers? #handover"},
			}, "Idempotency-Key", "e2e-1"), 200, "Status")
			postURI := str(field(post, "uri"))

			// On C the post arrives through A and shows as A's community
			// boosting it.
			var onC any
			fedtest.Eventually(t, "the post in C's home timeline", func() (bool, error) {
				for _, s := range cai.ok("GET", "/api/v1/timelines/home", nil).list(t) {
					if field(s, "reblog", "uri") == postURI {
						onC = s
						return true, nil
					}
				}
				return false, nil
			})
			expect(t, cai.do("GET", "/api/v1/timelines/home", nil), 200, "[]Status")
			if field(onC, "account", "group") != true || field(onC, "account", "acct") != "practice@"+a.Domain {
				t.Errorf("the reblog is not by the community: %v", field(onC, "account"))
			}
			if field(onC, "reblog", "account", "acct") != "bea@"+b.Domain || !strings.Contains(str(field(onC, "reblog", "content")), "handovers") {
				t.Errorf("the reblogged status: %v", field(onC, "reblog"))
			}

			reply := expect(t, cai.do("POST", "/api/v1/statuses", map[string]any{
				"status": "With a checklist, read aloud.", "in_reply_to_id": field(onC, "reblog", "id"),
			}), 200, "Status")
			replyURI := str(field(reply, "uri"))

			fedtest.Eventually(t, "the reply in B's notifications", func() (bool, error) {
				for _, n := range bea.ok("GET", "/api/v1/notifications?types[]=mention", nil).list(t) {
					if field(n, "status", "uri") == replyURI {
						if field(n, "type") != "mention" || field(n, "account", "acct") != "cai@"+c.Domain {
							t.Errorf("notification: %v", n)
						}
						return true, nil
					}
				}
				return false, nil
			})
			notes := expect(t, bea.do("GET", "/api/v1/notifications", nil), 200, "[]Notification").([]any)
			if len(notes) != 1 {
				t.Errorf("B has %d notifications, want the one reply", len(notes))
			}
			// The reply is in the thread of the post on B.
			ctx := expect(t, bea.do("GET", "/api/v1/statuses/"+str(field(post, "id"))+"/context", nil), 200, "Context")
			if d := field(ctx, "descendants").([]any); len(d) != 1 || field(d[0], "uri") != replyURI {
				t.Errorf("context on B: %v", d)
			}
			// The same Idempotency-Key again: the first status, not a second.
			again := expect(t, bea.do("POST", "/api/v1/statuses", url.Values{
				"status": {"@practice@" + a.Domain + " How do you run handovers? #handover"},
			}, "Idempotency-Key", "e2e-1"), 200, "Status")
			if field(again, "id") != field(post, "id") {
				t.Errorf("repeated Idempotency-Key created status %v, want %v", field(again, "id"), field(post, "id"))
			}
		})
	}
}
