package fedtest_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// TestInboxErrorsSayLittle: what an inbox answers a failed request is a
// fixed reason by status, never why our fetch of the sender's key failed:
// the address we tried, a connection refused, a server's status or body.
// Otherwise anyone could scan what this server can reach by naming keys.
func TestInboxErrorsSayLittle(t *testing.T) {
	a := fedtest.Start(t, storage.SQLite)
	a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	// A port nobody listens on, and a server that answers with secrets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	talky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "INTERNAL-ADMIN-PANEL db=10.1.2.3", http.StatusTeapot)
	}))
	defer talky.Close()
	talkyHost := strings.TrimPrefix(talky.URL, "http://")

	for name, actor := range map[string]string{
		"refused":  "http://" + closed + "/users/eve",
		"talky":    talky.URL + "/users/eve",
		"no host":  "http://unresolvable.invalid/users/eve",
		"mismatch": "http://" + closed + "/users/eve#other",
	} {
		t.Run(name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
				"id": strings.SplitN(actor, "#", 2)[0] + "/follows/1", "type": "Follow", "actor": strings.SplitN(actor, "#", 2)[0], "object": group.URI})
			for _, inbox := range []string{group.InboxURI, a.URL + "/inbox"} {
				req, _ := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(body))
				fedtest.SignAs(t, req, body, time.Now(), actor+"#main-key", key)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode < 400 {
					t.Fatalf("%s: %d", inbox, res.StatusCode)
				}
				var e struct{ Error string }
				if err := json.Unmarshal(got, &e); err != nil {
					t.Fatalf("%s: body %s", inbox, got)
				}
				for _, leak := range []string{closed, talkyHost, "127.0.0.1", "refused", "dial", "INTERNAL", "10.1.2.3", "418", "teapot", "unresolvable", "lookup", "fetch"} {
					if strings.Contains(strings.ToLower(string(got)), strings.ToLower(leak)) {
						t.Errorf("%s answered %d %s: names %q", inbox, res.StatusCode, got, leak)
					}
				}
			}
		})
	}
}
