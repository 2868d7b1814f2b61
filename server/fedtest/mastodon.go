package fedtest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Mastodon is a strict stand-in for one account on a Mastodon server,
// written from what Mastodon's source requires rather than from what
// Commonplace sends: its actor document has Mastodon's shape, and its inbox
// refuses, as Mastodon's SignatureVerification does, any POST that is not
// signed over (request-target), host, date and digest by the key of the
// activity's actor, with a matching Digest and a Date in Mastodon's window.
// Signatures are checked here by hand (signing string, RSA-SHA256), not
// with Commonplace's own httpsig package, so that a bug there cannot hide.
type Mastodon struct {
	t      testing.TB
	srv    *httptest.Server
	key    *rsa.PrivateKey
	Domain string
	User   string
	nextID atomic.Int64

	mu       sync.Mutex
	wfSelf   string // WebFinger self link, if not the actor's id
	actorID  string // id the actor document claims, if not its URL
	icon     string // avatar URL, if any
	received []Received
	refused  []string
	notes    map[string][]byte
	keys     map[string]*rsa.PublicKey
}

// Received is one activity the stand-in accepted.
type Received struct {
	Type string
	Raw  []byte
	Doc  map[string]any
	// Boost, for an Announce, is the status it boosts as the stand-in
	// fetched it; BoostErr says why Mastodon could not show it.
	Boost    map[string]any
	BoostErr error
}

// NewMastodon starts the stand-in with one account, "alice". Its NodeInfo
// names Mastodon.
func NewMastodon(t testing.TB) *Mastodon {
	t.Helper()
	return newMastodon(t, "mastodon")
}

// NewUnknownServer starts the same stand-in without NodeInfo: a server
// whose software Commonplace cannot learn.
func NewUnknownServer(t testing.TB) *Mastodon {
	t.Helper()
	return newMastodon(t, "")
}

func newMastodon(t testing.TB, software string) *Mastodon {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	m := &Mastodon{t: t, key: key, User: "alice", notes: map[string][]byte{}, keys: map[string]*rsa.PublicKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/webfinger", m.webfinger)
	if software != "" {
		ServeNodeInfo(mux, software, "4.3.0")
	}
	mux.HandleFunc("GET /users/alice", m.actor)
	mux.HandleFunc("GET /users/alice/statuses/{id}", m.note)
	mux.HandleFunc("GET /users/alice/{collection}", m.emptyCollection)
	mux.HandleFunc("POST /inbox", m.inbox)
	mux.HandleFunc("POST /users/alice/inbox", m.inbox)
	m.srv = httptest.NewServer(mux)
	t.Cleanup(m.srv.Close)
	m.Domain = strings.TrimPrefix(m.srv.URL, "http://")
	return m
}

// ActorURI is alice's actor id.
func (m *Mastodon) ActorURI() string { return m.srv.URL + "/users/alice" }

// Handle is alice@domain.
func (m *Mastodon) Handle() string { return "alice@" + m.Domain }

func (m *Mastodon) webfinger(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("resource") != "acct:alice@"+m.Domain {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/jrd+json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{
		"subject": "acct:alice@" + m.Domain,
		"aliases": []string{m.srv.URL + "/@alice", m.ActorURI()},
		"links": []map[string]string{
			{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": m.srv.URL + "/@alice"},
			{"rel": "self", "type": "application/activity+json", "href": m.wfSelfLink()},
		},
	})
}

func (m *Mastodon) wfSelfLink() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.wfSelf != "" {
		return m.wfSelf
	}
	return m.ActorURI()
}

// SetWebFingerSelf makes WebFinger point at href instead of the actor.
func (m *Mastodon) SetWebFingerSelf(href string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.wfSelf = href
}

// SetActorID makes the actor document claim id instead of its own URL.
func (m *Mastodon) SetActorID(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.actorID = id
}

// SetIcon gives alice an avatar at u, published as Mastodon does.
func (m *Mastodon) SetIcon(u string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.icon = u
}

// RotateKey replaces alice's key pair, as an account migration or a key
// compromise would.
func (m *Mastodon) RotateKey() {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		m.t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.key = key
}

func (m *Mastodon) actor(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	der, _ := x509.MarshalPKIXPublicKey(&m.key.PublicKey)
	claimed, icon := m.actorID, m.icon
	m.mu.Unlock()
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	u := m.ActorURI()
	if claimed == "" {
		claimed = u
	}
	doc := map[string]any{
		"@context": []any{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1",
			map[string]any{"manuallyApprovesFollowers": "as:manuallyApprovesFollowers", "toot": "http://joinmastodon.org/ns#",
				"featured": map[string]string{"@id": "toot:featured", "@type": "@id"}, "discoverable": "toot:discoverable"}},
		"id": claimed, "type": "Person", "following": u + "/following", "followers": u + "/followers",
		"inbox": u + "/inbox", "outbox": u + "/outbox", "featured": u + "/collections/featured",
		"featuredTags": u + "/collections/tags", "preferredUsername": "alice", "name": "Alice",
		"summary": "<p>Nurse.</p>", "url": m.srv.URL + "/@alice", "manuallyApprovesFollowers": false,
		"discoverable": true, "indexable": true, "published": "2024-01-01T00:00:00Z", "memorial": false,
		"publicKey": map[string]any{"id": u + "#main-key", "owner": u, "publicKeyPem": pemText},
		"tag":       []any{}, "attachment": []any{},
		"endpoints": map[string]any{"sharedInbox": m.srv.URL + "/inbox"},
	}
	if icon != "" {
		doc["icon"] = map[string]any{"type": "Image", "mediaType": "image/jpeg", "url": icon}
	}
	writeAP(w, doc)
}

func (m *Mastodon) note(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	body, ok := m.notes[r.PathValue("id")]
	m.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/activity+json; charset=utf-8")
	w.Write(body)
}

func (m *Mastodon) emptyCollection(w http.ResponseWriter, r *http.Request) {
	writeAP(w, map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": m.ActorURI() + "/" + r.PathValue("collection"), "type": "OrderedCollection", "totalItems": 0})
}

func writeAP(w http.ResponseWriter, doc any) {
	w.Header().Set("Content-Type", "application/activity+json; charset=utf-8")
	json.NewEncoder(w).Encode(doc)
}

// Mastodon's window: up to 12 hours old (EXPIRATION_WINDOW_LIMIT), up to
// an hour in the future (CLOCK_SKEW_MARGIN).
const (
	mastodonMaxAge    = 12 * time.Hour
	mastodonMaxFuture = time.Hour
)

// inbox accepts a delivery only if Mastodon would.
func (m *Mastodon) inbox(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = m.verify(r, body)
	}
	if err != nil {
		m.mu.Lock()
		m.refused = append(m.refused, err.Error())
		m.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	typ, _ := doc["type"].(string)
	got := Received{Type: typ, Raw: body, Doc: doc}
	if typ == "Announce" {
		// Mastodon treats every Announce as a boost of its object and
		// fetches that (ActivityPub::Activity::Announce); done here before
		// answering, so a test sees the verdict with the activity.
		got.Boost, got.BoostErr = m.RenderBoost(got)
	}
	m.mu.Lock()
	m.received = append(m.received, got)
	m.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// BoostFailures lists the Announces Mastodon could not show as boosts
// (of an activity, of something not a status, of a status it cannot
// fetch), with the reason.
func (m *Mastodon) BoostFailures() []string {
	var out []string
	for _, r := range m.Received() {
		if r.Type == "Announce" && r.BoostErr != nil {
			out = append(out, fmt.Sprintf("%v: %v", r.Doc["id"], r.BoostErr))
		}
	}
	return out
}

func (m *Mastodon) verify(r *http.Request, body []byte) error {
	return VerifyLikeMastodon(r, body, FetchActorKey(http.DefaultClient))
}

// KeyFunc finds the public key keyID names and the id of the actor who
// owns it.
type KeyFunc func(ctx context.Context, keyID string) (*rsa.PublicKey, string, error)

// VerifyLikeMastodon is Mastodon's SignatureVerification, reduced to what
// matters, for stand-in servers: (request-target), host, date and (for a
// POST) digest signed; Digest matching body; Date in Mastodon's window;
// the key belonging to the activity's actor; a valid RSA-SHA256 signature.
// A GET (a signed fetch) has no body and no activity to match. It is
// written from Mastodon's rules, not with Commonplace's httpsig package,
// so that a bug there cannot hide.
func VerifyLikeMastodon(r *http.Request, body []byte, keys KeyFunc) error {
	raw := r.Header.Get("Signature")
	if raw == "" {
		return errors.New("Request not signed")
	}
	params := map[string]string{}
	for _, part := range splitParams(raw) {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return errors.New("Incompatible request signature")
		}
		params[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	if params["keyId"] == "" || params["signature"] == "" {
		return errors.New("Incompatible request signature. keyId and signature are required")
	}
	if a := params["algorithm"]; a != "" && a != "rsa-sha256" && a != "hs2019" {
		return fmt.Errorf("Unsupported signature algorithm %q", a)
	}
	headers := strings.Fields(strings.ToLower(params["headers"]))
	if len(headers) == 0 {
		headers = []string{"date"}
	}
	has := func(h string) bool {
		for _, x := range headers {
			if x == h {
				return true
			}
		}
		return false
	}
	if !has("(request-target)") {
		return errors.New("Mastodon requires the (request-target) pseudo-header to be signed")
	}
	if !has("date") && !has("(created)") {
		return errors.New("Mastodon requires the Date header or (created) pseudo-header to be signed")
	}
	post := r.Method == http.MethodPost
	if post && !has("digest") {
		return errors.New("Mastodon requires the Digest header to be signed when doing a POST request")
	}
	if !has("host") {
		return errors.New("Mastodon requires the Host header to be signed")
	}
	date, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil {
		return errors.New("Invalid Date header")
	}
	if age := time.Since(date); age > mastodonMaxAge || age < -mastodonMaxFuture {
		return errors.New("Signed request date outside acceptable time window")
	}
	sum := sha256.Sum256(body)
	want := "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
	found := !post
	for _, d := range strings.Split(r.Header.Get("Digest"), ",") {
		algo, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		if strings.EqualFold(algo, "sha-256") {
			if "SHA-256="+val != want {
				return errors.New("Invalid Digest value")
			}
			found = true
		}
	}
	if !found {
		return errors.New("Mastodon only supports SHA-256 in Digest header")
	}
	var lines []string
	for _, h := range headers {
		switch h {
		case "(request-target)":
			lines = append(lines, "(request-target): "+strings.ToLower(r.Method)+" "+r.URL.RequestURI())
		case "host":
			lines = append(lines, "host: "+r.Host)
		default:
			lines = append(lines, h+": "+strings.Join(r.Header.Values(h), ", "))
		}
	}
	sig, err := base64.StdEncoding.DecodeString(params["signature"])
	if err != nil {
		return errors.New("Invalid signature encoding")
	}
	var act struct {
		Actor string `json:"actor"`
	}
	if err := json.Unmarshal(body, &act); post && err != nil {
		return errors.New("Invalid JSON")
	}
	pub, owner, err := keys(r.Context(), params["keyId"])
	if err != nil {
		return err
	}
	if post && owner != act.Actor {
		return fmt.Errorf("signed by %s, but the activity's actor is %s", owner, act.Actor)
	}
	digest := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		return errors.New("Verification failed")
	}
	return nil
}

func splitParams(s string) []string {
	var out []string
	var cur strings.Builder
	inQuote := false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
			cur.WriteRune(r)
		case r == ',' && !inQuote:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	return append(out, cur.String())
}

// FetchActorKey is a KeyFunc that fetches the signer's actor document with
// client, as Mastodon does.
func FetchActorKey(client *http.Client) KeyFunc {
	return func(ctx context.Context, keyID string) (*rsa.PublicKey, string, error) {
		return fetchActorKey(ctx, client, keyID)
	}
}

func fetchActorKey(ctx context.Context, client *http.Client, keyID string) (*rsa.PublicKey, string, error) {
	actorURL, _, _ := strings.Cut(keyID, "#")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, actorURL, nil)
	if err != nil {
		return nil, "", fmt.Errorf("key id %q: %w", keyID, err)
	}
	req.Header.Set("Accept", "application/activity+json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("fetch key: %w", err)
	}
	defer resp.Body.Close()
	var doc struct {
		ID        string `json:"id"`
		PublicKey struct {
			ID           string `json:"id"`
			Owner        string `json:"owner"`
			PublicKeyPem string `json:"publicKeyPem"`
		} `json:"publicKey"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&doc) != nil {
		return nil, "", fmt.Errorf("fetch key %s: status %d", keyID, resp.StatusCode)
	}
	if doc.PublicKey.ID != keyID || doc.PublicKey.Owner != doc.ID || doc.ID != actorURL {
		return nil, "", fmt.Errorf("key %s does not belong to %s", keyID, doc.ID)
	}
	block, _ := pem.Decode([]byte(doc.PublicKey.PublicKeyPem))
	if block == nil {
		return nil, "", errors.New("key PEM does not parse")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	rk, ok := k.(*rsa.PublicKey)
	if err != nil || !ok {
		return nil, "", errors.New("key is not RSA")
	}
	return rk, doc.ID, nil
}

// Send delivers activity (a JSON document) to inbox, signed as Mastodon
// signs, and returns the status code.
func (m *Mastodon) Send(inbox string, activity any) int {
	m.t.Helper()
	body, err := json.Marshal(activity)
	if err != nil {
		m.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(body))
	if err != nil {
		m.t.Fatal(err)
	}
	m.Sign(req, body, time.Now())
	return m.Do(req)
}

// Do sends a prepared request and returns the status code.
func (m *Mastodon) Do(req *http.Request) int {
	m.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// Sign signs req (whose body is body) as Mastodon's HTTP signature code
// does, dated at date.
func (m *Mastodon) Sign(req *http.Request, body []byte, date time.Time) {
	m.mu.Lock()
	key := m.key
	m.mu.Unlock()
	SignAs(m.t, req, body, date, m.ActorURI()+"#main-key", key)
}

// SignGet signs a fetch as Mastodon does: (request-target), host, date.
func (m *Mastodon) SignGet(req *http.Request, date time.Time) {
	m.mu.Lock()
	key := m.key
	m.mu.Unlock()
	req.Header.Set("Date", date.UTC().Format(http.TimeFormat))
	signing := "(request-target): get " + req.URL.RequestURI() + "\nhost: " + req.URL.Host + "\ndate: " + req.Header.Get("Date")
	h := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		m.t.Error(err)
		return
	}
	req.Header.Set("Signature", fmt.Sprintf(`keyId="%s#main-key",algorithm="rsa-sha256",headers="(request-target) host date",signature="%s"`,
		m.ActorURI(), base64.StdEncoding.EncodeToString(sig)))
}

// SignAs signs a POST the way Mastodon does, with key as keyID.
func SignAs(t testing.TB, req *http.Request, body []byte, date time.Time, keyID string, key *rsa.PrivateKey) {
	sum := sha256.Sum256(body)
	req.Header.Set("Content-Type", "application/activity+json")
	req.Header.Set("Date", date.UTC().Format(http.TimeFormat))
	req.Header.Set("Digest", "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))
	req.Header.Set("Host", req.URL.Host)
	signing := strings.Join([]string{
		"(request-target): post " + req.URL.RequestURI(),
		"host: " + req.URL.Host,
		"date: " + req.Header.Get("Date"),
		"digest: " + req.Header.Get("Digest"),
		"content-type: " + req.Header.Get("Content-Type"),
	}, "\n")
	h := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Signature", fmt.Sprintf(`keyId="%s",algorithm="rsa-sha256",headers="(request-target) host date digest content-type",signature="%s"`,
		keyID, base64.StdEncoding.EncodeToString(sig)))
}

// NewID mints an id on the stand-in's host.
func (m *Mastodon) NewID(kind string) string {
	return fmt.Sprintf("%s/%s/%d", m.ActorURI(), kind, m.nextID.Add(1))
}

// Follow asks to follow actorURI and returns the Follow's id.
func (m *Mastodon) Follow(actorURI, inbox string) (string, int) {
	id := m.srv.URL + "/" + fmt.Sprintf("follows/%d", m.nextID.Add(1))
	code := m.Send(inbox, map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       id, "type": "Follow", "actor": m.ActorURI(), "object": actorURI,
	})
	return id, code
}

// PostToGroup writes a public status that mentions the group, the way a
// Mastodon user posts to one, and delivers it to the group's inbox. It
// returns the Note's id and the status code.
func (m *Mastodon) PostToGroup(groupURI, groupHandle, inbox, text string) (string, int) {
	return m.PostToGroupWith(groupURI, groupHandle, inbox, text, []any{})
}

// PostToGroupWith is PostToGroup with attachments, each a JSON object as
// Mastodon writes one (type Document, mediaType, url, name, blurhash,
// focalPoint, width, height).
func (m *Mastodon) PostToGroupWith(groupURI, groupHandle, inbox, text string, attachments []any) (string, int) {
	n := m.nextID.Add(1)
	noteID := fmt.Sprintf("%s/statuses/%d", m.ActorURI(), n)
	user, _, _ := strings.Cut(groupHandle, "@")
	content := fmt.Sprintf(`<p><span class="h-card" translate="no"><a href="%s" class="u-url mention">@<span>%s</span></a></span> %s</p>`, groupURI, user, text)
	note := map[string]any{
		"id": noteID, "type": "Note", "summary": nil, "inReplyTo": nil,
		"published": time.Now().UTC().Format(time.RFC3339), "url": m.srv.URL + fmt.Sprintf("/@alice/%d", n),
		"attributedTo": m.ActorURI(),
		"to":           []string{"https://www.w3.org/ns/activitystreams#Public"},
		"cc":           []string{m.ActorURI() + "/followers", groupURI},
		"sensitive":    false, "atomUri": noteID, "inReplyToAtomUri": nil,
		"conversation": fmt.Sprintf("tag:%s,2026-11-23:objectId=%d:objectType=Conversation", m.Domain, n),
		"content":      content, "contentMap": map[string]string{"en": content},
		"attachment": attachments,
		"tag":        []any{map[string]string{"type": "Mention", "href": groupURI, "name": "@" + groupHandle}},
		"replies": map[string]any{"id": noteID + "/replies", "type": "Collection",
			"first": map[string]any{"type": "CollectionPage", "next": noteID + "/replies?only_other_accounts=true&page=true", "partOf": noteID + "/replies", "items": []any{}}},
	}
	noteBody, _ := json.Marshal(withContext(note))
	m.mu.Lock()
	m.notes[fmt.Sprint(n)] = noteBody
	m.mu.Unlock()
	create := withContext(map[string]any{
		"id": noteID + "/activity", "type": "Create", "actor": m.ActorURI(),
		"published": note["published"], "to": note["to"], "cc": note["cc"], "object": note,
	})
	return noteID, m.Send(inbox, create)
}

func withContext(doc map[string]any) map[string]any {
	out := map[string]any{"@context": []any{"https://www.w3.org/ns/activitystreams",
		map[string]any{"ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri", "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
			"conversation": "ostatus:conversation", "sensitive": "as:sensitive", "toot": "http://joinmastodon.org/ns#"}}}
	for k, v := range doc {
		out[k] = v
	}
	return out
}

// Received returns what the inbox accepted so far.
func (m *Mastodon) Received() []Received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Received(nil), m.received...)
}

// Refused returns the reasons of refused deliveries.
func (m *Mastodon) Refused() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.refused...)
}

// WaitFor waits until the inbox has accepted an activity for which match
// is true, and returns it.
func (m *Mastodon) WaitFor(what string, match func(Received) bool) Received {
	m.t.Helper()
	var got Received
	Eventually(m.t, what, func() (bool, error) {
		for _, r := range m.Received() {
			if match(r) {
				got = r
				return true, nil
			}
		}
		return false, nil
	})
	return got
}

// RenderBoost does what Mastodon does with an Announce from an account it
// follows: it takes the object's id (of an embedded object too), fetches
// it from its origin, signed, and checks that it could show it as a boost.
// It returns the fetched status.
func (m *Mastodon) RenderBoost(announce Received) (map[string]any, error) {
	var objectID string
	switch o := announce.Doc["object"].(type) {
	case string:
		objectID = o
	case map[string]any:
		objectID, _ = o["id"].(string)
	}
	if objectID == "" {
		return nil, errors.New("Announce has no object id")
	}
	if !addressedPublic(announce.Doc) {
		return nil, errors.New("Announce is not public: Mastodon would not show the boost")
	}
	req, _ := http.NewRequest(http.MethodGet, objectID, nil)
	req.Header.Set("Accept", `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`)
	m.SignGet(req, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: %d", objectID, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/activity+json") && !strings.HasPrefix(ct, "application/ld+json") {
		return nil, fmt.Errorf("fetch %s: content type %q", objectID, ct)
	}
	var note map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&note); err != nil {
		return nil, err
	}
	if note["id"] != objectID {
		return nil, fmt.Errorf("status id %v is not the URL it came from", note["id"])
	}
	switch note["type"] {
	case "Note", "Article", "Page", "Question":
	default:
		return nil, fmt.Errorf("%s is a %v, not a status: Mastodon cannot boost it", objectID, note["type"])
	}
	author, _ := note["attributedTo"].(string)
	if author == "" || hostOf(author) != hostOf(objectID) {
		return nil, fmt.Errorf("attributedTo %v is not on the status's host", note["attributedTo"])
	}
	if c, _ := note["content"].(string); c == "" {
		return nil, errors.New("status has no content")
	}
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(note["published"])); err != nil {
		return nil, fmt.Errorf("published %v: %v", note["published"], err)
	}
	if !addressedPublic(note) {
		return nil, errors.New("status is not public: Mastodon refuses to show a boost of it")
	}
	return note, nil
}

func addressedPublic(doc map[string]any) bool {
	for _, field := range []string{"to", "cc"} {
		switch v := doc[field].(type) {
		case string:
			if v == "https://www.w3.org/ns/activitystreams#Public" {
				return true
			}
		case []any:
			for _, x := range v {
				if x == "https://www.w3.org/ns/activitystreams#Public" {
					return true
				}
			}
		}
	}
	return false
}

func hostOf(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	h, _, _ := strings.Cut(u, "/")
	return h
}
