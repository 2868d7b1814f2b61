package mastoapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// Mastodon's status codes for bad input, each with an Error entity.
func TestBadInput(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			n := fedtest.Start(t, d)
			member(t, n, "olga")
			n.Community("practice", false, "olga")
			olga := newClient(t, n, tokenFor(t, n, "olga", "read write follow"))
			readOnly := newClient(t, n, tokenFor(t, n, "olga", "read:statuses"))
			anon := newClient(t, n, "")
			wrong := newClient(t, n, "not-a-token")

			// 401: no token, a wrong token (even where none is needed).
			expect(t, anon.do("GET", "/api/v1/timelines/home", nil), 401, "Error")
			expect(t, anon.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice hi"}}), 401, "Error")
			expect(t, wrong.do("GET", "/api/v1/accounts/verify_credentials", nil), 401, "Error")
			expect(t, wrong.do("GET", "/api/v1/timelines/public", nil), 401, "Error")
			malformed := newClient(t, n, "")
			expect(t, malformed.do("GET", "/api/v1/timelines/home", nil, "Authorization", "Basic abc"), 401, "Error")

			// 403: a token without the scope.
			expect(t, readOnly.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice hi"}}), 403, "Error")
			expect(t, readOnly.do("GET", "/api/v1/notifications", nil), 403, "Error")
			expect(t, readOnly.do("GET", "/api/v1/accounts/verify_credentials", nil), 403, "Error")
			expect(t, readOnly.do("GET", "/api/v1/timelines/home", nil), 200, "[]Status")

			// 404: unknown ids.
			expect(t, anon.do("GET", "/api/v1/statuses/999999", nil), 404, "Error")
			expect(t, anon.do("GET", "/api/v1/statuses/nonsense", nil), 404, "Error")
			expect(t, anon.do("GET", "/api/v1/accounts/999999", nil), 404, "Error")
			expect(t, olga.do("POST", "/api/v1/statuses/999999/favourite", nil), 404, "Error")
			expect(t, olga.do("POST", "/api/v1/statuses", url.Values{"status": {"hi"}, "in_reply_to_id": {"999999"}}), 404, "Error")
			expect(t, anon.do("GET", "/api/v1/accounts/lookup?acct=nobody", nil), 404, "Error")

			// 422: empty, too long, nowhere to post.
			expect(t, olga.do("POST", "/api/v1/statuses", url.Values{"status": {"   "}}), 422, "Error")
			expect(t, olga.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice"}}), 422, "Error")
			long := "@practice " + strings.Repeat("x", 10001)
			r := expect(t, olga.do("POST", "/api/v1/statuses", url.Values{"status": {long}}), 422, "Error")
			if !strings.Contains(str(field(r, "error")), "10000") {
				t.Errorf("over-length error does not name the limit: %v", r)
			}
			expect(t, olga.do("POST", "/api/v1/statuses", url.Values{"status": {"no community here"}}), 422, "Error")
			expect(t, olga.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice hi"}, "visibility": {"direct"}}), 422, "Error")
			expect(t, olga.do("GET", "/api/v1/timelines/home?max_id=abc", nil), 422, "Error")
			if n, _ := n.DB.CountObjects(context.Background(), storage.ObjectFilter{}); n != 0 {
				t.Fatalf("refused statuses created %d posts", n)
			}

			// Idempotency-Key: the same key returns the first status and
			// creates no second one; another key creates another.
			first := expect(t, olga.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice Once"}}, "Idempotency-Key", "k1"), 200, "Status")
			second := expect(t, olga.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice Once"}}, "Idempotency-Key", "k1"), 200, "Status")
			if field(first, "id") != field(second, "id") {
				t.Errorf("same Idempotency-Key: ids %v and %v", field(first, "id"), field(second, "id"))
			}
			if n, _ := n.DB.CountObjects(context.Background(), storage.ObjectFilter{}); n != 1 {
				t.Errorf("%d posts after a repeated Idempotency-Key, want 1", n)
			}
			other := expect(t, olga.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice Once"}}, "Idempotency-Key", "k2"), 200, "Status")
			if field(other, "id") == field(first, "id") {
				t.Error("a different Idempotency-Key returned the first status")
			}
			// Another member's same key is theirs.
			member(t, n, "ravi")
			ravi := newClient(t, n, tokenFor(t, n, "ravi", "write"))
			theirs := expect(t, ravi.do("POST", "/api/v1/statuses", url.Values{"status": {"@practice Mine"}}, "Idempotency-Key", "k1"), 200, "Status")
			if field(theirs, "id") == field(first, "id") {
				t.Error("an Idempotency-Key was shared between accounts")
			}
		})
	}
}

// CORS is open on the API and the token endpoint, for browser apps, and
// preflights are answered; the authorize page gets none.
func TestCORS(t *testing.T) {
	n := fedtest.Start(t, storage.SQLite)
	c := newClient(t, n, "")
	r := c.do("OPTIONS", "/api/v1/timelines/home", nil, "Origin", "https://elk.zone", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization")
	if r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", r.StatusCode, r.Header)
	}
	r = c.do("GET", "/api/v1/instance", nil, "Origin", "https://elk.zone")
	if r.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "Link") {
		t.Errorf("API response: %v", r.Header)
	}
	r = c.do("OPTIONS", "/oauth/token", nil, "Origin", "https://elk.zone", "Access-Control-Request-Method", "POST")
	if r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("token preflight: %v", r.Header)
	}
	r = c.do("GET", "/oauth/authorize?client_id=x", nil, "Origin", "https://evil.example")
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("authorize page allows cross-origin reads")
	}
}

// The OAuth flow refuses what it must: a form without its CSRF token, a
// wrong password, a wrong PKCE verifier, a code used twice, an
// unregistered redirect URI, scopes the app did not register.
func TestOAuthRefusals(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			n := fedtest.Start(t, d)
			member(t, n, "olga")
			anon := newClient(t, n, "")
			const redirect = "https://app.example/cb"
			app := expect(t, anon.do("POST", "/api/v1/apps", url.Values{"client_name": {"A"}, "redirect_uris": {redirect}, "scopes": {"read write:statuses"}}), 200, "CredentialApp")
			clientID, secret := str(field(app, "client_id")), str(field(app, "client_secret"))
			verifier := strings.Repeat("a", 50)
			sum := sha256.Sum256([]byte(verifier))
			challenge := base64.RawURLEncoding.EncodeToString(sum[:])
			q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect}, "scope": {"read write:statuses"},
				"code_challenge": {challenge}, "code_challenge_method": {"S256"}}

			jar, _ := cookiejar.New(nil)
			browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			get := func(q url.Values) (*http.Response, string) {
				res, err := browser.Get(n.URL + "/oauth/authorize?" + q.Encode())
				if err != nil {
					t.Fatal(err)
				}
				return res, readAll(t, res)
			}
			post := func(form url.Values) (*http.Response, string) {
				res, err := browser.PostForm(n.URL+"/oauth/authorize", form)
				if err != nil {
					t.Fatal(err)
				}
				return res, readAll(t, res)
			}
			res, page := get(q)
			csrf := regexp.MustCompile(`name="authenticity_token" value="([^"]+)"`).FindStringSubmatch(page)[1]
			form := url.Values{}
			for k, v := range q {
				form[k] = v
			}
			form.Set("username", "olga")
			form.Set("password", password)

			if res, _ := post(form); res.StatusCode != 403 {
				t.Errorf("login without the CSRF token: %d", res.StatusCode)
			}
			form.Set("authenticity_token", csrf+"x")
			if res, _ := post(form); res.StatusCode != 403 {
				t.Errorf("login with a wrong CSRF token: %d", res.StatusCode)
			}
			form.Set("authenticity_token", csrf)
			form.Set("password", "wrong password")
			if res, body := post(form); res.StatusCode != 401 || !strings.Contains(body, "Invalid username or password") {
				t.Errorf("wrong password: %d", res.StatusCode)
			}
			form.Set("password", password)
			res, _ = post(form)
			if res.StatusCode != 302 {
				t.Fatalf("login: %d", res.StatusCode)
			}
			loc, _ := url.Parse(res.Header.Get("Location"))
			code := loc.Query().Get("code")
			exchange := func(verifier string) response {
				return anon.do("POST", "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
					"client_id": {clientID}, "redirect_uri": {redirect}, "code_verifier": {verifier}})
			}
			if r := exchange(strings.Repeat("b", 50)); r.StatusCode != 400 || field(r.json(t), "error") != "invalid_grant" {
				t.Errorf("wrong PKCE verifier: %d %s", r.StatusCode, r.body)
			}
			// The failed attempt spent the code: a stolen code is good for
			// one try only.
			if r := exchange(verifier); r.StatusCode != 400 {
				t.Errorf("a code used twice: %d %s", r.StatusCode, r.body)
			}

			// Errors are shown, never redirected: anyone can register an
			// app, so its redirect URI would make us an open redirector.
			bad := url.Values{}
			for k, v := range q {
				bad[k] = v
			}
			bad.Set("scope", "read admin:read")
			if res, body := get(bad); res.StatusCode != 400 || res.Header.Get("Location") != "" || !strings.Contains(body, "invalid_scope") {
				t.Errorf("scope beyond the app's: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			bad.Set("scope", "read")
			bad.Set("code_challenge_method", "plain")
			if res, body := get(bad); res.StatusCode != 400 || res.Header.Get("Location") != "" || !strings.Contains(body, "invalid_request") {
				t.Errorf("plain PKCE: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			bad.Set("code_challenge_method", "S256")
			bad.Set("response_type", "token")
			if res, body := get(bad); res.StatusCode != 400 || res.Header.Get("Location") != "" || !strings.Contains(body, "unsupported_response_type") {
				t.Errorf("implicit grant: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			bad.Set("response_type", "code")
			bad.Set("redirect_uri", "https://evil.example/cb")
			if res, _ := get(bad); res.StatusCode != 400 || res.Header.Get("Location") != "" {
				t.Errorf("unregistered redirect URI: %d %s", res.StatusCode, res.Header.Get("Location"))
			}

			// client_credentials needs the secret; revoke ends a token.
			if r := anon.do("POST", "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}}); r.StatusCode != 401 {
				t.Errorf("client_credentials without secret: %d", r.StatusCode)
			}
			tok := expect(t, anon.do("POST", "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}), 200, "Token")
			appClient := newClient(t, n, str(field(tok, "access_token")))
			expect(t, appClient.do("GET", "/api/v1/apps/verify_credentials", nil), 200, "Application")
			expect(t, anon.do("POST", "/oauth/revoke", url.Values{"client_id": {clientID}, "client_secret": {secret}, "token": {str(field(tok, "access_token"))}}), 200, "object")
			expect(t, appClient.do("GET", "/api/v1/apps/verify_credentials", nil), 401, "Error")

			// Tokens are stored hashed: the database never holds one.
			var stored []string
			n.DB.Gorm(context.Background()).Model(&storage.OAuthToken{}).Pluck("token_hash", &stored)
			for _, h := range stored {
				if h == str(field(tok, "access_token")) || len(h) != 64 {
					t.Errorf("token stored as %q", h)
				}
			}
		})
	}
}

// Login attempts are limited per address and username.
func TestLoginRateLimit(t *testing.T) {
	n := fedtest.Start(t, storage.SQLite)
	member(t, n, "olga")
	anon := newClient(t, n, "")
	app := expect(t, anon.do("POST", "/api/v1/apps", url.Values{"client_name": {"A"}, "redirect_uris": {"urn:ietf:wg:oauth:2.0:oob"}}), 200, "CredentialApp")
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	q := url.Values{"response_type": {"code"}, "client_id": {str(field(app, "client_id"))}, "redirect_uri": {"urn:ietf:wg:oauth:2.0:oob"}}
	res, err := browser.Get(n.URL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, res)
	q.Set("authenticity_token", regexp.MustCompile(`name="authenticity_token" value="([^"]+)"`).FindStringSubmatch(page)[1])
	q.Set("username", "olga")
	statuses := []int{}
	for i := 0; i < 12; i++ {
		q.Set("password", "guess"+strings.Repeat("!", i))
		res, err := browser.PostForm(n.URL+"/oauth/authorize", q)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, res)
		statuses = append(statuses, res.StatusCode)
	}
	if statuses[0] != 401 || statuses[len(statuses)-1] != 429 {
		t.Fatalf("login attempts answered %v: want 401 first, 429 once the limit is reached", statuses)
	}
	// Even the right password is refused while limited.
	q.Set("password", password)
	res, err = browser.PostForm(n.URL+"/oauth/authorize", q)
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, res); res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Errorf("right password while limited: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// One address, many names, each tried once: stopped all the same, once
	// the address has failed federation.SignInAddressLimit times (10 above).
	sprayed := []int{}
	for i := range 40 {
		q.Set("username", fmt.Sprintf("name%d", i))
		res, err := browser.PostForm(n.URL+"/oauth/authorize", q)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, res)
		sprayed = append(sprayed, res.StatusCode)
		if res.StatusCode == 429 {
			if res.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			break
		}
	}
	if want := federation.SignInAddressLimit - 10; len(sprayed) != want+1 || sprayed[want-1] != 401 || sprayed[want] != 429 {
		t.Fatalf("40 names from one address answered %v: want %d 401s, then 429", sprayed, want)
	}
}
