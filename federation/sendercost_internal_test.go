package federation

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation/httpsig"
	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// keyServer is a remote server whose actors publish the keys a test
// gives them. It counts the GETs of each path; an actor it does not know
// is a 404.
type keyServer struct {
	*httptest.Server
	mu     sync.Mutex
	keys   map[string]*rsa.PublicKey // by actor name
	gets   map[string]int            // by path
	status int                       // when set, every GET answers it
}

func newKeyServer(t *testing.T) *keyServer {
	k := &keyServer{keys: map[string]*rsa.PublicKey{}, gets: map[string]int{}}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		k.gets[r.URL.Path]++
		pub, status := k.keys[strings.TrimPrefix(r.URL.Path, "/users/")], k.status
		k.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		if r.URL.Path == "/.well-known/webfinger" {
			acct := strings.TrimPrefix(r.URL.Query().Get("resource"), "acct:")
			name, _, _ := strings.Cut(acct, "@")
			w.Header().Set("Content-Type", "application/jrd+json")
			json.NewEncoder(w).Encode(map[string]any{"subject": "acct:" + acct, "links": []map[string]string{
				{"rel": "self", "type": "application/activity+json", "href": "http://" + r.Host + "/users/" + name},
			}})
			return
		}
		if pub == nil {
			http.NotFound(w, r)
			return
		}
		pem, err := httpsig.EncodePublicKeyPEM(pub)
		if err != nil {
			t.Error(err)
		}
		id := "http://" + r.Host + r.URL.Path
		w.Header().Set("Content-Type", "application/activity+json")
		json.NewEncoder(w).Encode(map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": "Person",
			"preferredUsername": strings.TrimPrefix(r.URL.Path, "/users/"), "inbox": id + "/inbox",
			"publicKey": map[string]any{"id": id + "#main-key", "owner": id, "publicKeyPem": string(pem)},
		})
	}))
	t.Cleanup(k.Close)
	return k
}

func (k *keyServer) actor(name string) string { return k.URL + "/users/" + name }

func (k *keyServer) publish(name string, pub *rsa.PublicKey) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys[name] = pub
}

func (k *keyServer) getsOf(name string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.gets["/users/"+name]
}

func (k *keyServer) totalGets() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, c := range k.gets {
		n += c
	}
	return n
}

// senderService is a Service at https://local.example that may fetch from
// loopback.
// Its clock stands still, so that rate limits do not refill while a
// test runs.
func senderService(t *testing.T, db *storage.DB) *Service {
	s := peersService(t, db, transport.Options{AllowPrivate: true})
	now := time.Now()
	s.clock = func() time.Time { return now }
	return s
}

var likeSeq atomic.Int64

// likeFrom is a Like by actor, signed as keyID with key, as our inbox
// receives it.
func likeFrom(t testing.TB, actor, keyID string, key *rsa.PrivateKey) (*http.Request, []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       fmt.Sprintf("%s/likes/%d", actor, likeSeq.Add(1)), "type": "Like",
		"actor": actor, "object": "https://local.example/posts/1",
	})
	return signedPost(t, body, keyID, key), body
}

func signedPost(t testing.TB, body []byte, keyID string, key *rsa.PrivateKey) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "https://local.example/inbox", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/activity+json")
	if err := httpsig.SignRequest(r, body, keyID, key); err != nil {
		t.Fatal(err)
	}
	return r
}

func newKey(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestForgedSignatureVerifiedOnce: a forged signature naming a known key
// costs one RSA verification, whether its key was just fetched, is
// remembered as a verified signer, or is re-fetched and comes back the
// same (the old code verified two or three times).
func TestForgedSignatureVerifiedOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := senderService(t, db)
		remote := newKeyServer(t)
		real, forger := newKey(t, 2048), newKey(t, 2048)
		remote.publish("a", &real.PublicKey)
		actor, keyID := remote.actor("a"), remote.actor("a")+"#main-key"

		forged := func(what string) {
			t.Helper()
			before := s.sigChecks.Load()
			r, body := likeFrom(t, actor, keyID, forger)
			if _, err := s.ReceiveInbox(ctx, r, body); !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("%s: forged POST: %v, want ErrUnauthorized", what, err)
			}
			if n := s.sigChecks.Load() - before; n != 1 {
				t.Errorf("%s: %d verifications, want 1", what, n)
			}
		}
		forged("key fetched now")
		forged("key fetched a moment ago")

		r, body := likeFrom(t, actor, keyID, real)
		if _, err := s.ReceiveInbox(ctx, r, body); err != nil {
			t.Fatalf("genuine POST: %v", err)
		}
		forged("key of a remembered signer")

		old := time.Now().Add(-time.Hour)
		if err := db.Gorm(ctx).Model(&storage.Actor{}).Where("uri = ?", actor).Update("fetched_at", old).Error; err != nil {
			t.Fatal(err)
		}
		gets := remote.getsOf("a")
		forged("key re-fetched unchanged")
		if remote.getsOf("a") != gets+1 {
			t.Errorf("a stale key was re-fetched %d times, want once", remote.getsOf("a")-gets)
		}
	})
}

// TestOversizedKeysRefused: an actor whose key is outside 2048-8192 bits
// or whose exponent is not 65537 has no usable key; a POST signed with it
// is refused without a verification.
func TestOversizedKeysRefused(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := senderService(t, db)
		remote := newKeyServer(t)
		small := newKey(t, 1024)
		remote.publish("small", &small.PublicKey)
		r, body := likeFrom(t, remote.actor("small"), remote.actor("small")+"#main-key", small)
		if _, err := s.ReceiveInbox(ctx, r, body); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("POST signed with a 1024-bit key: %v, want ErrUnauthorized", err)
		}
		if n := s.sigChecks.Load(); n != 0 {
			t.Errorf("%d verifications with a refused key", n)
		}
	})
}

// TestUnknownKeysBounded: a POST naming a key that cannot be fetched is
// answered from memory the next time; one host's unknown keys are fetched
// at most KeyFetchesPerHost times a minute (then 429 with a Retry-After),
// and at most KeyFetchConcurrency at a time. The old code fetched every
// time, without bound.
func TestUnknownKeysBounded(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := senderService(t, db)
		remote := newKeyServer(t)
		key := newKey(t, 2048)

		post := func(name string) error {
			r, body := likeFrom(t, remote.actor(name), remote.actor(name)+"#main-key", key)
			_, err := s.ReceiveInbox(ctx, r, body)
			return err
		}
		if err := post("ghost"); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("unknown key: %v, want ErrUnauthorized", err)
		}
		if err := post("ghost"); !errors.Is(err, ErrUnauthorized) || !errors.Is(err, errKeyUnavailable) {
			t.Fatalf("unknown key again: %v, want ErrUnauthorized (key unavailable)", err)
		}
		if n := remote.getsOf("ghost"); n != 1 {
			t.Errorf("a key that failed was fetched %d times, want once", n)
		}

		for i := 1; i < KeyFetchesPerHost; i++ {
			if err := post(fmt.Sprintf("ghost%d", i)); !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("unknown key %d: %v", i, err)
			}
		}
		err := post("one-too-many")
		var limited *RateLimited
		if !errors.As(err, &limited) || !errors.Is(err, ErrTooManyAttempts) || limited.RetryAfterSeconds() < 1 {
			t.Fatalf("unknown key past the limit: %v, want RateLimited", err)
		}
		if n := remote.totalGets(); n != KeyFetchesPerHost {
			t.Errorf("%d key fetches from one host, want %d", n, KeyFetchesPerHost)
		}
	})
}

func TestKeyFetchConcurrency(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite)
	s := senderService(t, db)
	s.KeyFetchConcurrency = 2
	var inflight, most atomic.Int64
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		http.NotFound(w, r)
	}))
	defer slow.Close()
	key := newKey(t, 2048)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			actor := fmt.Sprintf("%s/users/u%d", slow.URL, i)
			r, body := likeFrom(t, actor, actor+"#main-key", key)
			s.ReceiveInbox(context.Background(), r, body)
		})
	}
	for inflight.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	// Give any fetch beyond the limit the chance to show itself.
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	if m := most.Load(); m != 2 {
		t.Errorf("%d concurrent key fetches from one host, want at most 2", m)
	}
}

// TestInboxRates: a verified actor may deliver perActor activities, all
// actors of one host perHost, then RateLimited (429 with Retry-After).
// Forged POSTs naming an actor's key do not spend its budget. The old
// code accepted everything.
func TestInboxRates(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := senderService(t, db)
		s.SetInboxRates(3, 5)
		remote := newKeyServer(t)
		keyA, keyB, forger := newKey(t, 2048), newKey(t, 2048), newKey(t, 2048)
		remote.publish("a", &keyA.PublicKey)
		remote.publish("b", &keyB.PublicKey)
		send := func(name string, key *rsa.PrivateKey) error {
			r, body := likeFrom(t, remote.actor(name), remote.actor(name)+"#main-key", key)
			_, err := s.ReceiveInbox(ctx, r, body)
			return err
		}
		limited := func(err error) bool {
			var rl *RateLimited
			return errors.As(err, &rl) && errors.Is(err, ErrTooManyAttempts) && rl.RetryAfterSeconds() >= 1
		}
		for i := range 3 {
			if err := send("a", forger); !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("forged POST %d: %v", i, err)
			}
			if err := send("a", keyA); err != nil {
				t.Fatalf("a's activity %d: %v", i, err)
			}
		}
		if err := send("a", keyA); !limited(err) {
			t.Fatalf("a's 4th activity: %v, want RateLimited", err)
		}
		for i := range 2 {
			if err := send("b", keyB); err != nil {
				t.Fatalf("b's activity %d: %v", i, err)
			}
		}
		if err := send("b", keyB); !limited(err) {
			t.Fatalf("the host's 6th activity: %v, want RateLimited", err)
		}
	})
}

// TestUnchangedActivitiesKeepNoBody: once processed, an activity that
// changed nothing (a Like of an unknown post, an Accept of no follow)
// keeps its id and type but not its body; one that changed something (a
// Follow of a member) keeps it. The old code kept every body for a week.
func TestUnchangedActivitiesKeepNoBody(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := senderService(t, db)
		if _, err := s.CreateAccount(ctx, NewAccount{Username: "bea", Email: "bea@local.example", Password: "correct horse"}); err != nil {
			t.Fatal(err)
		}
		remote := newKeyServer(t)
		key := newKey(t, 2048)
		remote.publish("a", &key.PublicKey)
		actor := remote.actor("a")
		send := func(typ, object string) string {
			id := fmt.Sprintf("%s/%s/%d", actor, strings.ToLower(typ), likeSeq.Add(1))
			body, _ := json.Marshal(map[string]any{
				"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": typ,
				"actor": actor, "object": object, "content": strings.Repeat("padding ", 1000),
			})
			if _, err := s.ReceiveInbox(ctx, signedPost(t, body, actor+"#main-key", key), body); err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			return id
		}
		like := send("Like", "https://local.example/posts/nope")
		accept := send("Accept", actor+"/follows/none")
		follow := send("Follow", s.URLs.Member("bea"))
		rows, err := db.ClaimInboundActivities(ctx, time.Now().Add(time.Second), time.Minute, 10)
		if err != nil || len(rows) != 3 {
			t.Fatalf("claimed %d activities: %v", len(rows), err)
		}
		fin := &finisher{db: db, log: s.Log}
		for i := range rows {
			s.processOne(ctx, &rows[i], time.Second, fin)
		}
		fin.flush()
		for _, tc := range []struct {
			id       string
			keepBody bool
		}{{like, false}, {accept, false}, {follow, true}} {
			a, err := db.GetActivityByURI(ctx, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if a.State == storage.ActivityPending {
				t.Errorf("%s was not processed: %s", a.Type, a.LastError)
			}
			if kept := a.Raw != ""; kept != tc.keepBody || a.Type == "" {
				t.Errorf("%s (%s, %q): body kept = %v, want %v", a.Type, a.State, a.LastError, kept, tc.keepBody)
			}
		}
	})
}
