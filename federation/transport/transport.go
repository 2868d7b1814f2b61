// Package transport is the one outbound HTTP client for federation traffic:
// every fetch and every delivery goes through it, so that signing, time
// limits, size caps and the guard against requests to private addresses
// (SSRF) are applied in one place and cannot be forgotten by a caller.
package transport

import (
	"bytes"
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/commonplace/commonplace/federation/httpsig"
)

// Defaults for Options.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxRedirects = 3
	DefaultUserAgent    = "Commonplace"

	contentType = "application/activity+json"
	// drainLimit bounds how much of an unwanted body is read so the
	// connection can be reused; beyond it the connection is dropped.
	drainLimit = 64 << 10
)

// What a GET accepts. Servers negotiate on it and some refuse a request
// whose Accept names nothing they serve (GoToSocial answers WebFinger
// with 406 unless JRD or JSON is acceptable), so every kind of document
// is asked for by its own media types.
const (
	// AcceptActivity is what Mastodon and GoToSocial send for ActivityPub
	// documents; some servers only return JSON for the ld+json form with
	// the profile.
	AcceptActivity = `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
	// AcceptJRD is for WebFinger and host-meta's JSON form (RFC 7033).
	AcceptJRD = "application/jrd+json, application/json"
	// AcceptNodeInfo is for NodeInfo's discovery document and the
	// NodeInfo document itself, whose media type carries its schema.
	AcceptNodeInfo = `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#", application/json`
)

// Signer supplies the key that signs a request: a local actor, usually the
// instance actor for fetches and the sending actor for deliveries.
type Signer interface {
	KeyID() string
	PrivateKey() *rsa.PrivateKey
}

// Options configures a Client. Zero values take the defaults.
type Options struct {
	// AllowPrivate lets requests reach loopback and private addresses; for
	// tests and closed networks only (COMMONPLACE_ALLOW_PRIVATE_ADDRESSES).
	AllowPrivate bool
	// UserAgent identifies this instance to remote servers.
	UserAgent string
	// Timeout bounds a whole Get or Post, redirects and body included.
	Timeout time.Duration
	// MaxBodyBytes caps a GET response body.
	MaxBodyBytes int64
	// MaxRedirects is how many redirects a GET follows; negative means none.
	MaxRedirects int
	// Refuse, when set, is asked before every request, each redirect hop
	// included; an error stops the request before any connection is made.
	// The federation policy plugs in here.
	Refuse func(ctx context.Context, url string) error
}

// Client makes federation requests. It is safe for concurrent use.
type Client struct {
	opts Options
	http *http.Client
}

// Response describes a successful GET.
type Response struct {
	// URL is where the body came from after redirects. Callers must check
	// that a fetched document's id matches it (or its host) before trusting
	// the document.
	URL        *url.URL
	StatusCode int
	Header     http.Header
}

// New returns a Client with opts applied over the defaults.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxRedirects == 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	dialer := &net.Dialer{Timeout: opts.Timeout, KeepAlive: 30 * time.Second}
	if !opts.AllowPrivate {
		dialer.Control = dialControl
	}
	tr := &http.Transport{
		// No proxy: a proxy would be what we dial, hiding the real target
		// from the address guard.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &Client{
		opts: opts,
		http: &http.Client{
			Transport: tr,
			// Redirects are followed by Get itself so that each hop is
			// checked and re-signed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Get fetches an ActivityPub document, signed by signer unless it is nil.
// Redirects are followed up to MaxRedirects, each hop re-checked and
// re-signed. A non-2xx answer is a *StatusError.
func (c *Client) Get(ctx context.Context, rawURL string, signer Signer) ([]byte, *Response, error) {
	return c.GetAs(ctx, rawURL, AcceptActivity, signer)
}

// GetAs is Get for a document of another kind: accept is the request's
// Accept header (AcceptJRD, AcceptNodeInfo).
func (c *Client) GetAs(ctx context.Context, rawURL, accept string, signer Signer) ([]byte, *Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	resp, u, err := c.get(ctx, rawURL, accept, signer)
	if err != nil {
		return nil, nil, err
	}
	body, err := c.readBody(resp, u)
	if err != nil {
		return nil, nil, err
	}
	return body, &Response{URL: u, StatusCode: resp.StatusCode, Header: resp.Header}, nil
}

// GetFile fetches a file (an attachment, an avatar) unsigned, as Mastodon
// does, into w: at most limit bytes, within timeout (which may be longer
// than a document's). It returns how many bytes it wrote; a larger body is
// ErrTooLarge, and w may then hold a part of it.
func (c *Client) GetFile(ctx context.Context, rawURL string, w io.Writer, limit int64, timeout time.Duration) (int64, *Response, error) {
	if timeout <= 0 {
		timeout = c.opts.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, u, err := c.get(ctx, rawURL, "*/*", nil)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		drain(resp)
		return 0, nil, statusError(resp, u)
	}
	if resp.ContentLength > limit {
		return 0, nil, fmt.Errorf("%w: GET %s: %d bytes, limit %d", ErrTooLarge, u, resp.ContentLength, limit)
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return n, nil, fmt.Errorf("transport: GET %s: read body: %w", u, err)
	}
	if n > limit {
		return n, nil, fmt.Errorf("%w: GET %s: over %d bytes", ErrTooLarge, u, limit)
	}
	return n, &Response{URL: u, StatusCode: resp.StatusCode, Header: resp.Header}, nil
}

// get sends a GET, following redirects up to MaxRedirects with each hop
// re-checked and re-signed; it returns the final response, body unread.
func (c *Client) get(ctx context.Context, rawURL, accept string, signer Signer) (*http.Response, *url.URL, error) {
	u, err := c.checkURL(rawURL, nil)
	if err != nil {
		return nil, nil, err
	}
	for hops := 0; ; hops++ {
		resp, err := c.do(ctx, http.MethodGet, u, accept, nil, signer)
		if err != nil {
			return nil, nil, err
		}
		if loc := resp.Header.Get("Location"); isRedirect(resp.StatusCode) && loc != "" {
			drain(resp)
			if hops >= max(c.opts.MaxRedirects, 0) {
				return nil, nil, fmt.Errorf("%w: GET %s: more than %d", ErrTooManyRedirects, rawURL, max(c.opts.MaxRedirects, 0))
			}
			next, err := u.Parse(loc)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: GET %s: redirect to %q: %v", ErrBadURL, u, loc, err)
			}
			if u, err = c.checkURL(next.String(), u); err != nil {
				return nil, nil, err
			}
			continue
		}
		return resp, u, nil
	}
}

// Post delivers an activity, signed by signer with a Digest of body.
// Redirects are not followed: a delivery signed for one inbox must not be
// replayed to another, so a 3xx is a *StatusError like any non-2xx.
func (c *Client) Post(ctx context.Context, rawURL string, body []byte, signer Signer) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	u, err := c.checkURL(rawURL, nil)
	if err != nil {
		return err
	}
	if body == nil {
		body = []byte{}
	}
	resp, err := c.do(ctx, http.MethodPost, u, "", body, signer)
	if err != nil {
		return err
	}
	defer drain(resp)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(resp, u)
	}
	return nil
}

// do sends one request without following redirects.
func (c *Client) do(ctx context.Context, method string, u *url.URL, accept string, body []byte, signer Signer) (*http.Response, error) {
	if c.opts.Refuse != nil {
		if err := c.opts.Refuse(ctx, u.String()); err != nil {
			return nil, fmt.Errorf("transport: %s %s: %w", method, u, err)
		}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("transport: %s %s: %w", method, u, err)
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if signer != nil {
		if err := httpsig.SignRequest(req, body, signer.KeyID(), signer.PrivateKey()); err != nil {
			return nil, fmt.Errorf("transport: %s %s: %w", method, u, err)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error keeps ErrForbiddenAddress and context errors reachable
		// through errors.Is.
		return nil, fmt.Errorf("transport: %w", err)
	}
	return resp, nil
}

// checkURL accepts absolute http(s) URLs without userinfo. from is the URL
// being redirected from, if any: https must not be downgraded to http, or a
// network attacker could rewrite what we fetch.
func (c *Client) checkURL(raw string, from *url.URL) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w: %q: scheme must be http or https", ErrBadURL, raw)
	case u.User != nil:
		return nil, fmt.Errorf("%w: %q: userinfo not allowed", ErrBadURL, u.Redacted())
	case u.Hostname() == "":
		return nil, fmt.Errorf("%w: %q: no host", ErrBadURL, raw)
	case from != nil && from.Scheme == "https" && u.Scheme == "http":
		return nil, fmt.Errorf("%w: redirect from %s downgrades to %s", ErrBadURL, from, u)
	}
	u.Fragment, u.RawFragment = "", ""
	// Fail early for literal addresses; the dialer checks names after DNS.
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !c.opts.AllowPrivate && Forbidden(ip) {
		return nil, fmt.Errorf("%w: %s", ErrForbiddenAddress, u)
	}
	return u, nil
}

func (c *Client) readBody(resp *http.Response, u *url.URL) ([]byte, error) {
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		drain(resp)
		return nil, statusError(resp, u)
	}
	limit := c.opts.MaxBodyBytes
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: GET %s: %d bytes, limit %d", ErrTooLarge, u, resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("transport: GET %s: read body: %w", u, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: GET %s: over %d bytes", ErrTooLarge, u, limit)
	}
	return body, nil
}

func statusError(resp *http.Response, u *url.URL) error {
	return &StatusError{
		Method:     resp.Request.Method,
		URL:        u.String(),
		Code:       resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// drain reads a little of an unwanted body so the connection can be reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	_ = resp.Body.Close()
}
