// Package ratelimit is a set of token buckets, one per key, kept in this
// process's memory. With several replicas each enforces its own limit, so
// a client spread over n replicas gets up to n times the limit. That is
// acceptable for its uses, keeping one client from flooding the API and
// slowing password guessing, and it needs no database write per request.
package ratelimit

import (
	"sync"
	"time"
)

// Limiter is a set of token buckets of one capacity and refill rate. It
// is safe for concurrent use.
type Limiter struct {
	capacity float64
	perSec   float64
	mu       sync.Mutex
	buckets  map[string]*bucket
	lastGC   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New makes a limiter that allows capacity takes per key in window, in a
// burst or spread out.
func New(capacity int, window time.Duration) *Limiter {
	return &Limiter{
		capacity: float64(capacity), perSec: float64(capacity) / window.Seconds(),
		buckets: map[string]*bucket{},
	}
}

// Capacity is the most takes a full bucket allows.
func (l *Limiter) Capacity() int { return int(l.capacity) }

// Interval is how long a bucket takes to earn one token: the longest an
// empty bucket makes a caller wait, the Retry-After of a refusal.
func (l *Limiter) Interval() time.Duration {
	return time.Duration(float64(time.Second) / l.perSec)
}

// Take spends one token of key's bucket if it has one. It returns whether
// it did, what is left, and when the bucket will be full again.
func (l *Limiter) Take(key string, now time.Time) (ok bool, remaining int, reset time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gc(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.capacity, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.capacity, b.tokens+now.Sub(b.at).Seconds()*l.perSec)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		ok = true
	}
	full := time.Duration((l.capacity - b.tokens) / l.perSec * float64(time.Second))
	return ok, int(b.tokens), now.Add(full)
}

// gc forgets buckets that have refilled, at most once a minute, so that
// the map holds only recently active keys.
func (l *Limiter) gc(now time.Time) {
	if now.Sub(l.lastGC) < time.Minute {
		return
	}
	l.lastGC = now
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.perSec >= l.capacity {
			delete(l.buckets, k)
		}
	}
}

// Return gives back a token taken from key's bucket, for a take that
// turned out not to count (a sign-in that succeeded).
func (l *Limiter) Return(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[key]; b != nil {
		b.tokens = min(l.capacity, b.tokens+now.Sub(b.at).Seconds()*l.perSec+1)
		b.at = now
	}
}
