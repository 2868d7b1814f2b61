// Package openidtest runs a real OpenID provider on loopback for tests:
// zitadel/oidc's op package (discovery, authorization code with PKCE,
// token and userinfo endpoints, signed ID tokens, JWKS) over the in-memory
// storage of its example server, with a login page that people and
// browsers fill in. Tests add users and groups, rotate the signing key,
// and make the provider misbehave (another audience, a stale nonce, an
// expired token) to check that Commonplace refuses what it must.
package openidtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is a person the provider knows.
type User struct {
	// ID is the subject (sub) of the user's tokens.
	ID                 string
	Username, Password string
	Email              string
	EmailVerified      bool
	GivenName, Family  string
	Groups             []string
}

// Provider is a running OpenID provider.
type Provider struct {
	// Issuer is the provider's issuer URL (http://127.0.0.1:PORT).
	Issuer string
	// ClientID and ClientSecret are those of the one registered client.
	ClientID, ClientSecret string

	store *opStorage
	users *userStore
}

// Start runs a provider on loopback until the test ends, with one
// confidential client whose redirect URIs are redirects.
func Start(t testing.TB, redirects ...string) *Provider {
	t.Helper()
	users := &userStore{users: map[string]*User{}}
	clientID, secret := "commonplace", "client-secret-"+randomString()
	client := storage.WebClient(clientID, secret, redirects...)
	inner := storage.NewStorageWithClients(users, map[string]*storage.Client{clientID: client})
	st := &opStorage{Storage: inner, users: users}
	st.rotate()

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	var key [32]byte
	rand.Read(key[:])
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:      key,
		CodeMethodS256: true,
		AuthMethodPost: true,
	}, st, op.StaticIssuer(srv.URL), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	callback := op.AuthCallbackURL(provider)
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux.HandleFunc("GET /login/username", func(w http.ResponseWriter, r *http.Request) {
		renderLogin(w, r.FormValue("authRequestID"), "")
	})
	mux.Handle("POST /login/username", interceptor.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.FormValue("id")
		if err := inner.CheckUsernamePassword(r.FormValue("username"), r.FormValue("password"), id); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			renderLogin(w, id, "Wrong username or password.")
			return
		}
		http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
	}))
	mux.Handle("/", provider)
	return &Provider{Issuer: srv.URL, ClientID: clientID, ClientSecret: secret, store: st, users: users}
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test identity provider: sign in</title></head>
<body><main><h1>Test identity provider</h1>
{{with .Error}}<p role="alert">{{.}}</p>{{end}}
<form method="post" action="/login/username">
<input type="hidden" name="id" value="{{.ID}}">
<p><label for="idp-username">IdP username</label> <input id="idp-username" name="username" autocomplete="username"></p>
<p><label for="idp-password">IdP password</label> <input id="idp-password" name="password" type="password" autocomplete="current-password"></p>
<p><button type="submit">Log in to the provider</button></p>
</form></main></body></html>`))

func renderLogin(w http.ResponseWriter, id, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	loginPage.Execute(w, struct{ ID, Error string }{id, msg})
}

// AddUser adds or replaces a user.
func (p *Provider) AddUser(u User) {
	p.users.mu.Lock()
	defer p.users.mu.Unlock()
	c := u
	p.users.users[u.ID] = &c
}

// SetGroups replaces the groups of the user with subject id.
func (p *Provider) SetGroups(id string, groups ...string) {
	p.users.mu.Lock()
	defer p.users.mu.Unlock()
	if u := p.users.users[id]; u != nil {
		u.Groups = append([]string{}, groups...)
	}
}

// RotateKey makes a new signing key; the JWKS publishes it with the
// previous one, as providers do during a rollover.
func (p *Provider) RotateKey() { p.store.rotate() }

// DropOldKeys publishes only the current signing key.
func (p *Provider) DropOldKeys() {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	p.store.keys = p.store.keys[:1]
}

// KeySetFetches counts the requests for the provider's JWKS.
func (p *Provider) KeySetFetches() int {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	return p.store.fetches
}

// Misbehaviour is what the provider does wrong to the next tokens.
type Misbehaviour struct {
	// Audience, if set, is the client the tokens are issued to instead
	// of the one that asked (a token meant for another relying party).
	Audience string
	// Nonce replaces the nonce that the client sent.
	Nonce string
	// Lifetime, if not zero, is the ID token's lifetime (negative: it
	// has expired when it is issued).
	Lifetime time.Duration
	// UnpublishedKey signs tokens with a key that the JWKS does not
	// publish (a forger's).
	UnpublishedKey bool
	// ClaimsInIDToken puts the profile and e-mail claims in the ID token
	// itself instead of only at the userinfo endpoint.
	ClaimsInIDToken bool
}

// Misbehave sets what the provider does wrong from now on; the zero
// Misbehaviour makes it behave again.
func (p *Provider) Misbehave(m Misbehaviour) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	p.store.bad = m
}

// LogIn plays a person at the provider: it follows authURL (the
// authorization request a relying party made) with client, fills in the
// login form and returns the URL that the provider sends the browser
// back to, without following it.
func (p *Provider) LogIn(client *http.Client, authURL, username, password string) (*url.URL, error) {
	noFollow := *client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	next := authURL
	for range 10 {
		res, err := noFollow.Get(next)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		loc, err := res.Location()
		if err != nil {
			return nil, fmt.Errorf("provider answered %s without a redirect", res.Status)
		}
		if !strings.HasPrefix(loc.String(), p.Issuer) {
			return loc, nil
		}
		if loc.Path == "/login/username" {
			res, err := noFollow.PostForm(loc.String(), url.Values{
				"id": {loc.Query().Get("authRequestID")}, "username": {username}, "password": {password},
			})
			if err != nil {
				return nil, err
			}
			res.Body.Close()
			if res.StatusCode != http.StatusFound {
				return nil, fmt.Errorf("provider login: %s", res.Status)
			}
			loc, err = res.Location()
			if err != nil {
				return nil, err
			}
		}
		next = loc.String()
	}
	return nil, errors.New("provider: too many redirects")
}

// opStorage is the example's storage with rotating keys, groups and
// misbehaviour.
type opStorage struct {
	*storage.Storage
	users *userStore

	mu      sync.Mutex
	keys    []*signingKey // keys[0] signs
	forged  *signingKey
	bad     Misbehaviour
	fetches int
}

func (s *opStorage) rotate() {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append([]*signingKey{{id: "key-" + randomString(), key: k}}, s.keys...)
	if len(s.keys) > 2 {
		s.keys = s.keys[:2]
	}
}

func (s *opStorage) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bad.UnpublishedKey {
		if s.forged == nil {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return nil, err
			}
			s.forged = &signingKey{id: "forged-" + randomString(), key: k}
		}
		return s.forged, nil
	}
	return s.keys[0], nil
}

func (s *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *opStorage) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches++
	out := make([]op.Key, len(s.keys))
	for i, k := range s.keys {
		out[i] = publicKey{k}
	}
	return out, nil
}

func (s *opStorage) misbehaviour() Misbehaviour {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bad
}

func (s *opStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.Storage.AuthRequestByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	if bad := s.misbehaviour(); bad.Audience != "" || bad.Nonce != "" {
		return tamperedRequest{AuthRequest: r, bad: bad}, nil
	}
	return r, nil
}

func (s *opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return tamperedClient{Client: c, bad: s.misbehaviour()}, nil
}

func (s *opStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, r op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, r, scopes); err != nil {
		return err
	}
	s.addGroups(info, r.GetSubject())
	return nil
}

func (s *opStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	if subject == "" {
		subject = info.Subject
	}
	s.addGroups(info, subject)
	return nil
}

// addGroups asserts the groups claim as Keycloak's group mapper does.
func (s *opStorage) addGroups(info *oidc.UserInfo, sub string) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if u := s.users.users[sub]; u != nil && u.Groups != nil {
		info.AppendClaims("groups", append([]string{}, u.Groups...))
	}
}

type tamperedRequest struct {
	op.AuthRequest
	bad Misbehaviour
}

func (r tamperedRequest) GetAudience() []string {
	if r.bad.Audience != "" {
		return []string{r.bad.Audience}
	}
	return r.AuthRequest.GetAudience()
}

func (r tamperedRequest) GetClientID() string {
	if r.bad.Audience != "" {
		return r.bad.Audience
	}
	return r.AuthRequest.GetClientID()
}

func (r tamperedRequest) GetNonce() string {
	if r.bad.Nonce != "" {
		return r.bad.Nonce
	}
	return r.AuthRequest.GetNonce()
}

type tamperedClient struct {
	op.Client
	bad Misbehaviour
}

// GetID, with Misbehaviour.Audience, lets the token endpoint take the
// code of the client that asked for the other client's tokens.
func (c tamperedClient) GetID() string {
	if c.bad.Audience != "" {
		return c.bad.Audience
	}
	return c.Client.GetID()
}

func (c tamperedClient) IDTokenLifetime() time.Duration {
	if c.bad.Lifetime != 0 {
		return c.bad.Lifetime
	}
	return c.Client.IDTokenLifetime()
}

func (c tamperedClient) IDTokenUserinfoClaimsAssertion() bool {
	return c.bad.ClaimsInIDToken || c.Client.IDTokenUserinfoClaimsAssertion()
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.key.PublicKey }

// userStore is the example storage's UserStore over User.
type userStore struct {
	mu    sync.Mutex
	users map[string]*User
}

func (u *userStore) user(x *User) *storage.User {
	if x == nil {
		return nil
	}
	return &storage.User{
		ID: x.ID, Username: x.Username, Password: x.Password, Email: x.Email, EmailVerified: x.EmailVerified,
		FirstName: x.GivenName, LastName: x.Family,
	}
}

func (u *userStore) GetUserByID(id string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.user(u.users[id])
}

func (u *userStore) GetUserByUsername(name string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, x := range u.users {
		if x.Username == name {
			return u.user(x)
		}
	}
	return nil
}

func (u *userStore) ExampleClientID() string { return "service" }

func randomString() string {
	b := make([]byte, 12)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}
