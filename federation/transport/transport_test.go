package transport

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation/httpsig"
)

type testSigner struct {
	id  string
	key *rsa.PrivateKey
}

func (s testSigner) KeyID() string               { return s.id }
func (s testSigner) PrivateKey() *rsa.PrivateKey { return s.key }

func newSigner(t *testing.T) testSigner {
	t.Helper()
	key, err := httpsig.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return testSigner{id: "https://commonplace.example/actor#main-key", key: key}
}

// verifyRequest checks r the way an inbox would, with the signer's key.
func verifyRequest(r *http.Request, s testSigner) error {
	v, err := httpsig.Parse(r)
	if err != nil {
		return err
	}
	if v.KeyID() != s.id {
		return fmt.Errorf("keyId %q", v.KeyID())
	}
	return v.Verify(&s.key.PublicKey)
}

func loopbackClient() *Client { return New(Options{AllowPrivate: true}) }

func TestPrivateAddressRefused(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	}))
	defer srv.Close()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}

	c := New(Options{})
	for _, u := range []string{
		srv.URL + "/users/bob",
		"http://localhost:" + port + "/users/bob", // caught after DNS, by the dialer
		"http://[::ffff:127.0.0.1]:" + port + "/",
	} {
		if _, _, err := c.Get(context.Background(), u, nil); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("Get(%s) = %v, want ErrForbiddenAddress", u, err)
		}
		if err := c.Post(context.Background(), u, []byte("{}"), nil); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("Post(%s) = %v, want ErrForbiddenAddress", u, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("server was reached %d times", n)
	}

	body, resp, err := loopbackClient().Get(context.Background(), "http://localhost:"+port+"/users/bob", nil)
	if err != nil || resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("with AllowPrivate: %v", err)
	}
	if hits.Load() != 1 {
		t.Fatal("AllowPrivate request did not arrive")
	}
}

func TestBadURL(t *testing.T) {
	c := loopbackClient()
	for _, u := range []string{
		"ftp://127.0.0.1/x",
		"file:///etc/passwd",
		"http://user:pass@127.0.0.1/",
		"http:///nohost",
		"/relative",
		"::not a url",
	} {
		if _, _, err := c.Get(context.Background(), u, nil); !errors.Is(err, ErrBadURL) {
			t.Errorf("Get(%q) = %v, want ErrBadURL", u, err)
		}
	}
}

func TestGetSignedWithHeaders(t *testing.T) {
	s := newSigner(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := verifyRequest(r, s); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if !strings.HasPrefix(r.Header.Get("Accept"), "application/activity+json") || r.Header.Get("User-Agent") != "Commonplace/test" {
			http.Error(w, "headers", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		io.WriteString(w, `{"id":"x"}`)
	}))
	defer srv.Close()
	c := New(Options{AllowPrivate: true, UserAgent: "Commonplace/test"})
	body, resp, err := c.Get(context.Background(), srv.URL+"/tags/caf%C3%A9?page=1", s)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != `{"id":"x"}` || resp.Header.Get("Content-Type") != "application/activity+json" {
		t.Fatalf("body %q, header %v", body, resp.Header)
	}
}

// Each kind of document is asked for by its own media types, on every
// redirect hop: GoToSocial answers a WebFinger request that does not accept
// JRD with 406.
func TestGetAsAccept(t *testing.T) {
	var got []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path+" "+r.Header.Get("Accept"))
		mu.Unlock()
		if r.URL.Path == "/.well-known/webfinger" {
			http.Redirect(w, r, "/wf", http.StatusFound)
			return
		}
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	c := loopbackClient()
	if _, _, err := c.GetAs(context.Background(), srv.URL+"/.well-known/webfinger", AcceptJRD, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.GetAs(context.Background(), srv.URL+"/nodeinfo/2.1", AcceptNodeInfo, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Get(context.Background(), srv.URL+"/u/alice", nil); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/.well-known/webfinger application/jrd+json, application/json",
		"/wf application/jrd+json, application/json",
		"/nodeinfo/2.1 " + AcceptNodeInfo,
		"/u/alice " + AcceptActivity,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Accept headers:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSizeLimit(t *testing.T) {
	const limit = 1000
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("chunked") != "" {
			// Flushing first forces chunked encoding: no Content-Length to
			// reject up front, so the read limit must catch it.
			w.(http.Flusher).Flush()
		}
		w.Write([]byte(strings.Repeat("a", n)))
	}))
	defer srv.Close()
	c := New(Options{AllowPrivate: true, MaxBodyBytes: limit})
	for _, tc := range []struct {
		query string
		ok    bool
	}{
		{"n=1000", true},
		{"n=1001", false},
		{"n=1000&chunked=1", true},
		{"n=1001&chunked=1", false},
		{"n=100000&chunked=1", false},
	} {
		body, _, err := c.Get(context.Background(), srv.URL+"/?"+tc.query, nil)
		if tc.ok && (err != nil || len(body) != limit) {
			t.Errorf("%s: %d bytes, %v", tc.query, len(body), err)
		}
		if !tc.ok && !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: err = %v, want ErrTooLarge", tc.query, err)
		}
	}
}

func TestRedirects(t *testing.T) {
	s := newSigner(t)
	var mu sync.Mutex
	var failures []string
	// Two servers so that redirects cross hosts and re-signing must
	// change the signed host.
	var other *httptest.Server
	handler := func(w http.ResponseWriter, r *http.Request) {
		if err := verifyRequest(r, s); err != nil {
			mu.Lock()
			failures = append(failures, r.Host+r.URL.Path+": "+err.Error())
			mu.Unlock()
		}
		switch {
		case r.URL.Path == "/final":
			io.WriteString(w, "done")
		case r.URL.Path == "/ftp":
			http.Redirect(w, r, "ftp://127.0.0.1/x", http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/hop/"):
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
			next := "/final"
			if n > 1 {
				next = fmt.Sprintf("%s/hop/%d", other.URL, n-1)
			}
			http.Redirect(w, r, next, http.StatusMovedPermanently)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(handler))
	defer srv.Close()
	other = httptest.NewServer(http.HandlerFunc(handler))
	defer other.Close()

	c := loopbackClient()
	body, resp, err := c.Get(context.Background(), srv.URL+"/hop/3", s)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != "done" || resp.URL.String() != other.URL+"/final" {
		t.Fatalf("body %q from %s, want from %s/final", body, resp.URL, other.URL)
	}
	if _, _, err := c.Get(context.Background(), srv.URL+"/hop/4", s); !errors.Is(err, ErrTooManyRedirects) {
		t.Fatalf("4 hops: %v, want ErrTooManyRedirects", err)
	}
	none := New(Options{AllowPrivate: true, MaxRedirects: -1})
	if _, _, err := none.Get(context.Background(), srv.URL+"/hop/1", s); !errors.Is(err, ErrTooManyRedirects) {
		t.Fatalf("MaxRedirects -1: %v, want ErrTooManyRedirects", err)
	}
	if _, _, err := c.Get(context.Background(), srv.URL+"/ftp", s); !errors.Is(err, ErrBadURL) {
		t.Fatalf("redirect to ftp: %v, want ErrBadURL", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(failures) > 0 {
		t.Fatalf("signature failures on redirect hops:\n%s", strings.Join(failures, "\n"))
	}
}

func TestRedirectToPrivateRefused(t *testing.T) {
	// A public-looking first hop cannot be simulated on loopback, so check
	// the per-hop guard directly: a redirect target is re-checked.
	c := New(Options{})
	from, _ := c.checkURL("https://remote.example/x", nil)
	for _, target := range []string{"http://169.254.169.254/latest/meta-data", "https://[::1]/", "http://remote.example/x"} {
		if _, err := c.checkURL(target, from); err == nil {
			t.Errorf("redirect to %s accepted", target)
		}
	}
}

func TestPost(t *testing.T) {
	s := newSigner(t)
	activity := []byte(`{"type":"Create"}`)
	var redirectedHit atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
			return
		case "/elsewhere":
			redirectedHit.Store(true)
		}
		if err := verifyRequest(r, s); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if string(body) != string(activity) || r.Header.Get("Content-Type") != "application/activity+json" {
			http.Error(w, "wrong body or type", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, strings.Repeat("x", 1<<20)) // drained, not read in full
	}))
	defer srv.Close()
	c := loopbackClient()
	if err := c.Post(context.Background(), srv.URL+"/c/sepsis/inbox", activity, s); err != nil {
		t.Fatal(err)
	}
	var se *StatusError
	if err := c.Post(context.Background(), srv.URL+"/moved", activity, s); !errors.As(err, &se) || se.Code != http.StatusTemporaryRedirect {
		t.Fatalf("POST to redirect: %v, want StatusError 307", err)
	}
	if redirectedHit.Load() {
		t.Fatal("POST followed a redirect")
	}
	if err := c.Post(context.Background(), srv.URL+"/inbox", activity, nil); !errors.As(err, &se) || se.Code != http.StatusUnauthorized {
		t.Fatalf("unsigned POST: %v, want StatusError 401", err)
	}
}

func TestStatusError(t *testing.T) {
	retryAt := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		switch code {
		case http.StatusTooManyRequests:
			w.Header().Set("Retry-After", "120")
		case http.StatusServiceUnavailable:
			w.Header().Set("Retry-After", retryAt)
		}
		w.WriteHeader(code)
	}))
	defer srv.Close()
	c := loopbackClient()
	for _, tc := range []struct {
		code            int
		gone, temporary bool
		retryMin        time.Duration
		retryMax        time.Duration
	}{
		{http.StatusNotFound, true, false, 0, 0},
		{http.StatusGone, true, false, 0, 0},
		{http.StatusForbidden, false, false, 0, 0},
		{http.StatusTooManyRequests, false, true, 120 * time.Second, 120 * time.Second},
		{http.StatusServiceUnavailable, false, true, 80 * time.Second, 90 * time.Second},
		{http.StatusInternalServerError, false, true, 0, 0},
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			u := fmt.Sprintf("%s/%d", srv.URL, tc.code)
			var err error
			if method == http.MethodGet {
				_, _, err = c.Get(context.Background(), u, nil)
			} else {
				err = c.Post(context.Background(), u, []byte("{}"), nil)
			}
			var se *StatusError
			if !errors.As(err, &se) {
				t.Fatalf("%s %d: %v, want *StatusError", method, tc.code, err)
			}
			if se.Code != tc.code || se.Method != method || se.Gone() != tc.gone || se.Temporary() != tc.temporary ||
				se.RetryAfter < tc.retryMin || se.RetryAfter > tc.retryMax {
				t.Errorf("%s %d: got %+v (gone %v, temporary %v)", method, tc.code, se, se.Gone(), se.Temporary())
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"30", 30 * time.Second},
		{" 30 ", 30 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"99999999999999999", 365 * 24 * time.Hour},
		{"Fri, 14 Mar 2025 12:05:00 GMT", 5 * time.Minute},
		{"Friday, 14-Mar-25 12:01:00 GMT", time.Minute},
		{"Fri, 14 Mar 2025 11:00:00 GMT", 0},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release)
	c := New(Options{AllowPrivate: true, Timeout: 100 * time.Millisecond})
	start := time.Now()
	if _, _, err := c.Get(context.Background(), srv.URL, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Get took %s", d)
	}
}
