package mastoapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/oauth"
	"github.com/commonplace/commonplace/federation/ratelimit"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
	"github.com/labstack/echo/v4"
)

// TestRateLimitCountsAddress: application tokens, which anyone can mint,
// do not multiply an address's budget: requests with them count against
// the address like requests without a token. A member's tokens count
// against the member. The clock stands still, so nothing refills.
func TestRateLimitCountsAddress(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		now := time.Now()
		a := &API{
			db: db, log: slog.New(slog.DiscardHandler), echo: echo.New(),
			requests:       ratelimit.New(rateLimit, rateWindow),
			memberRequests: ratelimit.New(accountRateLimit, rateWindow),
			now:            func() time.Time { return now },
		}
		token := func(acct *int64) string {
			raw := oauth.NewSecret()
			if err := db.CreateOAuthToken(ctx, &storage.OAuthToken{TokenHash: oauth.HashSecret(raw), AccountID: acct, Scopes: "read"}); err != nil {
				t.Fatal(err)
			}
			return raw
		}
		get := func(from, tok string) int {
			r := httptest.NewRequest(http.MethodGet, "/api/v1/timelines/public", nil)
			r.RemoteAddr = from + ":40000"
			if tok != "" {
				r.Header.Set("Authorization", "Bearer "+tok)
			}
			err := a.guard(a.echo.NewContext(r, httptest.NewRecorder()), routeOpts{})
			var ae *apiError
			switch {
			case err == nil:
				return http.StatusOK
			case errors.As(err, &ae):
				return ae.status
			default:
				t.Fatal(err)
				return 0
			}
		}
		spend := func(from, tok string, n int) (ok int) {
			for range n {
				if get(from, tok) == http.StatusOK {
					ok++
				}
			}
			return ok
		}
		app1, app2 := token(nil), token(nil)
		if ok := spend("192.0.2.1", "", rateLimit/2) + spend("192.0.2.1", app1, rateLimit) + spend("192.0.2.1", app2, rateLimit); ok != rateLimit {
			t.Fatalf("%d requests answered from one address with two application tokens and none, want %d", ok, rateLimit)
		}
		if s := get("192.0.2.1", token(nil)); s != http.StatusTooManyRequests {
			t.Errorf("a freshly minted application token: %d", s)
		}
		if s := get("192.0.2.2", token(nil)); s != http.StatusOK {
			t.Errorf("an application token from another address: %d", s)
		}

		acct, err := federation.NewService(db, "https://local.example", nil).CreateAccount(ctx, federation.NewAccount{Username: "olga", Email: "olga@local.example", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		// The address is spent, but a member's token is the member's.
		m1 := token(&acct.ID)
		if ok := spend("192.0.2.1", m1, rateLimit+1); ok != rateLimit {
			t.Fatalf("member token from a spent address: %d answered, want %d", ok, rateLimit)
		}
		// More tokens do not get the member past its own limit (the
		// refused request above spent one of it too).
		ok := 0
		for range accountRateLimit / rateLimit {
			ok += spend("192.0.2.3", token(&acct.ID), rateLimit)
		}
		if want := accountRateLimit - rateLimit - 1; ok != want {
			t.Fatalf("member with many tokens: %d more answered, want %d", ok, want)
		}
	})
}
