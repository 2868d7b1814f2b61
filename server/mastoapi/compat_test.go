package mastoapi_test

import (
	"testing"

	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// Tusky logs in through its own scheme, and toot opens the authorize page
// with a trailing slash; both must reach a token. (Issue 10, breaks 2
// and 3: the page's form-action stopped Tusky in Chromium; toot got 404.)
func TestLoginAsTuskyAndToot(t *testing.T) {
	n := fedtest.Start(t, storage.SQLite)
	member(t, n, "ana")
	for _, tc := range []struct{ app, redirect, path string }{
		{"Tusky", "oauth2redirect://com.keylesspalace.tusky/", "/oauth/authorize"},
		{"toot", "urn:ietf:wg:oauth:2.0:oob", "/oauth/authorize/"},
		{"toot with a redirect", "http://localhost:8123/callback", "/oauth/authorize/"},
	} {
		t.Run(tc.app, func(t *testing.T) {
			tok := oauthLoginVia(t, n, "ana", "read write follow", tc.redirect, tc.path)
			me := newClient(t, n, tok).ok("GET", "/api/v1/accounts/verify_credentials/", nil).object(t)
			if me["username"] != "ana" {
				t.Errorf("verify_credentials: %v", me)
			}
		})
	}
}

// The composers' @-autocomplete calls accounts/search, which must not be
// taken for an account id (issue 10, break 9).
func TestAccountSearchForAutocomplete(t *testing.T) {
	n := fedtest.Start(t, storage.SQLite)
	member(t, n, "ana")
	member(t, n, "bob")
	n.Community("practice", false, "ana")
	ana := newClient(t, n, tokenFor(t, n, "ana", "read write follow"))
	found := expect(t, ana.do("GET", "/api/v1/accounts/search?q=bo&limit=5", nil), 200, "[]Account").([]any)
	if len(found) != 1 || field(found[0], "username") != "bob" {
		t.Errorf("search for bo: %v", found)
	}
	found = expect(t, ana.do("GET", "/api/v1/accounts/search?q=pra&resolve=false", nil), 200, "[]Account").([]any)
	if len(found) != 1 || field(found[0], "group") != true {
		t.Errorf("search for pra: %v", found)
	}
	// following=true keeps the accounts followed: ana follows nobody yet.
	if found := expect(t, ana.do("GET", "/api/v1/accounts/search?q=bo&following=true", nil), 200, "[]Account").([]any); len(found) != 0 {
		t.Errorf("following=true: %v", found)
	}
	expect(t, newClient(t, n, "").do("GET", "/api/v1/accounts/search?q=bo", nil), 401, "Error")
}
