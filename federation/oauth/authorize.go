package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

const (
	// OOBRedirect asks for the code to be shown to the member, for apps
	// that cannot receive a redirect.
	OOBRedirect = "urn:ietf:wg:oauth:2.0:oob"
	// CodeLifetime is how long an authorization code can be exchanged.
	CodeLifetime = 10 * time.Minute
)

// ValidRedirect accepts absolute URIs (app schemes included) and the
// out-of-band marker, never script-carrying schemes.
func ValidRedirect(s string) bool {
	if s == OOBRedirect {
		return true
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Fragment != "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "data", "vbscript", "file":
		return false
	case "http", "https":
		return u.Host != ""
	}
	return true
}

// Request is a checked authorization request: an app asks a member for
// access.
type Request struct {
	App                        *storage.OAuthApp
	Redirect, State            string
	Scopes                     []string
	Challenge, ChallengeMethod string
}

// ParseRequest checks an authorization request whose parameters get
// returns. Problems of a known app's request come back as an OAuth error
// code with the request (shown to the member, see Describe); an unknown
// app or unregistered redirect URI is a federation.ErrInvalid error worded
// for the member.
func ParseRequest(ctx context.Context, db *storage.DB, get func(string) string) (*Request, string, error) {
	app, err := db.GetOAuthAppByClientID(ctx, get("client_id"))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, "", fmt.Errorf("%w: The client is unknown: check the app's client_id.", federation.ErrInvalid)
	} else if err != nil {
		return nil, "", err
	}
	registered := strings.Split(app.RedirectURIs, "\n")
	redirect := get("redirect_uri")
	if redirect == "" && len(registered) == 1 {
		redirect = registered[0]
	}
	if !slices.Contains(registered, redirect) {
		return nil, "", fmt.Errorf("%w: The redirect URI is not registered for this app.", federation.ErrInvalid)
	}
	r := &Request{App: app, Redirect: redirect, State: get("state")}
	if get("response_type") != "code" {
		return r, "unsupported_response_type", nil
	}
	scopes, err := ParseScopes(get("scope"))
	if err != nil || !SubsetOf(scopes, strings.Fields(app.Scopes)) {
		return r, "invalid_scope", nil
	}
	r.Scopes = scopes
	r.Challenge, r.ChallengeMethod = get("code_challenge"), get("code_challenge_method")
	if r.Challenge != "" {
		if r.ChallengeMethod == "" {
			r.ChallengeMethod = "plain"
		}
		// Only S256: "plain" would hand the verifier to anyone who sees
		// the authorization request.
		if r.ChallengeMethod != "S256" || len(r.Challenge) < 43 || len(r.Challenge) > 128 {
			return r, "invalid_request", nil
		}
	}
	return r, "", nil
}

// Describe words an authorization request's OAuth error for the member,
// who sees it instead of the app.
func Describe(code string) string {
	why := map[string]string{
		"unsupported_response_type": "it asked for something other than an authorization code",
		"invalid_scope":             "it asked for scopes it did not register, or unknown ones",
		"invalid_request":           "its PKCE challenge is not S256",
	}[code]
	if why == "" {
		why = "it is malformed"
	}
	return "The app's authorization request cannot be accepted: " + why + " (" + code + "). Tell the app's developers."
}

// Params are the request's parameters as the consent form sends them
// back.
func (r *Request) Params() map[string]string {
	h := map[string]string{
		"client_id": r.App.ClientID, "redirect_uri": r.Redirect, "response_type": "code",
		"scope": strings.Join(r.Scopes, " "),
	}
	if r.State != "" {
		h["state"] = r.State
	}
	if r.Challenge != "" {
		h["code_challenge"], h["code_challenge_method"] = r.Challenge, r.ChallengeMethod
	}
	return h
}

// RedirectURL is the app's redirect URI with v (and the state) added.
func (r *Request) RedirectURL(v url.Values) string {
	if r.State != "" {
		v.Set("state", r.State)
	}
	u, _ := url.Parse(r.Redirect)
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// IssueCode records the member's consent and returns the authorization
// code, single-use and short-lived; only its hash is stored.
func IssueCode(ctx context.Context, db *storage.DB, r *Request, acct *storage.Account, now time.Time) (string, error) {
	code := NewSecret()
	err := db.CreateOAuthCode(ctx, &storage.OAuthCode{
		CodeHash: HashSecret(code), AppID: r.App.ID, AccountID: acct.ID, RedirectURI: r.Redirect,
		Scopes: strings.Join(r.Scopes, " "), CodeChallenge: r.Challenge, CodeChallengeMethod: r.ChallengeMethod,
		ExpiresAt: now.Add(CodeLifetime).UTC(),
	})
	if err != nil {
		return "", fmt.Errorf("issue authorization code: %w", err)
	}
	return code, nil
}
