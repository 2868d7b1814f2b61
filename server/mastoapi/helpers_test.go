package mastoapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/server/mastoapi"
	"github.com/commonplace/commonplace/storage"
)

var dialects = []storage.Dialect{storage.SQLite, storage.Postgres}

const password = "correct horse battery"

// member creates a local member who can log in.
func member(t *testing.T, n *fedtest.Node, name string) *storage.Actor {
	t.Helper()
	acct, err := n.Service.CreateAccount(context.Background(), federation.NewAccount{
		Username: name, Email: name + "@example.org", Password: password,
	})
	if err != nil {
		t.Fatal(err)
	}
	return acct.Actor
}

// client calls one node's API with a token ("" for none).
type client struct {
	t     *testing.T
	base  string
	token string
	hc    *http.Client
}

func newClient(t *testing.T, n *fedtest.Node, token string) *client {
	return &client{t: t, base: n.URL, token: token, hc: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// tokenFor mints a token as `commonplace account token` does.
func tokenFor(t *testing.T, n *fedtest.Node, name, scopes string) string {
	t.Helper()
	tok, err := mastoapi.IssueToken(context.Background(), n.DB, name, scopes)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type response struct {
	*http.Response
	body []byte
}

func (r response) json(t *testing.T) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v\n%s", r.Request.Method, r.Request.URL, err, r.body)
	}
	return v
}

func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.json(t).(map[string]any)
	if !ok {
		t.Fatalf("%s %s: body is not a JSON object: %s", r.Request.Method, r.Request.URL, r.body)
	}
	return m
}

func (r response) list(t *testing.T) []any {
	t.Helper()
	l, ok := r.json(t).([]any)
	if !ok {
		t.Fatalf("%s %s: body is not a JSON array: %s", r.Request.Method, r.Request.URL, r.body)
	}
	return l
}

// do sends a request; body is url.Values (a form), any other value
// (JSON) or nil.
func (c *client) do(method, path string, body any, header ...string) response {
	c.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(buf), "application/json"
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{res, b}
}

// ok sends a request that must answer 200 and returns the response.
func (c *client) ok(method, path string, body any, header ...string) response {
	c.t.Helper()
	r := c.do(method, path, body, header...)
	if r.StatusCode != http.StatusOK {
		c.t.Fatalf("%s %s: status %d, want 200: %s", method, path, r.StatusCode, r.body)
	}
	return r
}

func str(v any) string { s, _ := v.(string); return s }

func field(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}
