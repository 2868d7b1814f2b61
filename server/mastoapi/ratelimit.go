package mastoapi

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// Request rates are per process (see federation/ratelimit): each replica
// enforces its own share.

// rateLimit spends one request of key and sets Mastodon's X-RateLimit
// headers; an empty bucket is a 429.
func (a *API) rateLimit(c echo.Context, key string) error {
	ok, remaining, reset := a.requests.Take(key, a.now())
	h := c.Response().Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(rateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", reset.UTC().Format(isoTime))
	if !ok {
		return errorf(http.StatusTooManyRequests, "Too many requests")
	}
	return nil
}
