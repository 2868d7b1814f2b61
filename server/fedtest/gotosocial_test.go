package fedtest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// gtsReplay stands in for the GoToSocial server the samples were captured
// from: it serves the captured actor (with a key of ours, since the real
// private key is not in the samples) and replays the captured activities,
// with the captured hosts rewritten to loopback ones and signed as GTS
// signs. What Commonplace receives is otherwise byte for byte what a real
// GoToSocial sent.
type gtsReplay struct {
	t       *testing.T
	samples string // the captured payloads
	srv     *httptest.Server
	key     *rsa.PrivateKey
	rewrite *strings.Replacer

	mu       sync.Mutex
	received []fedtest.Received
}

func newGTSReplay(t *testing.T, groupURI, groupHandle string) *gtsReplay {
	t.Helper()
	samples, err := fedtest.SharedDir("ap-samples/gotosocial")
	if err != nil {
		t.Skipf("GoToSocial samples not found: %v", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	g := &gtsReplay{t: t, key: key, samples: samples}
	mux := http.NewServeMux()
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	// probe3.test is the peer the samples were captured against: here it
	// is the Commonplace community.
	g.rewrite = strings.NewReplacer(
		"http://gts.test", g.srv.URL,
		"http://probe3.test/users/probe", groupURI,
		"http://probe3.test/@probe", groupURI,
		"@probe@probe3.test", "@"+groupHandle,
	)
	// As GoToSocial does: the full actor only to signed fetches, and a
	// stub at the key's own URL, whose id is the owner's.
	mux.HandleFunc("GET /users/alice", func(w http.ResponseWriter, r *http.Request) {
		if err := fedtest.VerifyLikeMastodon(r, nil, fedtest.FetchActorKey(http.DefaultClient)); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		g.actor(w, r)
	})
	mux.HandleFunc("GET /users/alice/main-key", g.keyStub)
	mux.HandleFunc("GET /.well-known/webfinger", func(w http.ResponseWriter, r *http.Request) {
		// GoToSocial offers JRD and JSON only, and answers 406 to a
		// request that accepts neither.
		if accept := r.Header.Get("Accept"); accept != "" && !strings.Contains(accept, "application/jrd+json") && !strings.Contains(accept, "application/json") && !strings.Contains(accept, "*/*") {
			w.WriteHeader(http.StatusNotAcceptable)
			return
		}
		host := strings.TrimPrefix(g.srv.URL, "http://")
		if r.URL.Query().Get("resource") != "acct:alice@"+host {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/jrd+json")
		json.NewEncoder(w).Encode(map[string]any{"subject": "acct:alice@" + host,
			"links": []map[string]string{{"rel": "self", "type": "application/activity+json", "href": g.srv.URL + "/users/alice"}}})
	})
	mux.HandleFunc("POST /users/alice/inbox", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := fedtest.VerifyLikeMastodon(r, body, fedtest.FetchActorKey(http.DefaultClient)); err != nil {
			t.Errorf("GoToSocial stand-in refused a delivery: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var doc map[string]any
		json.Unmarshal(body, &doc)
		typ, _ := doc["type"].(string)
		g.mu.Lock()
		g.received = append(g.received, fedtest.Received{Type: typ, Raw: body, Doc: doc})
		g.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	return g
}

func (g *gtsReplay) sample(name string) []byte {
	data, err := os.ReadFile(filepath.Join(g.samples, name))
	if err != nil {
		g.t.Fatal(err)
	}
	return []byte(g.rewrite.Replace(string(data)))
}

// actor serves the captured Person (no sharedInbox, key id .../main-key)
// with our public key in place of the captured one.
func (g *gtsReplay) actor(w http.ResponseWriter, r *http.Request) {
	var doc map[string]any
	if err := json.Unmarshal(g.sample("person.json"), &doc); err != nil {
		g.t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&g.key.PublicKey)
	doc["publicKey"].(map[string]any)["publicKeyPem"] = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	w.Header().Set("Content-Type", "application/activity+json")
	json.NewEncoder(w).Encode(doc)
}

// keyStub is what GoToSocial serves at a key id: a partial actor with the
// owner's id, preferredUsername and key.
func (g *gtsReplay) keyStub(w http.ResponseWriter, r *http.Request) {
	der, _ := x509.MarshalPKIXPublicKey(&g.key.PublicKey)
	actor := g.srv.URL + "/users/alice"
	w.Header().Set("Content-Type", "application/activity+json")
	json.NewEncoder(w).Encode(map[string]any{
		"@context": []string{"https://w3id.org/security/v1", "https://www.w3.org/ns/activitystreams"},
		"id":       actor, "preferredUsername": "alice", "type": "Person",
		"publicKey": map[string]string{"id": actor + "/main-key", "owner": actor,
			"publicKeyPem": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))},
	})
}

// replay signs and delivers a captured activity to inbox.
func (g *gtsReplay) replay(name, inbox string) int {
	body := g.sample(name)
	req, _ := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(body))
	var person struct {
		PublicKey struct {
			ID string `json:"id"`
		} `json:"publicKey"`
	}
	json.Unmarshal(g.sample("person.json"), &person)
	fedtest.SignAs(g.t, req, body, time.Now(), person.PublicKey.ID, g.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// GoToSocial's own payloads — Follow, Create{Note} with a Mention of the
// community, Update, Delete, Undo{Follow} — work against a community.
func TestGoToSocialPayloads(t *testing.T) {
	ctx := context.Background()
	a := fedtest.Start(t, storage.SQLite)
	a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	g := newGTSReplay(t, group.URI, a.Handle("practice"))
	alice := g.srv.URL + "/users/alice"
	noteID := g.srv.URL + "/users/alice/statuses/01M8181TJY6PSD7N664QY6Y82H"

	if code := g.replay("follow.json", group.InboxURI); code != http.StatusAccepted {
		t.Fatalf("Follow: %d", code)
	}
	fedtest.Eventually(t, "GoToSocial's follow accepted", accepted(a, group.URI, alice))
	fedtest.Eventually(t, "GoToSocial receives the Accept at its inbox (it has no shared inbox)", func() (bool, error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, r := range g.received {
			if obj, _ := r.Doc["object"].(map[string]any); r.Type == "Accept" && obj != nil && obj["id"] == alice+"/follow/01KG62MFA9GGT8CTSZYG0TJVJV" {
				return true, nil
			}
		}
		return false, nil
	})

	if code := g.replay("create_note_mention.json", a.URL+"/inbox"); code != http.StatusAccepted {
		t.Fatalf("Create: %d", code)
	}
	fedtest.Eventually(t, "the GoToSocial post enters the community", func() (bool, error) {
		o, err := object(a, noteID)
		return err == nil && o.CommunityActorID != nil && *o.CommunityActorID == group.ID && strings.Contains(o.Content, "onboard new staff"), err
	})

	if code := g.replay("update_note.json", a.URL+"/inbox"); code != http.StatusAccepted {
		t.Fatalf("Update: %d", code)
	}
	fedtest.Eventually(t, "the edit is applied", func() (bool, error) {
		o, err := object(a, noteID)
		return err == nil && o.EditedAt != nil, err
	})

	if code := g.replay("delete_note.json", a.URL+"/inbox"); code != http.StatusAccepted {
		t.Fatalf("Delete: %d", code)
	}
	fedtest.Eventually(t, "the post is tombstoned", func() (bool, error) {
		o, err := object(a, noteID)
		return err == nil && o.DeletedAt != nil, err
	})

	if code := g.replay("undo_follow.json", group.InboxURI); code != http.StatusAccepted {
		t.Fatalf("Undo: %d", code)
	}
	fedtest.Eventually(t, "the membership ends", func() (bool, error) {
		_, err := membership(a, group.URI, alice)
		return err != nil, nil
	})
	_ = ctx
}
