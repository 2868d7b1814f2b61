package faulttest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/commonplace/commonplace/federation/httpsig"
	"github.com/commonplace/commonplace/storage"
)

// RemoteActor is an account on a stand-in host, with the key it signs with.
type RemoteActor struct {
	Host     *Host
	Username string
	URI      string
	KeyID    string
	Key      *rsa.PrivateKey
	pubPEM   string
}

// Keys generates n RSA keys (2048 bits, as Mastodon uses) in parallel.
// Actors may share keys: verifying costs the same whoever owns the key.
func Keys(n int) ([]*rsa.PrivateKey, error) {
	keys := make([]*rsa.PrivateKey, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = rsa.GenerateKey(rand.Reader, 2048) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// NewActor makes an account named name on host h, signing with key.
func (f *Farm) NewActor(h *Host, name string, key *rsa.PrivateKey) (*RemoteActor, error) {
	pub, err := httpsig.EncodePublicKeyPEM(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	uri := h.URL + "/users/" + name
	a := &RemoteActor{Host: h, Username: name, URI: uri, KeyID: uri + "#main-key", Key: key, pubPEM: string(pub)}
	f.actorsMu.Lock()
	f.actors[uri] = a
	f.actorsMu.Unlock()
	return a, nil
}

// Inbox is the actor's own inbox; SharedInbox its host's.
func (a *RemoteActor) Inbox() string       { return a.URI + "/inbox" }
func (a *RemoteActor) SharedInbox() string { return a.Host.URL + "/inbox" }

// Document is the actor's ActivityPub document.
func (a *RemoteActor) Document() map[string]any {
	return map[string]any{
		"@context": []any{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":       a.URI, "type": "Person", "preferredUsername": a.Username,
		"inbox": a.Inbox(), "outbox": a.URI + "/outbox", "followers": a.URI + "/followers",
		"following": a.URI + "/following",
		"endpoints": map[string]any{"sharedInbox": a.SharedInbox()},
		"publicKey": map[string]any{"id": a.KeyID, "owner": a.URI, "publicKeyPem": a.pubPEM},
	}
}

// Row is the actor as the server caches it after a fetch: storing it
// directly means its key is already cached, as for a known remote actor.
func (a *RemoteActor) Row() storage.Actor {
	now := time.Now().UTC()
	return storage.Actor{
		URI: a.URI, Type: storage.TypePerson, Username: a.Username, Domain: a.Host.Domain,
		URL: a.URI, InboxURI: a.Inbox(), OutboxURI: a.URI + "/outbox", SharedInboxURI: a.SharedInbox(),
		FollowersURI: a.URI + "/followers", FollowingURI: a.URI + "/following",
		KeyID: a.KeyID, PublicKeyPEM: a.pubPEM, FetchedAt: &now, CreatedAt: now, UpdatedAt: now,
	}
}

// Seed stores actors as cached remote actors and, if community is not
// nil, as its accepted members: a community with followers without the
// Follow round trips, in batches.
func Seed(ctx context.Context, db *storage.DB, community *storage.Actor, actors []*RemoteActor) error {
	const batch = 500
	for start := 0; start < len(actors); start += batch {
		chunk := actors[start:min(start+batch, len(actors))]
		rows := make([]storage.Actor, len(chunk))
		for i, a := range chunk {
			rows[i] = a.Row()
		}
		if err := db.Gorm(ctx).Create(&rows).Error; err != nil {
			return fmt.Errorf("seed actors: %w", err)
		}
		if community == nil {
			continue
		}
		now := time.Now().UTC()
		ms := make([]storage.Membership, len(rows))
		for i, r := range rows {
			ms[i] = storage.Membership{
				CommunityActorID: community.ID, MemberActorID: r.ID, State: storage.StateAccepted,
				Role: storage.RoleMember, FollowURI: r.URI + "/follows/1", AcceptedAt: &now, CreatedAt: now, UpdatedAt: now,
			}
		}
		if err := db.Gorm(ctx).Create(&ms).Error; err != nil {
			return fmt.Errorf("seed memberships: %w", err)
		}
	}
	return nil
}

// Create returns a public Create{Note} by a that posts to community (by
// cc and a Mention, as Mastodon users write), replying to inReplyTo if set.
// n makes the ids unique.
func (a *RemoteActor) Create(communityURI, inReplyTo string, n int) (id string, body []byte) {
	noteID := fmt.Sprintf("%s/statuses/%d", a.URI, n)
	note := map[string]any{
		"id": noteID, "type": "Note", "attributedTo": a.URI,
		"to":        []string{"https://www.w3.org/ns/activitystreams#Public"},
		"cc":        []string{a.URI + "/followers", communityURI},
		"content":   fmt.Sprintf("<p>Post %d: what works for us in practice.</p>", n),
		"published": time.Now().UTC().Format(time.RFC3339),
		"tag":       []any{map[string]string{"type": "Mention", "href": communityURI}},
	}
	if inReplyTo != "" {
		note["inReplyTo"] = inReplyTo
	}
	act := map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       noteID + "/activity", "type": "Create", "actor": a.URI,
		"to": note["to"], "cc": note["cc"], "object": note,
	}
	body, _ = json.Marshal(act)
	return noteID + "/activity", body
}

// Request returns a POST of body to inbox signed by a, dated date, as
// Mastodon signs.
func (a *RemoteActor) Request(inbox string, body []byte, date time.Time) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if err := a.Sign(req, body, date); err != nil {
		return nil, err
	}
	return req, nil
}

// Sign sets Date, Digest, Content-Type and Signature on req, signing
// req.Host (set to the URL's host if empty).
func (a *RemoteActor) Sign(req *http.Request, body []byte, date time.Time) error {
	sum := sha256.Sum256(body)
	req.Header.Set("Content-Type", "application/activity+json")
	req.Header.Set("Date", date.UTC().Format(http.TimeFormat))
	req.Header.Set("Digest", "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))
	if req.Host == "" {
		req.Host = req.URL.Host
	}
	signing := strings.Join([]string{
		"(request-target): post " + req.URL.RequestURI(),
		"host: " + req.Host,
		"date: " + req.Header.Get("Date"),
		"digest: " + req.Header.Get("Digest"),
	}, "\n")
	h := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, a.Key, crypto.SHA256, h[:])
	if err != nil {
		return err
	}
	req.Header.Set("Signature", fmt.Sprintf(`keyId="%s",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="%s"`,
		a.KeyID, base64.StdEncoding.EncodeToString(sig)))
	return nil
}
