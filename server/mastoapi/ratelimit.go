package mastoapi

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// limiter is a set of token buckets, one per key, kept in this process's
// memory: with several replicas each enforces its own limit, so a client
// spread over n replicas gets up to n times the limit. That is acceptable
// for its two uses, keeping one client from flooding the API and slowing
// password guessing, and it needs no database write per request.
type limiter struct {
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

func newLimiter(capacity int, window time.Duration) *limiter {
	return &limiter{
		capacity: float64(capacity), perSec: float64(capacity) / window.Seconds(),
		buckets: map[string]*bucket{},
	}
}

// take spends one token of key's bucket if it has one. It returns whether
// it did, what is left, and when the bucket will be full again.
func (l *limiter) take(key string, now time.Time) (ok bool, remaining int, reset time.Time) {
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
func (l *limiter) gc(now time.Time) {
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

// rateLimit spends one request of key and sets Mastodon's X-RateLimit
// headers; an empty bucket is a 429.
func (a *API) rateLimit(c echo.Context, key string) error {
	ok, remaining, reset := a.requests.take(key, a.now())
	h := c.Response().Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(rateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", reset.UTC().Format(isoTime))
	if !ok {
		return errorf(http.StatusTooManyRequests, "Too many requests")
	}
	return nil
}
