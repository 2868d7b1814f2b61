package federation

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/commonplace/commonplace/federation/ratelimit"
	"github.com/commonplace/commonplace/storage"
)

// A POST may name any key id, and an unknown one makes us GET it: without
// bounds, a sender makes us fetch from any host as often as it likes.
// Key fetches are therefore remembered when they fail, limited in number
// per host and in concurrency per host (the delivery workers' per-host
// limit), and concurrent requests for one key share one fetch.
const (
	// keyFailureTTL is how long a failed key fetch is answered from memory.
	keyFailureTTL = 5 * time.Minute
	// maxKeyFailures bounds the failures remembered.
	maxKeyFailures = 10000
	// KeyFetchesPerHost key fetches per host are allowed per
	// keyFetchWindow, in a burst or spread out; more are refused with 429
	// and Retry-After, which senders honour by retrying later.
	KeyFetchesPerHost = 60
	keyFetchWindow    = time.Minute
	// defaultKeyFetchConcurrency is Service.KeyFetchConcurrency's default.
	defaultKeyFetchConcurrency = 4
)

// RateLimited is ErrTooManyAttempts with the time after which the caller
// may try again: the HTTP layer sends it as Retry-After.
type RateLimited struct {
	Reason     string
	RetryAfter time.Duration
}

func (e *RateLimited) Error() string { return e.Reason }
func (e *RateLimited) Unwrap() error { return ErrTooManyAttempts }

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, at least 1.
func (e *RateLimited) RetryAfterSeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// keyFetches guards key fetches (see above). The zero value is not ready:
// use newKeyFetches.
type keyFetches struct {
	perHost *ratelimit.Limiter
	flight  singleflight.Group

	mu     sync.Mutex
	failed map[string]keyFailure // by key id
	slots  map[string]*hostSlots // by host, while in use
}

type keyFailure struct {
	err   error
	until time.Time
}

type hostSlots struct {
	ch    chan struct{}
	users int
}

func newKeyFetches() *keyFetches {
	return &keyFetches{
		perHost: ratelimit.New(KeyFetchesPerHost, keyFetchWindow),
		failed:  map[string]keyFailure{},
		slots:   map[string]*hostSlots{},
	}
}

// recentFailure returns the error of a fetch of keyID that failed lately.
func (k *keyFetches) recentFailure(keyID string, now time.Time) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, ok := k.failed[keyID]
	if !ok {
		return nil
	}
	if now.After(f.until) {
		delete(k.failed, keyID)
		return nil
	}
	return f.err
}

func (k *keyFetches) remember(keyID string, err error, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.failed) >= maxKeyFailures {
		for id, f := range k.failed {
			if now.After(f.until) {
				delete(k.failed, id)
			}
		}
		for id := range k.failed { // still full: evict any one
			if len(k.failed) < maxKeyFailures {
				break
			}
			delete(k.failed, id)
		}
	}
	k.failed[keyID] = keyFailure{err, now.Add(keyFailureTTL)}
}

// acquire waits for one of limit fetch slots of host, or for ctx.
func (k *keyFetches) acquire(ctx context.Context, host string, limit int) (release func(), err error) {
	k.mu.Lock()
	s := k.slots[host]
	if s == nil {
		s = &hostSlots{ch: make(chan struct{}, limit)}
		k.slots[host] = s
	}
	s.users++
	k.mu.Unlock()
	done := func() {
		k.mu.Lock()
		if s.users--; s.users == 0 {
			delete(k.slots, host)
		}
		k.mu.Unlock()
	}
	select {
	case s.ch <- struct{}{}:
		return func() { <-s.ch; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}

// fetchKey fetches the owner of keyID (fetch is fetchKeyOwner or a
// re-fetch of a known owner) within the bounds above. A failure is
// remembered and answered from memory for keyFailureTTL; a refusal by
// the per-host limit is a *RateLimited and is not remembered.
func (s *Service) fetchKey(ctx context.Context, keyID string, fetch func(context.Context) (*storage.Actor, error)) (*storage.Actor, error) {
	now := s.now()
	if err := s.keyFetches.recentFailure(keyID, now); err != nil {
		return nil, err
	}
	v, err, _ := s.keyFetches.flight.Do(keyID, func() (any, error) {
		host := hostOf(keyID)
		if ok, _, _ := s.keyFetches.perHost.Take(host, now); !ok {
			return nil, &RateLimited{
				Reason:     fmt.Sprintf("too many unknown keys from %s; try again later", host),
				RetryAfter: s.keyFetches.perHost.Interval(),
			}
		}
		release, err := s.keyFetches.acquire(ctx, host, cmp0(s.KeyFetchConcurrency, defaultKeyFetchConcurrency))
		if err != nil {
			return nil, err
		}
		defer release()
		a, err := fetch(ctx)
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			s.keyFetches.remember(keyID, err, s.now())
		}
		return a, err
	})
	if err != nil {
		return nil, err
	}
	return v.(*storage.Actor), nil
}

func (s *Service) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

// cmp0 is v, or def when v is not positive.
func cmp0(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}
