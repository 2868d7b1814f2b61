package httpsig

import (
	"bytes"
	"crypto/rsa"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

const aliceKeyID = "https://remote.example/users/alice#main-key"

func loadKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name + ".pem")
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePrivateKeyPEM(data)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return key
}

// fixedClock returns a clock stuck at a time so Date checks are exact.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

var testNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// signed builds a client request, optionally with Date preset, and signs it.
func signed(t testing.TB, method, url string, body []byte, date time.Time) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if !date.IsZero() {
		r.Header.Set("Date", date.UTC().Format(http.TimeFormat))
	}
	if err := SignRequest(r, body, aliceKeyID, loadKey(t, "alice")); err != nil {
		t.Fatalf("SignRequest: %v", err)
	}
	return r
}

// asServer turns a signed client request into what a handler would see,
// without a network round trip.
func asServer(c *http.Request, body []byte) *http.Request {
	s := httptest.NewRequest(c.Method, c.URL.String(), bytes.NewReader(body))
	if body == nil {
		s = httptest.NewRequest(c.Method, c.URL.String(), nil)
	}
	s.Header = c.Header.Clone()
	s.Header.Del("Host") // net/http moves it to r.Host
	return s
}

// capture starts a loopback server and returns its base URL and a function
// that sends a request to it and returns the request the handler saw, with
// its body buffered.
func capture(t *testing.T) (string, func(*http.Request) *http.Request) {
	t.Helper()
	got := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r2 := r.Clone(r.Context())
		r2.Body = io.NopCloser(bytes.NewReader(body))
		got <- r2
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func(c *http.Request) *http.Request {
		t.Helper()
		resp, err := srv.Client().Do(c)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return <-got
	}
}
