package delivery

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/commonplace/commonplace/federation/httpsig"
	"github.com/commonplace/commonplace/storage"
)

// dbError marks a database failure while preparing a delivery: retried,
// but not held against the remote host.
type dbError struct{ err error }

func (e dbError) Error() string { return e.err.Error() }
func (e dbError) Unwrap() error { return e.err }

// prepare loads what delivery d sends (the activity exactly as stored) and
// who signs it.
func (w *Worker) prepare(ctx context.Context, d storage.Delivery) ([]byte, *signer, error) {
	body, err := w.body(ctx, d.ActivityID)
	if err != nil {
		return nil, nil, err
	}
	s, err := w.signer(ctx, d.SignerActorID)
	if err != nil {
		return nil, nil, err
	}
	return body, s, nil
}

// signerTTL is how long a signer's key id and key are used without
// reading its actor row again. A fan-out signs a thousand requests with
// one actor's key, and the row was read for each. Nothing rotates local
// keys today; if something does, requests signed in the next signerTTL
// may use the old key, fail verification and be retried.
const signerTTL = 5 * time.Second

// signer returns the key that actor id signs with.
func (w *Worker) signer(ctx context.Context, id int64) (*signer, error) {
	if s, ok := w.signers.actor(id, w.opts.Now()); ok {
		return s, nil
	}
	actor, err := w.db.GetActorByID(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, permanentError{err}
	}
	if err != nil {
		return nil, dbError{err}
	}
	if actor.PrivateKeyPEM == "" || actor.KeyID == "" {
		return nil, permanentError{fmt.Errorf("signer %s has no private key", actor.URI)}
	}
	key, err := w.signers.key(actor.PrivateKeyPEM)
	if err != nil {
		return nil, permanentError{fmt.Errorf("signer %s: %w", actor.URI, err)}
	}
	s := &signer{keyID: actor.KeyID, key: key}
	w.signers.putActor(id, s, w.opts.Now())
	return s, nil
}

// body returns the JSON of activity id. Sent activities never change, and
// a fan-out sends the same one to every host, so it is loaded once.
func (w *Worker) body(ctx context.Context, id int64) ([]byte, error) {
	if b, ok := w.bodies.get(id); ok {
		return b, nil
	}
	a, err := w.db.GetActivityByID(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		// Deleting an activity cascades to its deliveries: the row is
		// going too.
		return nil, permanentError{err}
	}
	if err != nil {
		return nil, dbError{err}
	}
	if a.Raw == "" {
		return nil, permanentError{fmt.Errorf("activity %d has no JSON", id)}
	}
	b := []byte(a.Raw)
	w.bodies.put(id, b)
	return b, nil
}

// signer is a local actor's key, as transport.Signer.
type signer struct {
	keyID string
	key   *rsa.PrivateKey
}

func (s *signer) KeyID() string               { return s.keyID }
func (s *signer) PrivateKey() *rsa.PrivateKey { return s.key }

// signerCache keeps parsed private keys, keyed by the PEM text so that a
// changed key is parsed anew, and the signer of each recently seen actor
// for signerTTL.
type signerCache struct {
	mu     sync.Mutex
	max    int
	keys   map[string]*rsa.PrivateKey
	actors map[int64]cachedSigner
}

type cachedSigner struct {
	s  *signer
	at time.Time
}

func newSignerCache(size int) *signerCache {
	return &signerCache{max: size, keys: make(map[string]*rsa.PrivateKey), actors: make(map[int64]cachedSigner)}
}

func (c *signerCache) actor(id int64, now time.Time) (*signer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.actors[id]
	if !ok || now.Sub(e.at) >= signerTTL || now.Before(e.at) {
		return nil, false
	}
	return e.s, true
}

func (c *signerCache) putActor(id int64, s *signer, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.actors) >= c.max {
		evictOne(c.actors)
	}
	c.actors[id] = cachedSigner{s, now}
}

func (c *signerCache) key(pem string) (*rsa.PrivateKey, error) {
	c.mu.Lock()
	k, ok := c.keys[pem]
	c.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := httpsig.ParsePrivateKeyPEM([]byte(pem))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.keys) >= c.max {
		evictOne(c.keys)
	}
	c.keys[pem] = k
	return k, nil
}

// bodyCache keeps the JSON of recently sent activities.
type bodyCache struct {
	mu     sync.Mutex
	max    int
	bodies map[int64][]byte
}

func newBodyCache(size int) *bodyCache {
	return &bodyCache{max: size, bodies: make(map[int64][]byte)}
}

func (c *bodyCache) get(id int64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.bodies[id]
	return b, ok
}

func (c *bodyCache) put(id int64, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bodies) >= c.max {
		evictOne(c.bodies)
	}
	c.bodies[id] = b
}

// evictOne removes an arbitrary entry (map order is random): good enough
// for caches whose working set is a few fan-outs at a time.
func evictOne[K comparable, V any](m map[K]V) {
	for k := range m {
		delete(m, k)
		return
	}
}
