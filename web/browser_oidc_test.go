package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation/openid/openidtest"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// In Chromium, as a person would: sign in to the web through the
// provider's own login page, sign out; then an app's OAuth flow through
// the same provider, down to the app's first API call. The page's CSP
// must let the button's redirect to the provider through (form-action),
// which only a browser checks.
func TestBrowserOIDC(t *testing.T) {
	needBrowser(t)
	var p *openidtest.Provider
	n := fedtest.StartWith(t, storage.SQLite, func(c *config.Config) {
		p = openidtest.Start(t, c.OIDCRedirectURL())
		c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret, c.OIDCName = p.Issuer, p.ClientID, p.ClientSecret, "Test School"
	})
	p.AddUser(jane)
	tb := newBrowser(t)

	logInAtProvider := func() {
		t.Helper()
		if !strings.HasPrefix(tb.location(), p.Issuer+"/login/username") {
			t.Fatalf("not at the provider's login page but at %s", tb.location())
		}
		tb.fill("IdP username", jane.Username)
		tb.fill("IdP password", jane.Password)
		tb.click(button("Log in to the provider"))
	}

	// The web.
	tb.open(n.URL + "/auth/sign_in")
	tb.click(button("Sign in with Test School"))
	logInAtProvider()
	if loc := tb.location(); loc != n.URL+"/" {
		t.Fatalf("after signing in: at %s", loc)
	}
	tb.open(n.URL + "/settings")
	tb.sees("Settings", "Signed-in browsers")
	tb.click(button("Sign out"))
	tb.open(n.URL + "/settings")
	tb.sees("Sign in with Test School") // sent to the sign-in page

	// An app, with the out-of-band redirect that shows the code.
	res, err := http.PostForm(n.URL+"/api/v1/apps", url.Values{
		"client_name": {"Pocket Reader"}, "redirect_uris": {"urn:ietf:wg:oauth:2.0:oob"}, "scopes": {"read write"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var app struct{ ClientID, ClientSecret string }
	decode(t, res, &struct {
		ClientID     *string `json:"client_id"`
		ClientSecret *string `json:"client_secret"`
	}{&app.ClientID, &app.ClientSecret})
	q := url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {"urn:ietf:wg:oauth:2.0:oob"}, "scope": {"read"}}
	tb.open(n.URL + "/oauth/authorize?" + q.Encode())
	tb.sees("Authorize Pocket Reader")
	tb.click(button("Sign in with Test School"))
	logInAtProvider()
	tb.sees("Authorize Pocket Reader", "You are signed in as @jane_doe@")
	tb.click(button("Authorize"))
	tb.sees("Authorization code")
	code := strings.TrimSpace(run(tb, "read code", chromedp.Text(chromedp.Search(`//code`))))

	res, err = http.PostForm(n.URL+"/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret},
		"redirect_uri": {"urn:ietf:wg:oauth:2.0:oob"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var token string
	decode(t, res, &struct {
		AccessToken *string `json:"access_token"`
	}{&token})
	req, _ := http.NewRequest(http.MethodGet, n.URL+"/api/v1/accounts/verify_credentials", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err = (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var acct string
	decode(t, res, &struct {
		Username *string `json:"username"`
	}{&acct})
	if acct != "jane_doe" {
		t.Fatalf("the app's token is %q's, want jane_doe's", acct)
	}
}

func decode(t *testing.T, res *http.Response, v any) {
	t.Helper()
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", res.Request.Method, res.Request.URL.Path, res.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
}
