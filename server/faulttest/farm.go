// Package faulttest holds what the fault tests and the load harness
// (cmd/commonplace-bench) share: a farm of stand-in remote servers on
// loopback that verify every signature they receive and count what they
// accept, remote actors with keys to sign with, seeding of followers
// straight into the database, and control of a real commonplace process
// (start, SIGKILL, restart, memory).
//
// The stand-ins check signatures by hand (signing string, RSA-SHA256,
// Digest, Date window, key owner = actor), not with Commonplace's own
// httpsig package, so that a bug there cannot hide and a benchmark cannot
// pass by skipping work.
package faulttest

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/commonplace/commonplace/server/fedtest"
)

// Reply is how a stand-in answers one inbox POST. The zero Reply is 202.
type Reply struct {
	Status     int           // 0 means 202
	RetryAfter string        // Retry-After header, if any
	Delay      time.Duration // wait before answering (a slow or hung server)
}

// Host is one stand-in remote server with a shared inbox at /inbox.
type Host struct {
	farm   *Farm
	Index  int
	Domain string // 127.0.0.1:port
	URL    string // http://127.0.0.1:port

	// Respond, if set, chooses the answer to the n-th inbox request
	// (counted from 0, before verification). It is read under the lock.
	Respond func(n int) Reply
	// Software, if set, is the name the host's NodeInfo gives ("mastodon",
	// "lemmy"); without it the host has no NodeInfo. Set it before the
	// server asks.
	Software string

	mu       sync.Mutex
	srv      *http.Server
	requests int
	times    []time.Time    // arrival of each inbox request
	got      map[string]int // activity id -> times accepted
	types    map[string]string
	forms    map[string]string // Announce id -> FormObject or FormActivity
	refused  []string
	down     bool
}

// Farm is a set of stand-in hosts sharing one cache of the sender's keys
// (each key is fetched from its actor document once; a real server would
// cache it too).
type Farm struct {
	Hosts []*Host

	keysMu sync.Mutex
	keys   map[string]*keyEntry
	client *http.Client

	actorsMu sync.Mutex
	actors   map[string]*RemoteActor // by URI

	// Counters over all hosts.
	Requests atomic.Int64 // inbox POSTs received
	Verified atomic.Int64 // signatures verified
	Accepted atomic.Int64 // POSTs answered 2xx
	Refused  atomic.Int64 // POSTs refused for a bad signature
	lastAck  atomic.Int64 // unix nanos of the latest 2xx
	// Announces accepted, by form, and when the latest of each arrived.
	Boosts            atomic.Int64 // Announce of an object id (Mastodon's form)
	ActivityAnnounces atomic.Int64 // Announce of an activity (FEP-1b12)
	lastBoost         atomic.Int64
	lastActivity      atomic.Int64
}

// The forms of a community's Announce.
const (
	FormObject   = "object"   // of a post's id: the boost Mastodon shows
	FormActivity = "activity" // of the activity, FEP-1b12
)

// LastBoost and LastActivityAnnounce are when a host last accepted an
// Announce of each form.
func (f *Farm) LastBoost() time.Time { return time.Unix(0, f.lastBoost.Load()) }
func (f *Farm) LastActivityAnnounce() time.Time {
	return time.Unix(0, f.lastActivity.Load())
}

type keyEntry struct {
	done  chan struct{}
	pub   *rsa.PublicKey
	owner string
	err   error
}

// NewFarm starts n stand-in hosts on 127.0.0.1. Close stops them.
func NewFarm(n int) (*Farm, error) {
	f := &Farm{
		keys:   map[string]*keyEntry{},
		actors: map[string]*RemoteActor{},
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second,
		}},
	}
	for i := range n {
		h := &Host{farm: f, Index: i, got: map[string]int{}, types: map[string]string{}, forms: map[string]string{}}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("stand-in host %d: %w", i, err)
		}
		h.Domain = ln.Addr().String()
		h.URL = "http://" + h.Domain
		h.serve(ln)
		f.Hosts = append(f.Hosts, h)
	}
	return f, nil
}

// Close stops every host.
func (f *Farm) Close() {
	for _, h := range f.Hosts {
		h.mu.Lock()
		if h.srv != nil {
			h.srv.Close()
		}
		h.down = true
		h.mu.Unlock()
	}
	f.client.CloseIdleConnections()
}

// LastAck is when a host last answered an inbox POST with 2xx.
func (f *Farm) LastAck() time.Time { return time.Unix(0, f.lastAck.Load()) }

func (h *Host) serve(ln net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /inbox", h.inbox)
	mux.HandleFunc("POST /users/{name}/inbox", h.inbox)
	mux.HandleFunc("GET /users/{name}", h.actor)
	mux.HandleFunc("GET /.well-known/nodeinfo", h.nodeInfo)
	mux.HandleFunc("GET /nodeinfo/2.0", h.nodeInfo)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	h.srv = srv
	go srv.Serve(ln)
}

// Down closes the host's listener and its connections: connections to it
// are refused until Up.
func (h *Host) Down() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down {
		return
	}
	h.down = true
	h.srv.Close()
}

// Up listens again on the host's address.
func (h *Host) Up() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down {
		return nil
	}
	ln, err := net.Listen("tcp", h.Domain)
	if err != nil {
		return err
	}
	h.down = false
	h.serve(ln)
	return nil
}

// Requests is the number of inbox POSTs the host received.
func (h *Host) Requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests
}

// Times returns when each inbox POST arrived.
func (h *Host) Times() []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Time(nil), h.times...)
}

// Got returns how many times the host accepted each activity id.
func (h *Host) Got() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.got))
	for k, v := range h.got {
		out[k] = v
	}
	return out
}

// GotType returns how many distinct activities of type typ the host
// accepted, and how many deliveries of them in all.
func (h *Host) GotType(typ string) (distinct, total int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, n := range h.got {
		if h.types[id] == typ {
			distinct++
			total += n
		}
	}
	return distinct, total
}

// Refused returns the reasons of refused POSTs.
func (h *Host) Refused() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.refused...)
}

func (h *Host) inbox(w http.ResponseWriter, r *http.Request) {
	h.farm.Requests.Add(1)
	h.mu.Lock()
	n := h.requests
	h.requests++
	h.times = append(h.times, time.Now())
	var reply Reply
	if h.Respond != nil {
		reply = h.Respond(n)
	}
	h.mu.Unlock()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var act activityHead
	if err == nil {
		act, err = h.farm.verify(r, body)
	}
	if err != nil {
		h.farm.Refused.Add(1)
		h.mu.Lock()
		h.refused = append(h.refused, err.Error())
		h.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	h.farm.Verified.Add(1)
	if reply.Delay > 0 {
		select {
		case <-time.After(reply.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if reply.Status != 0 && reply.Status/100 != 2 {
		if reply.RetryAfter != "" {
			w.Header().Set("Retry-After", reply.RetryAfter)
		}
		w.WriteHeader(reply.Status)
		return
	}
	if r.Context().Err() != nil {
		return // the sender gave up: it will not count this as delivered
	}
	form := act.form()
	h.mu.Lock()
	h.got[act.ID]++
	h.types[act.ID] = act.Type
	if form != "" {
		h.forms[act.ID] = form
	}
	h.mu.Unlock()
	now := time.Now().UnixNano()
	switch form {
	case FormObject:
		h.farm.Boosts.Add(1)
		h.farm.lastBoost.Store(now)
	case FormActivity:
		h.farm.ActivityAnnounces.Add(1)
		h.farm.lastActivity.Store(now)
	}
	h.farm.Accepted.Add(1)
	h.farm.lastAck.Store(now)
	w.WriteHeader(http.StatusAccepted)
}

// GotForm returns how many distinct Announces of form the host accepted.
func (h *Host) GotForm(form string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, f := range h.forms {
		if f == form {
			n++
		}
	}
	return n
}

// nodeInfo serves the discovery document and NodeInfo 2.0 naming the
// host's Software, or 404 without one.
func (h *Host) nodeInfo(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	software := h.Software
	h.mu.Unlock()
	if software == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/.well-known/nodeinfo" {
		json.NewEncoder(w).Encode(map[string]any{"links": []map[string]string{
			{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": h.URL + "/nodeinfo/2.0"}}})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"version": "2.0", "software": map[string]string{"name": software, "version": "1.0"},
		"protocols": []string{"activitypub"}, "usage": map[string]any{"users": map[string]int{}}, "openRegistrations": false})
}

// actor serves a minimal actor document for users seeded on this host, so
// that a server that does fetch one finds it consistent.
func (h *Host) actor(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	a, ok := h.farm.actorByURI(h.URL + "/users/" + name)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/activity+json")
	json.NewEncoder(w).Encode(a.Document())
}

type activityHead struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Actor  string          `json:"actor"`
	Object json.RawMessage `json:"object"`
}

// form is the form of an Announce: of an id or an embedded object (a
// boost), or of an embedded activity. It is "" for other activities.
func (a activityHead) form() string {
	if a.Type != "Announce" {
		return ""
	}
	var inner struct {
		Type  string `json:"type"`
		Actor any    `json:"actor"`
	}
	if json.Unmarshal(a.Object, &inner) == nil && inner.Actor != nil {
		return FormActivity
	}
	return FormObject
}

// Mastodon's window: up to 12 hours old, up to an hour in the future.
const (
	maxAge    = 12 * time.Hour
	maxFuture = time.Hour
)

// verify checks a POST as Mastodon does (fedtest.VerifyLikeMastodon),
// with the signers' keys cached, and reads the activity's head.
func (f *Farm) verify(r *http.Request, body []byte) (activityHead, error) {
	var act activityHead
	if err := fedtest.VerifyLikeMastodon(r, body, f.key); err != nil {
		return act, err
	}
	if err := json.Unmarshal(body, &act); err != nil || act.ID == "" {
		return act, errors.New("body is not an activity")
	}
	return act, nil
}

// key returns the public key keyID names and its owner, fetching the
// owner's document once. A failed fetch is not cached.
func (f *Farm) key(ctx context.Context, keyID string) (*rsa.PublicKey, string, error) {
	f.keysMu.Lock()
	e, ok := f.keys[keyID]
	if !ok {
		e = &keyEntry{done: make(chan struct{})}
		f.keys[keyID] = e
		f.keysMu.Unlock()
		e.pub, e.owner, e.err = f.fetchKey(ctx, keyID)
		close(e.done)
		if e.err != nil {
			f.keysMu.Lock()
			delete(f.keys, keyID)
			f.keysMu.Unlock()
		}
		return e.pub, e.owner, e.err
	}
	f.keysMu.Unlock()
	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	return e.pub, e.owner, e.err
}

func (f *Farm) fetchKey(ctx context.Context, keyID string) (*rsa.PublicKey, string, error) {
	return fedtest.FetchActorKey(f.client)(ctx, keyID)
}

func (f *Farm) actorByURI(uri string) (*RemoteActor, bool) {
	f.actorsMu.Lock()
	defer f.actorsMu.Unlock()
	a, ok := f.actors[uri]
	return a, ok
}
