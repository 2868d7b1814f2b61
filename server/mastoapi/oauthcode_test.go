package mastoapi_test

import (
	"testing"

	"github.com/commonplace/commonplace/server/fedtest"
)

// TestSecondCodeExchangeRevokes: an authorization code presented a second
// time is refused and the token of its first exchange is revoked (RFC 6749
// §4.1.2): one of the two presenters stole it, and we cannot tell which.
func TestSecondCodeExchangeRevokes(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			n := fedtest.Start(t, d)
			member(t, n, "olga")
			g := oauthLoginApp(t, n, "olga", "read")
			app := newClient(t, n, g.token)
			expect(t, app.do("GET", "/api/v1/accounts/verify_credentials", nil), 200, "Account")
			r := newClient(t, n, "").do("POST", "/oauth/token", g.exchange)
			if r.StatusCode != 400 || field(r.json(t), "error") != "invalid_grant" {
				t.Fatalf("second exchange: %d %s", r.StatusCode, r.body)
			}
			expect(t, app.do("GET", "/api/v1/accounts/verify_credentials", nil), 401, "Error")
		})
	}
}
