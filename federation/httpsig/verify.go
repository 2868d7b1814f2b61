package httpsig

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"time"

	gofed "github.com/go-fed/httpsig"
)

// Defaults for Options. A one-hour window either way matches Mastodon's
// tolerance, so anything Mastodon accepts from a skewed clock we accept too.
const (
	DefaultMaxAge       = time.Hour
	DefaultMaxFuture    = time.Hour
	DefaultMaxBodyBytes = 1 << 20
)

// Options holds the policy Parse applies before any key is looked up.
// The zero value uses the defaults.
type Options struct {
	// MaxAge is how far in the past Date may be.
	MaxAge time.Duration
	// MaxFuture is how far in the future Date may be.
	MaxFuture time.Duration
	// MaxBodyBytes caps the body read to check its Digest.
	MaxBodyBytes int64
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Origin is this server's public origin ("https://example.org"). When
	// set, the signed host must be its host (case-insensitive, the
	// scheme's default port optional): a signature made for another
	// server, or for another host on this one, is somebody else's request
	// replayed. Behind a proxy the public host is still the one that
	// counts, so the proxy must pass Host on unchanged.
	Origin string
}

func (o Options) withDefaults() Options {
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.MaxFuture <= 0 {
		o.MaxFuture = DefaultMaxFuture
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Verifier is a parsed signature that has passed every check except the
// cryptographic one, which needs the public key named by KeyID.
type Verifier struct {
	params sigParams
	body   []byte
	inner  gofed.Verifier
}

// KeyID is the keyId parameter: the URL of the key to verify with.
func (v *Verifier) KeyID() string { return v.params.keyID }

// SignedHeaders lists the lowercased header names covered by the signature.
func (v *Verifier) SignedHeaders() []string { return slices.Clone(v.params.headers) }

// Body is the request body that Parse read and checked against Digest
// (nil for requests without one). r.Body has also been reset to it.
func (v *Verifier) Body() []byte { return v.body }

// Verify checks the signature with pub, which must be an *rsa.PublicKey:
// rsa-sha256 and hs2019 both mean RSASSA-PKCS1-v1_5 with SHA-256 here, as
// in Mastodon. A key CheckPublicKey refuses is refused before any
// arithmetic (ErrUnsupportedAlgorithm). It may be called again with another key, e.g. after the
// caller re-fetches a rotated key.
func (v *Verifier) Verify(pub crypto.PublicKey) error {
	key, ok := pub.(*rsa.PublicKey)
	if !ok || key == nil {
		return fmt.Errorf("%w: key %s is %T, want RSA", ErrUnsupportedAlgorithm, v.params.keyID, pub)
	}
	if err := CheckPublicKey(key); err != nil {
		return fmt.Errorf("key %s: %w", v.params.keyID, err)
	}
	if err := v.inner.Verify(key, gofed.RSA_SHA256); err != nil {
		return fmt.Errorf("%w: key %s: %v", ErrBadSignature, v.params.keyID, err)
	}
	return nil
}

// Parse reads the signature of r with the default Options.
func Parse(r *http.Request) (*Verifier, error) { return Options{}.Parse(r) }

// Parse reads the signature of r and checks everything that does not need
// the key: that required headers are signed, the Date window, and, for
// requests with a body, that Digest matches the body.
//
// Parse reads r.Body (bounded by MaxBodyBytes) and replaces it with an
// in-memory copy, so handlers can read it again or use Verifier.Body.
func (o Options) Parse(r *http.Request) (*Verifier, error) {
	o = o.withDefaults()
	raw, fromAuth, err := signatureHeader(r.Header)
	if err != nil {
		return nil, err
	}
	p, err := parseSignatureHeader(raw)
	if err != nil {
		return nil, err
	}
	switch p.algorithm {
	case "", "rsa-sha256", "hs2019":
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, p.algorithm)
	}
	hasBody := methodHasBody(r.Method) || r.ContentLength != 0 || len(r.Header.Values("Digest")) > 0
	if err := checkSignedHeaders(r, p.headers, hasBody); err != nil {
		return nil, err
	}
	if err := o.checkTimes(r, p); err != nil {
		return nil, err
	}
	if err := o.checkHost(r); err != nil {
		return nil, err
	}
	v := &Verifier{params: p}
	if hasBody {
		if v.body, err = readBody(r, o.MaxBodyBytes); err != nil {
			return nil, err
		}
		if err := VerifyDigest(strings.Join(r.Header.Values("Digest"), ","), v.body); err != nil {
			return nil, err
		}
	}
	if v.inner, err = p.goFedVerifier(r, fromAuth); err != nil {
		return nil, err
	}
	return v, nil
}

// signatureHeader finds the signature parameters, preferring the Signature
// header and falling back to "Authorization: Signature ..." as Mastodon does.
func signatureHeader(h http.Header) (raw string, fromAuth bool, err error) {
	switch sigs := h.Values("Signature"); len(sigs) {
	case 0:
	case 1:
		return sigs[0], false, nil
	default:
		return "", false, fmt.Errorf("%w: %d Signature headers", ErrMalformedSignature, len(sigs))
	}
	for _, a := range h.Values("Authorization") {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(a), " ")
		if strings.EqualFold(scheme, "Signature") {
			return rest, true, nil
		}
	}
	return "", false, ErrNoSignature
}

// checkSignedHeaders enforces the minimum coverage go-fed leaves to us: a
// signature that omits the target, host or date could be replayed against
// another resource or forever, and one that omits digest leaves the body
// unauthenticated.
func checkSignedHeaders(r *http.Request, signed []string, hasBody bool) error {
	required := getHeaders
	if hasBody {
		required = bodyHeaders
	}
	for _, h := range required {
		if !slices.Contains(signed, h) {
			return fmt.Errorf("%w: %q is not signed", ErrMissingHeader, h)
		}
	}
	for _, h := range signed {
		if strings.HasPrefix(h, "(") {
			continue
		}
		if h == "host" && r.Host != "" {
			continue
		}
		if _, ok := r.Header[textproto.CanonicalMIMEHeaderKey(h)]; !ok {
			return fmt.Errorf("%w: signed header %q is absent", ErrMissingHeader, h)
		}
	}
	return nil
}

func (o Options) checkTimes(r *http.Request, p sigParams) error {
	now := o.Now()
	dates := r.Header.Values("Date")
	switch len(dates) {
	case 0:
		return fmt.Errorf("%w: Date", ErrMissingHeader)
	case 1:
	default:
		return fmt.Errorf("%w: %d Date headers", ErrMalformedSignature, len(dates))
	}
	date, err := http.ParseTime(dates[0])
	if err != nil {
		return fmt.Errorf("%w: unparseable Date %q", ErrMalformedSignature, dates[0])
	}
	if err := o.inWindow(now, date, "Date"); err != nil {
		return err
	}
	if p.created != 0 {
		if err := o.inWindow(now, time.Unix(p.created, 0), "created"); err != nil {
			return err
		}
	}
	if p.expires != 0 && now.After(time.Unix(p.expires, 0)) {
		return fmt.Errorf("%w: signature expired at %s", ErrDateOutOfWindow, time.Unix(p.expires, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

// checkHost binds the signature to this server (see Options.Origin). The
// host that go-fed verifies is r.Host, so that is the one compared.
func (o Options) checkHost(r *http.Request) error {
	if o.Origin == "" {
		return nil
	}
	u, err := url.Parse(o.Origin)
	if err != nil || u.Host == "" {
		return fmt.Errorf("httpsig: bad Origin %q", o.Origin)
	}
	if got, want := withoutDefaultPort(r.Host, u.Scheme), withoutDefaultPort(u.Host, u.Scheme); got != want {
		return fmt.Errorf("%w: signed for host %q, this server is %q", ErrWrongHost, r.Host, u.Host)
	}
	return nil
}

// withoutDefaultPort lower-cases host[:port] and drops the scheme's
// default port.
func withoutDefaultPort(host, scheme string) string {
	host = strings.ToLower(host)
	switch scheme {
	case "https":
		return strings.TrimSuffix(host, ":443")
	case "http":
		return strings.TrimSuffix(host, ":80")
	}
	return host
}

func (o Options) inWindow(now, t time.Time, what string) error {
	if age := now.Sub(t); age > o.MaxAge {
		return fmt.Errorf("%w: %s is %s old", ErrDateOutOfWindow, what, age.Round(time.Second))
	}
	if ahead := t.Sub(now); ahead > o.MaxFuture {
		return fmt.Errorf("%w: %s is %s in the future", ErrDateOutOfWindow, what, ahead.Round(time.Second))
	}
	return nil
}

func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return []byte{}, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	_ = r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("httpsig: read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, limit)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// goFedVerifier hands go-fed a copy of r carrying our canonical rendering
// of the parameters (so both parsers see the same signed headers) and the
// request target exactly as it was on the wire: go-fed would otherwise use
// the decoded URL.Path and reject any percent-encoded path.
func (p sigParams) goFedVerifier(r *http.Request, fromAuth bool) (gofed.Verifier, error) {
	c := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Path: requestTarget(r)},
		Host:   r.Host,
		Header: r.Header.Clone(),
	}
	if fromAuth {
		c.Header.Del("Authorization")
	}
	c.Header["Signature"] = []string{p.canonical()}
	v, err := gofed.NewVerifier(c)
	if err != nil {
		// Our own checks already passed; what remains is go-fed's fixed
		// 10-second tolerance on (created)/(expires).
		return nil, fmt.Errorf("%w: %v", ErrDateOutOfWindow, err)
	}
	return v, nil
}

// requestTarget is the path and query as sent: RequestURI on a server
// request, the escaped form of URL otherwise.
func requestTarget(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}
