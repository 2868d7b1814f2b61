// Package openid is the relying party of OpenID Connect sign-in: it sends
// a browser to the institution's identity provider and checks what comes
// back. It rests on coreos/go-oidc (discovery, ID token verification with
// the provider's JWKS, refetched when a token names a key it has not seen,
// so the provider can rotate keys) and x/oauth2 (authorization code with
// PKCE). It keeps no state: the caller stores the state, nonce and PKCE
// verifier of each sign-in with the browser that started it.
package openid

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config is the relying party's registration at the provider.
type Config struct {
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer + "/.well-known/openid-configuration".
	Issuer           string
	ClientID, Secret string
	RedirectURL      string
	Scopes           []string
	UsernameClaim    string
	GroupsClaim      string
	HTTPClient       *http.Client
	// Now is the clock ID tokens are checked against (tests).
	Now func() time.Time
}

// ErrRefused is a sign-in that the provider's answer does not support: a
// token that fails verification, an error from the provider, a missing
// claim. Its text is safe to show.
var ErrRefused = errors.New("the identity provider's answer was not accepted")

// Claims are what a verified sign-in tells about the person.
type Claims struct {
	// Issuer and Subject identify the person at the provider: the pair
	// is the identity, never the e-mail address.
	Issuer, Subject string
	// Username is the value of the configured username claim.
	Username      string
	Name          string
	Email         string
	EmailVerified bool
	// Groups is the value of the configured groups claim; GroupsKnown
	// tells whether the provider sent it at all.
	Groups      []string
	GroupsKnown bool
}

// Client talks to one provider. Discovery happens on first use and is
// retried on later uses while the provider cannot be reached, so that a
// provider that is down when Commonplace starts does not stop it.
type Client struct {
	cfg Config

	mu       sync.Mutex
	provider *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
	lastTry  time.Time
	lastErr  error
}

// New returns a client for cfg.
func New(cfg Config) *Client {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.UsernameClaim == "" {
		cfg.UsernameClaim = "preferred_username"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if !slices.Contains(cfg.Scopes, gooidc.ScopeOpenID) {
		cfg.Scopes = append([]string{gooidc.ScopeOpenID}, cfg.Scopes...)
	}
	return &Client{cfg: cfg}
}

// AuthOrigin is the origin (scheme://host[:port]) of the provider's
// authorization endpoint, where sign-in forms send browsers: the
// issuer's until discovery has succeeded. It never waits for the
// provider.
func (c *Client) AuthOrigin() string {
	u := c.cfg.Issuer
	c.mu.Lock()
	if c.provider != nil {
		u = c.provider.Endpoint().AuthURL
	}
	c.mu.Unlock()
	parsed, err := url.Parse(u)
	if err != nil || parsed.Host == "" {
		return ""
	}
	return parsed.Scheme + "://" + parsed.Host
}

// Issuer is the configured issuer URL.
func (c *Client) Issuer() string { return c.cfg.Issuer }

func (c *Client) ctx(ctx context.Context) context.Context {
	return gooidc.ClientContext(ctx, c.cfg.HTTPClient)
}

// discover returns the provider, fetching its discovery document once. A
// failure is remembered for a few seconds, so that a flood of sign-ins
// while the provider is down does not become a flood of requests to it.
func (c *Client) discover(ctx context.Context) (*gooidc.Provider, *gooidc.IDTokenVerifier, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, c.verifier, nil
	}
	if c.lastErr != nil && time.Since(c.lastTry) < 5*time.Second {
		return nil, nil, c.lastErr
	}
	c.lastTry = time.Now()
	// The keys are fetched in the background of later requests with this
	// context: it must carry the client but no deadline.
	p, err := gooidc.NewProvider(c.ctx(context.WithoutCancel(ctx)), c.cfg.Issuer)
	if err != nil {
		c.lastErr = fmt.Errorf("discover the identity provider at %s: %w", c.cfg.Issuer, err)
		return nil, nil, c.lastErr
	}
	c.provider, c.lastErr = p, nil
	c.verifier = p.Verifier(&gooidc.Config{ClientID: c.cfg.ClientID, Now: c.cfg.Now})
	return c.provider, c.verifier, nil
}

func (c *Client) oauth2(p *gooidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: c.cfg.ClientID, ClientSecret: c.cfg.Secret, RedirectURL: c.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: c.cfg.Scopes,
	}
}

// Request is one sign-in on its way to the provider. State, Nonce and
// Verifier must be kept with the browser that goes to URL, and given to
// Finish when it comes back.
type Request struct {
	URL                    string
	State, Nonce, Verifier string
}

// Start makes an authorization request with a fresh state, nonce and PKCE
// verifier (S256).
func (c *Client) Start(ctx context.Context) (*Request, error) {
	p, _, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	r := &Request{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier()}
	r.URL = c.oauth2(p).AuthCodeURL(r.State, oauth2.S256ChallengeOption(r.Verifier), gooidc.Nonce(r.Nonce))
	return r, nil
}

// Finish exchanges the code that the provider sent back for tokens and
// verifies the ID token: signature (against the provider's JWKS), issuer,
// audience, expiry and the nonce of the request. Missing claims are taken
// from the userinfo endpoint, whose subject must be the token's.
func (c *Client) Finish(ctx context.Context, code, verifier, nonce string) (*Claims, error) {
	p, v, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := c.oauth2(p).Exchange(c.ctx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("%w: exchange the code: %v", ErrRefused, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, fmt.Errorf("%w: the token response has no ID token", ErrRefused)
	}
	idt, err := v.Verify(c.ctx(ctx), raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 || nonce == "" {
		return nil, fmt.Errorf("%w: the ID token's nonce is not this sign-in's", ErrRefused)
	}
	claims := map[string]json.RawMessage{}
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if azp := str(claims["azp"]); azp != "" && azp != c.cfg.ClientID {
		return nil, fmt.Errorf("%w: the ID token was issued to %q", ErrRefused, azp)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrRefused, err)
		}
	}
	if c.missing(claims) && p.UserInfoEndpoint() != "" {
		info, err := p.UserInfo(c.ctx(ctx), oauth2.StaticTokenSource(tok))
		if err != nil {
			return nil, fmt.Errorf("%w: userinfo: %v", ErrRefused, err)
		}
		if info.Subject != idt.Subject {
			return nil, fmt.Errorf("%w: userinfo is about another subject", ErrRefused)
		}
		more := map[string]json.RawMessage{}
		if err := info.Claims(&more); err != nil {
			return nil, fmt.Errorf("%w: userinfo: %v", ErrRefused, err)
		}
		for k, val := range more {
			if _, ok := claims[k]; !ok {
				claims[k] = val
			}
		}
	}
	out := &Claims{
		Issuer: c.cfg.Issuer, Subject: idt.Subject,
		Username: str(claims[c.cfg.UsernameClaim]), Name: str(claims["name"]),
		Email: str(claims["email"]), EmailVerified: boolean(claims["email_verified"]),
	}
	if raw, ok := claims[c.cfg.GroupsClaim]; ok && c.cfg.GroupsClaim != "" {
		out.Groups, out.GroupsKnown = strs(raw), true
	}
	if out.Subject == "" {
		return nil, fmt.Errorf("%w: the ID token has no subject", ErrRefused)
	}
	return out, nil
}

// missing reports whether claims lacks one that sign-in reads.
func (c *Client) missing(claims map[string]json.RawMessage) bool {
	for _, k := range []string{c.cfg.UsernameClaim, "email", c.cfg.GroupsClaim} {
		if _, ok := claims[k]; k != "" && !ok {
			return true
		}
	}
	return false
}

func str(m json.RawMessage) string {
	var s string
	if json.Unmarshal(m, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

// boolean reads a boolean claim; some providers send "true" as a string.
func boolean(m json.RawMessage) bool {
	var b bool
	if json.Unmarshal(m, &b) == nil {
		return b
	}
	return str(m) == "true"
}

// strs reads a list of strings, or one string, as providers send groups.
func strs(m json.RawMessage) []string {
	var l []string
	if json.Unmarshal(m, &l) == nil {
		return l
	}
	if s := str(m); s != "" {
		return []string{s}
	}
	return nil
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
