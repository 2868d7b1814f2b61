package mastoapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// Request rates are per process (see federation/ratelimit): each replica
// enforces its own share.

// rateLimit spends one request of each key ("account:" keys from the
// members' limiter) and sets Mastodon's X-RateLimit headers for the
// first; any empty bucket is a 429.
func (a *API) rateLimit(c echo.Context, keys ...string) error {
	now, refused := a.now(), false
	h := c.Response().Header()
	for i, key := range keys {
		l := a.requests
		if strings.HasPrefix(key, "account:") {
			l = a.memberRequests
		}
		ok, remaining, reset := l.Take(key, now)
		refused = refused || !ok
		if i == 0 {
			h.Set("X-RateLimit-Limit", strconv.Itoa(l.Capacity()))
			h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
			h.Set("X-RateLimit-Reset", reset.UTC().Format(isoTime))
		}
		if !ok && i > 0 {
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Reset", reset.UTC().Format(isoTime))
		}
	}
	if refused {
		return errorf(http.StatusTooManyRequests, "Too many requests")
	}
	return nil
}
