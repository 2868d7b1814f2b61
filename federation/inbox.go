package federation

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/commonplace/commonplace/federation/httpsig"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Activity types this instance acts on. Others known to the fediverse are
// accepted and dropped; types nobody defines are refused.
var handledTypes = map[string]bool{
	"Follow": true, "Undo": true, "Accept": true, "Reject": true,
	"Create": true, "Update": true, "Delete": true, "Like": true, "Announce": true,
	"Add": true, "Remove": true, "Block": true, "Lock": true, "Flag": true,
}

var ignoredTypes = map[string]bool{
	"Move":    true,
	"Dislike": true, "EmojiReact": true, "View": true, "Read": true,
	"Listen": true, "Join": true, "Leave": true, "Invite": true, "TentativeAccept": true,
	"TentativeReject": true, "Arrive": true, "Travel": true, "Question": true, "Offer": true,
	"QuoteRequest": true,
}

// InboxResult tells the HTTP layer what became of a delivery.
type InboxResult int

const (
	// Queued: stored for processing.
	Queued InboxResult = iota
	// Duplicate: the same activity id was accepted before.
	Duplicate
	// Ignored: verified but of no interest; nothing stored.
	Ignored
)

// ReceiveInbox checks an inbox POST and queues its activity: parse, verify
// the signature (re-fetching the key once if it fails), check that the key's
// owner is the activity's actor and that ids belong to the actor's host,
// then persist. Processing happens later, from the queue. body is the
// request body, already bounded by the caller; r.Body must read the same
// bytes.
func (s *Service) ReceiveInbox(ctx context.Context, r *http.Request, body []byte) (InboxResult, error) {
	act, err := vocab.ParseActivity(body)
	if err != nil {
		return 0, fmt.Errorf("%w: not a valid activity: %v", ErrInvalid, err)
	}
	ver, err := httpsig.Options{MaxBodyBytes: int64(len(body)) + 1, Origin: s.URLs.Base}.Parse(r)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrUnauthorized, err)
	}
	// Federation policy before any other work: a refused server is not
	// even asked for its key.
	if err := s.checkSender(ctx, ver.KeyID(), string(act.Actor)); err != nil {
		return 0, err
	}
	signer, err := s.verifySignature(ctx, ver)
	if err != nil {
		// A deleted account announces its own deletion, and its key can no
		// longer be fetched: nothing to do, as Mastodon does.
		if act.Type == "Delete" && act.Object.ID() == string(act.Actor) && errors.Is(err, errKeyUnavailable) {
			return Ignored, nil
		}
		return 0, err
	}
	if !handledTypes[act.Type] && !ignoredTypes[act.Type] {
		return 0, fmt.Errorf("%w: unsupported activity type %q", ErrInvalid, act.Type)
	}
	if signer.URI != string(act.Actor) {
		return 0, fmt.Errorf("%w: signed by %s but the activity's actor is %s", ErrUnauthorized, signer.URI, act.Actor)
	}
	if err := s.inboxRates.allow(signer.URI, s.now()); err != nil {
		return 0, err
	}
	if signer.Local {
		// Our own actors act through the service, never through the
		// inbox: a request signed with a local key is a replay.
		return 0, fmt.Errorf("%w: local actors do not deliver to this inbox", ErrForbidden)
	}
	if !sameHost(act.ID, signer.URI) {
		return 0, fmt.Errorf("%w: activity id %s is not on the actor's host", ErrForbidden, act.ID)
	}
	if err := checkEmbedded(act); err != nil {
		return 0, err
	}
	if ignoredTypes[act.Type] {
		return Ignored, nil
	}
	fresh, err := s.DB.PutInboundActivity(ctx, &storage.Activity{
		URI: act.ID, Type: act.Type, ActorURI: string(act.Actor), ObjectURI: act.Object.ID(), Raw: string(body),
	})
	if err != nil {
		return 0, err
	}
	if !fresh {
		return Duplicate, nil
	}
	s.wakeInbox()
	return Queued, nil
}

// checkEmbedded applies the origin rule to objects carried inside a Create
// or Update: the sender may only speak for objects on its own host and
// attributed to itself. (Announce carries others' objects by design; those
// are fetched from their origin when processed.)
func checkEmbedded(act *vocab.Activity) error {
	if act.Type != "Create" && act.Type != "Update" || !act.Object.IsEmbedded() {
		return nil
	}
	id := act.Object.ID()
	if !sameHost(id, string(act.Actor)) {
		return fmt.Errorf("%w: %s carries object %s from another host", ErrForbidden, act.Type, id)
	}
	if vocab.IsActorType(act.Object.Type()) {
		if id != string(act.Actor) {
			return fmt.Errorf("%w: %s may not update actor %s", ErrForbidden, act.Actor, id)
		}
		return nil
	}
	obj, err := act.Object.Object()
	if err != nil {
		return fmt.Errorf("%w: embedded object: %v", ErrInvalid, err)
	}
	if author := obj.AttributedTo.ID(); author != string(act.Actor) {
		return fmt.Errorf("%w: object %s is attributed to %q, not the sender %s", ErrForbidden, id, author, act.Actor)
	}
	return nil
}

var errKeyUnavailable = errors.New("signing key unavailable")

// verifySignature finds the key named by the signature (cached, or fetched
// with its actor) and checks the signature. A failure with a cached key is
// retried once with a freshly fetched one: the actor may have rotated it.
// No key is verified with twice: an RSA verification is the one thing a
// forger can make us do for free, so a key that failed, or that was just
// fetched and failed, ends the attempt.
func (s *Service) verifySignature(ctx context.Context, ver *httpsig.Verifier) (*storage.Actor, error) {
	keyID := ver.KeyID()
	var tried keyAttempt
	// Busy senders sign many requests with one key: a verified signer is
	// remembered briefly, saving a query per POST. A failure falls
	// through to the database and the re-fetch below.
	if actor, ok := s.signers.get(keyID); ok && s.verifyOnce(ver, actor, keyID, &tried) == nil {
		return actor, nil
	}
	actor, err := s.verifySignatureStored(ctx, ver, keyID, &tried)
	if err == nil {
		s.signers.put(keyID, actor)
	}
	return actor, err
}

func (s *Service) verifySignatureStored(ctx context.Context, ver *httpsig.Verifier, keyID string, tried *keyAttempt) (*storage.Actor, error) {
	actor, err := s.DB.GetActorByKeyID(ctx, keyID)
	cached := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		// Our database failing is no fault of the sender: a 5xx, which
		// senders retry, not a 401 that says the signature is bad.
		return nil, fmt.Errorf("look up key %s: %w", keyID, err)
	}
	if errors.Is(err, storage.ErrNotFound) {
		actor, err = s.fetchKey(ctx, keyID, func(ctx context.Context) (*storage.Actor, error) {
			return s.fetchKeyOwner(ctx, keyID)
		})
	}
	var limited *RateLimited
	if errors.As(err, &limited) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w: %s: %v", ErrUnauthorized, errKeyUnavailable, keyID, err)
	}
	if err := s.verifyOnce(ver, actor, keyID, tried); err == nil {
		return actor, nil
	} else if !cached || actor.Local {
		return nil, err
	}
	if actor.FetchedAt != nil && time.Since(*actor.FetchedAt) < 10*time.Second {
		// Just fetched: a second fetch would say the same.
		return nil, tried.err
	}
	owner := actor.URI
	actor, err = s.fetchKey(ctx, keyID, func(ctx context.Context) (*storage.Actor, error) {
		return s.FetchActor(ctx, owner)
	})
	if errors.As(err, &limited) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: re-fetch key %s: %v", ErrUnauthorized, keyID, err)
	}
	return actor, s.verifyOnce(ver, actor, keyID, tried)
}

// keyAttempt remembers the key a signature last failed with.
type keyAttempt struct {
	pem string
	err error
}

// verifyOnce verifies with actor's key unless that very key has already
// failed for this signature, in which case the first failure stands.
func (s *Service) verifyOnce(ver *httpsig.Verifier, actor *storage.Actor, keyID string, tried *keyAttempt) error {
	if tried.err != nil && tried.pem == actor.PublicKeyPEM {
		return tried.err
	}
	err := s.verifyWith(ver, actor, keyID)
	if err != nil {
		*tried = keyAttempt{actor.PublicKeyPEM, err}
	}
	return err
}

func (s *Service) verifyWith(ver *httpsig.Verifier, actor *storage.Actor, keyID string) error {
	if actor.KeyID != keyID {
		return fmt.Errorf("%w: key %s is not the key of %s", ErrUnauthorized, keyID, actor.URI)
	}
	pub, err := s.pubKeys.key(actor.PublicKeyPEM)
	if err != nil {
		return fmt.Errorf("%w: key %s: %v", ErrUnauthorized, keyID, err)
	}
	s.sigChecks.Add(1)
	if err := ver.Verify(pub); err != nil {
		return fmt.Errorf("%w: %v", ErrUnauthorized, err)
	}
	return nil
}

// maxPublicKeys bounds publicKeyCache: a parsed RSA-2048 key and its PEM
// are under 1 KiB, so at most a few MiB.
const maxPublicKeys = 4096

// publicKeyCache keeps parsed public keys of remote actors. Parsing the
// PEM and its ASN.1 on every inbox POST cost as much as a database query;
// the cache is keyed by the PEM text, not the actor, so a rotated key is
// a miss and never verifies from the cache. The zero value is ready.
type publicKeyCache struct {
	mu   sync.Mutex
	keys map[string]*rsa.PublicKey
}

func (c *publicKeyCache) key(pem string) (*rsa.PublicKey, error) {
	c.mu.Lock()
	k, ok := c.keys[pem]
	c.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := httpsig.ParsePublicKeyPEM([]byte(pem))
	if err != nil {
		return nil, err // not cached: it costs the sender, not us
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = make(map[string]*rsa.PublicKey)
	}
	if len(c.keys) >= maxPublicKeys {
		for pem := range c.keys { // map order is random: evict any one
			delete(c.keys, pem)
			break
		}
	}
	c.keys[pem] = k
	return k, nil
}

// Verified signers are remembered for signerTTL, at most maxSigners.
const (
	signerTTL  = time.Minute
	maxSigners = 10000
)

// signerCache maps key ids to the actors whose signatures they verified.
// An entry only saves the lookup: the signature is still checked against
// its key, and a key that no longer verifies is looked up again.
type signerCache struct {
	mu      sync.Mutex
	entries map[string]signerEntry
}

type signerEntry struct {
	actor *storage.Actor
	at    time.Time
}

func (c *signerCache) get(keyID string) (*storage.Actor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[keyID]
	if !ok || time.Since(e.at) > signerTTL {
		return nil, false
	}
	return e.actor, true
}

func (c *signerCache) put(keyID string, a *storage.Actor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxSigners {
		c.entries = map[string]signerEntry{}
	}
	c.entries[keyID] = signerEntry{a, time.Now()}
}
