package web_test

import (
	"errors"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/openid/openidtest"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// startOIDCSite is a site whose sign-in goes through a real OpenID
// provider on loopback (zitadel/oidc's OP), registered with the site's
// redirect URL.
func startOIDCSite(t *testing.T, db *storage.DB, mutate func(*config.Config)) (*site, *openidtest.Provider) {
	t.Helper()
	var p *openidtest.Provider
	s := startSite(t, db, func(c *config.Config) {
		p = openidtest.Start(t, c.OIDCRedirectURL())
		c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret = p.Issuer, p.ClientID, p.ClientSecret
		c.OIDCName = "Test School"
		if mutate != nil {
			mutate(c)
		}
	})
	return s, p
}

// startOIDC presses the sign-in page's button and returns where the
// browser is sent (the provider's authorization endpoint).
func (b *browser) startOIDC() string {
	b.t.Helper()
	res := b.submit("/auth/sign_in", "/auth/oidc", url.Values{})
	res.must(b.t, 303)
	return res.location
}

// atProvider logs in at the provider and returns the callback URL it
// sends the browser back to.
func (b *browser) atProvider(p *openidtest.Provider, authURL, username, password string) string {
	b.t.Helper()
	back, err := p.LogIn(b.hc, authURL, username, password)
	if err != nil {
		b.t.Fatal(err)
	}
	return back.String()
}

// oidcSignIn signs in through the provider from start to finish.
func (b *browser) oidcSignIn(p *openidtest.Provider, username, password string) page {
	b.t.Helper()
	return b.get(b.atProvider(p, b.startOIDC(), username, password))
}

var jane = openidtest.User{
	ID: "sub-jane-0001", Username: "Jane.Doe@school.example", Password: "idp password",
	Email: "jane.doe@school.example", EmailVerified: true, GivenName: "Jane", Family: "Doe",
}

// Sign-in through the provider, on both databases: the first sign-in
// creates the account, identified by issuer and subject; the second signs
// in to it; a replayed state, a callback in another browser, a wrong
// audience, an expired token and a bad nonce are refused; a key rotated
// at the provider is picked up; a disabled account is refused though the
// provider says yes.
func TestOIDCSignIn(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		s, p := startOIDCSite(t, db, nil)
		p.AddUser(jane)
		ctx := t.Context()

		b := s.browser()
		b.get("/auth/sign_in").must(t, 200, "Sign in with Test School", `<label for="password">Password</label>`)
		// A wrong password at the provider gets nobody anywhere.
		if _, err := p.LogIn(b.hc, b.startOIDC(), jane.Username, "wrong"); err == nil {
			t.Fatal("provider accepted a wrong password")
		}

		// First sign-in: the account is made, named from the claim.
		authURL := b.startOIDC()
		if u, _ := url.Parse(authURL); !strings.HasPrefix(authURL, p.Issuer) || u.Query().Get("code_challenge_method") != "S256" ||
			u.Query().Get("nonce") == "" || u.Query().Get("state") == "" {
			t.Fatalf("authorization request %s", authURL)
		}
		callback := b.atProvider(p, authURL, jane.Username, jane.Password)
		b.get(callback).must(t, 303)
		b.get("/settings").must(t, 200, `href="/u/jane_doe"`)
		acct, err := s.db.GetAccountByUsername(ctx, "jane_doe")
		if err != nil {
			t.Fatal(err)
		}
		if acct.Email != jane.Email || acct.PasswordHash != "" || acct.Actor.DisplayName != "Jane Doe" {
			t.Fatalf("account %+v", acct)
		}
		ids, err := s.db.ListOIDCIdentities(ctx, acct.ID)
		if err != nil || len(ids) != 1 || ids[0].Issuer != p.Issuer || ids[0].Subject != jane.ID {
			t.Fatalf("identities %+v %v", ids, err)
		}

		// The same answer again is a replay.
		b.get(callback).must(t, 400, "already used")

		// Sign out, and in again: the same account.
		b.submit("/settings", "/auth/sign_out", url.Values{}).must(t, 303)
		b.get("/settings").must(t, 303)
		b.oidcSignIn(p, jane.Username, jane.Password).must(t, 303)
		b.get("/settings").must(t, 200, `href="/u/jane_doe"`)
		// The provider changed her e-mail address; the identity holds.
		changed := jane
		changed.Email = "jane@new.school.example"
		p.AddUser(changed)
		s.browser().oidcSignIn(p, jane.Username, jane.Password).must(t, 303)
		p.AddUser(jane)
		if n := countAccounts(t, s); n != 1 {
			t.Fatalf("%d accounts after three sign-ins", n)
		}

		// An answer delivered to another browser than the one that left.
		thief, victim := s.browser(), s.browser()
		stolen := victim.atProvider(p, victim.startOIDC(), jane.Username, jane.Password)
		thief.get(stolen).must(t, 400, "another browser")
		// ...and the state was not spent by the attempt.
		victim.get(stolen).must(t, 303)

		// The provider misbehaves; each answer is refused.
		for _, bad := range []openidtest.Misbehaviour{
			{Audience: "another-client"},
			{Lifetime: -time.Minute},
			{Nonce: "not-the-nonce-we-sent"},
			{UnpublishedKey: true},
		} {
			p.Misbehave(bad)
			t.Logf("provider misbehaves: %+v", bad)
			x := s.browser()
			x.oidcSignIn(p, jane.Username, jane.Password).must(t, 401, "could not be checked")
			x.get("/settings").must(t, 303)
		}
		p.Misbehave(openidtest.Misbehaviour{})

		// The provider rotates its key and drops the old one: the new
		// key is fetched once, and tokens signed with it are taken.
		p.RotateKey()
		p.DropOldKeys()
		fetches := p.KeySetFetches()
		s.browser().oidcSignIn(p, jane.Username, jane.Password).must(t, 303)
		s.browser().oidcSignIn(p, jane.Username, jane.Password).must(t, 303)
		if n := p.KeySetFetches() - fetches; n != 1 {
			t.Errorf("JWKS fetched %d times after the rotation, want 1", n)
		}
		// Claims in the ID token itself, without the userinfo endpoint.
		p.Misbehave(openidtest.Misbehaviour{ClaimsInIDToken: true})
		s.browser().oidcSignIn(p, jane.Username, jane.Password).must(t, 303)
		p.Misbehave(openidtest.Misbehaviour{})

		// Disabled here: refused although the provider says yes, and the
		// open session ends.
		if err := s.db.UpdateAccount(ctx, acct.ID, map[string]any{"disabled": true}); err != nil {
			t.Fatal(err)
		}
		b.get("/settings").must(t, 303)
		s.browser().oidcSignIn(p, jane.Username, jane.Password).must(t, 403, "disabled")
	})
}

func countAccounts(t *testing.T, s *site) int {
	t.Helper()
	l, err := s.db.ListAccounts(t.Context(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(l)
}

// A name that is taken or invalid leads to a page where the person
// chooses one; the choice is checked and the account made with it.
func TestOIDCChooseName(t *testing.T) {
	t.Parallel()
	s, p := startOIDCSite(t, storagetest.Open(t, storage.SQLite), nil)
	if _, err := s.svc.CreateAccount(t.Context(), federation.NewAccount{Username: "bob", Email: "bob@home.example", Password: pw}); err != nil {
		t.Fatal(err)
	}
	p.AddUser(openidtest.User{ID: "sub-bob", Username: "Bob", Password: "x", Email: "bob@school.example", EmailVerified: true})
	b := s.browser()
	res := b.oidcSignIn(p, "Bob", "x")
	res.must(t, 303)
	if !strings.HasPrefix(res.location, "/auth/oidc/choose?token=") {
		t.Fatalf("sent to %s", res.location)
	}
	// Only this browser can use the choice.
	s.browser().get(res.location).must(t, 400)
	form := b.get(res.location)
	form.must(t, 200, "Choose your name", `value="bob2"`)
	token, _ := url.Parse(res.location)
	choose := func(name string) page {
		return b.submit(res.location, "/auth/oidc/choose", url.Values{"token": {token.Query().Get("token")}, "username": {name}})
	}
	choose("bob").must(t, 409, "already taken")
	choose("Bob Smith").must(t, 422, "may only contain")
	choose("bob_smith").must(t, 303)
	b.get("/settings").must(t, 200, `href="/u/bob_smith"`)
	// Used: the choice cannot make a second account.
	choose("bob_other").must(t, 400)
	b.submit("/settings", "/auth/sign_out", url.Values{}).must(t, 303)
	b.oidcSignIn(p, "Bob", "x").must(t, 303)
	b.get("/settings").must(t, 200, `href="/u/bob_smith"`)
}

// The admin's rules: e-mail domains, linking by verified address, no new
// accounts, and password sign-in turned off.
func TestOIDCRules(t *testing.T) {
	t.Parallel()
	db := storagetest.Open(t, storage.SQLite)
	if _, err := federation.NewService(db, "http://x.example", nil).CreateAccount(t.Context(), federation.NewAccount{
		Username: "carol", Email: "carol@school.example", Password: pw,
	}); err != nil {
		t.Fatal(err)
	}
	carol := openidtest.User{ID: "sub-carol", Username: "carol.c", Password: "x", Email: "carol@school.example", EmailVerified: true}
	outsider := openidtest.User{ID: "sub-out", Username: "out", Password: "x", Email: "out@mail.example", EmailVerified: true}

	t.Run("no linking", func(t *testing.T) {
		s, p := startOIDCSite(t, db, func(c *config.Config) { c.OIDCEmailDomains = []string{"School.example"} })
		p.AddUser(carol)
		p.AddUser(outsider)
		s.browser().oidcSignIn(p, "carol.c", "x").must(t, 403, "already exists")
		s.browser().oidcSignIn(p, "out", "x").must(t, 403, "Only e-mail addresses of School.example")
	})
	t.Run("linking", func(t *testing.T) {
		s, p := startOIDCSite(t, db, func(c *config.Config) { c.OIDCLinkByEmail = true })
		unverified := carol
		unverified.EmailVerified = false
		p.AddUser(unverified)
		s.browser().oidcSignIn(p, "carol.c", "x").must(t, 403, "already exists")
		p.AddUser(carol)
		b := s.browser()
		b.oidcSignIn(p, "carol.c", "x").must(t, 303)
		b.get("/settings").must(t, 200, `href="/u/carol"`)
	})
	t.Run("no new accounts, no passwords", func(t *testing.T) {
		s, p := startOIDCSite(t, db, func(c *config.Config) {
			c.OIDCCreateAccounts, c.PasswordSignIn, c.OIDCLinkByEmail = false, false, true
		})
		p.AddUser(outsider)
		b := s.browser()
		signIn := b.get("/auth/sign_in")
		signIn.must(t, 200, "Sign in with Test School")
		if strings.Contains(signIn.body, `type="password"`) {
			t.Fatalf("password form offered:\n%s", signIn.body)
		}
		b.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"carol"}, "password": {pw}}).must(t, 403, "turned off")
		b.get("/auth/sign_up").must(t, 403)
		b.get("/auth/password").must(t, 403)
		b.oidcSignIn(p, "out", "x").must(t, 403, "no account here")
		// An existing account still signs in.
		p.AddUser(carol)
		b.oidcSignIn(p, "carol.c", "x").must(t, 303)
	})
}

func TestDeriveName(t *testing.T) {
	for in, want := range map[string]string{
		"Jane.Doe@school.example": "jane_doe",
		"jdoe":                    "jdoe",
		"Anne-Marie O'Neil":       "anne_marie_oneil",
		"__x__":                   "x",
		"Zoë":                     "zo",
		"admin":                   "",
		"@school":                 "",
		strings.Repeat("a", 40):   strings.Repeat("a", 30),
	} {
		if got := federation.DeriveName(in); got != want {
			t.Errorf("DeriveName(%q) = %q, want %q", in, got, want)
		}
	}
}

// An app's authorization goes through the provider and comes back to the
// authorize page, which the member, now signed in, confirms: the app
// gets its code at its redirect URI with its state.
func TestOIDCAuthorizeApp(t *testing.T) {
	t.Parallel()
	s, p := startOIDCSite(t, storagetest.Open(t, storage.SQLite), func(c *config.Config) { c.PasswordSignIn = false })
	p.AddUser(jane)
	if err := s.db.CreateOAuthApp(t.Context(), &storage.OAuthApp{
		ClientID: "app-client", ClientSecretHash: "x", Name: "Pocket Reader", RedirectURIs: "https://app.example/cb", Scopes: "read write",
		CreatedAt: time.Now(),
	}); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"response_type": {"code"}, "client_id": {"app-client"}, "redirect_uri": {"https://app.example/cb"},
		"scope": {"read"}, "state": {"app-state-1"}}
	authorize := "/oauth/authorize?" + q.Encode()
	b := s.browser()
	form := b.get(authorize)
	form.must(t, 200, "Authorize Pocket Reader", "Sign in with Test School")
	if strings.Contains(form.body, `type="password"`) {
		t.Fatalf("password fields offered with password sign-in off:\n%s", form.body)
	}
	// The password form is refused when passwords are off.
	b.submit(authorize, "/oauth/authorize", url.Values{"client_id": {"app-client"}, "redirect_uri": {"https://app.example/cb"},
		"response_type": {"code"}, "scope": {"read"}, "username": {"jane_doe"}, "password": {pw}, "decision": {"approve"}}).must(t, 403, "turned off")

	m := regexp.MustCompile(`name="return_to" value="([^"]+)"`).FindStringSubmatch(form.body)
	if m == nil {
		t.Fatalf("no return_to in the provider's form:\n%s", form.body)
	}
	returnTo := html.UnescapeString(m[1])
	start := b.submit(authorize, "/auth/oidc", url.Values{"return_to": {returnTo}})
	start.must(t, 303)
	back := b.get(b.atProvider(p, start.location, jane.Username, jane.Password))
	back.must(t, 303)
	if back.location != returnTo {
		t.Fatalf("after the provider, sent to %s, want %s", back.location, returnTo)
	}
	consent := b.get(back.location)
	consent.must(t, 200, "You are signed in as <strong>@jane_doe@")
	res := b.submit(back.location, "/oauth/authorize", url.Values{"client_id": {"app-client"}, "redirect_uri": {"https://app.example/cb"},
		"response_type": {"code"}, "scope": {"read"}, "state": {"app-state-1"}, "decision": {"approve"}})
	res.must(t, 302)
	to, _ := url.Parse(res.location)
	if to.Host != "app.example" || to.Query().Get("code") == "" || to.Query().Get("state") != "app-state-1" {
		t.Fatalf("app sent to %s", res.location)
	}
}

// The admin's group rules (config and CLI) grant instance admin, a
// moderator role and a membership at sign-in, and the next sign-in after
// a group is gone takes back what it gave, and only that.
func TestOIDCGroups(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		s, p := startOIDCSite(t, db, func(c *config.Config) {
			c.OIDCGroups = []string{"heads=admin", "early-years=member:early_years", "staff=member:staffroom"}
		})
		ctx := t.Context()
		for _, c := range []federation.NewCommunity{federationCommunity("early_years", true), federationCommunity("staffroom", false)} {
			if _, err := s.svc.CreateCommunity(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		// A rule stored with `commonplace oidc map`.
		rule, err := federation.NewGroupRule("/ey/leads", "moderator", "early_years")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.db.PutOIDCGroupRule(ctx, &rule); err != nil {
			t.Fatal(err)
		}
		nora := openidtest.User{ID: "sub-nora", Username: "nora", Password: "x", Email: "nora@school.example", EmailVerified: true,
			Groups: []string{"heads", "early-years", "/ey/leads", "unmapped"}}
		p.AddUser(nora)
		signIn := func() *storage.Account {
			t.Helper()
			s.browser().oidcSignIn(p, "nora", "x").must(t, 303)
			acct, err := s.db.GetAccountByUsername(ctx, "nora")
			if err != nil {
				t.Fatal(err)
			}
			return acct
		}
		role := func(acct *storage.Account, community string) string {
			t.Helper()
			c, err := s.db.GetCommunityByName(ctx, community)
			if err != nil {
				t.Fatal(err)
			}
			m, err := s.db.GetMembership(ctx, c.ActorID, acct.ActorID)
			if errors.Is(err, storage.ErrNotFound) {
				return "none"
			} else if err != nil {
				t.Fatal(err)
			}
			return m.State + " " + m.Role
		}

		acct := signIn()
		if !acct.Admin || role(acct, "early_years") != "accepted moderator" || role(acct, "staffroom") != "none" {
			t.Fatalf("first sign-in: admin %v, early_years %q, staffroom %q", acct.Admin, role(acct, "early_years"), role(acct, "staffroom"))
		}
		if ok, err := s.db.IsModerator(ctx, mustCommunity(t, s, "early_years"), acct.ActorID); err != nil || !ok {
			t.Fatalf("moderator of early_years: %v %v", ok, err)
		}

		// She leaves the leads and the heads: the moderator role and the
		// admin go, the membership stays.
		p.SetGroups(nora.ID, "early-years")
		acct = signIn()
		if acct.Admin || role(acct, "early_years") != "accepted member" {
			t.Fatalf("second sign-in: admin %v, early_years %q", acct.Admin, role(acct, "early_years"))
		}

		// She joined the staffroom by herself; an admin made her admin by
		// hand. Groups that come and go do not take those away.
		if _, err := s.svc.Join(ctx, acct.Actor, "staffroom"); err != nil {
			t.Fatal(err)
		}
		if err := s.db.UpdateAccount(ctx, acct.ID, map[string]any{"admin": true}); err != nil {
			t.Fatal(err)
		}
		p.SetGroups(nora.ID, "staff", "heads")
		signIn()
		p.SetGroups(nora.ID)
		acct = signIn()
		if !acct.Admin || role(acct, "staffroom") != "accepted member" || role(acct, "early_years") != "none" {
			t.Fatalf("no groups: admin %v, staffroom %q, early_years %q", acct.Admin, role(acct, "staffroom"), role(acct, "early_years"))
		}
	})
}

func mustCommunity(t *testing.T, s *site, name string) int64 {
	t.Helper()
	c, err := s.db.GetCommunityByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return c.ActorID
}
