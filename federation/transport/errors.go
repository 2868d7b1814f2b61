package transport

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors besides ErrForbiddenAddress.
var (
	// ErrTooLarge: the response body exceeds Options.MaxBodyBytes. Bodies
	// are never silently truncated, since a cut JSON document may still parse.
	ErrTooLarge = errors.New("transport: response too large")
	// ErrTooManyRedirects: a GET was redirected more than MaxRedirects times.
	ErrTooManyRedirects = errors.New("transport: too many redirects")
	// ErrBadURL: the URL (or a redirect target) is not an absolute http(s)
	// URL without userinfo, or a redirect downgrades https to http.
	ErrBadURL = errors.New("transport: unacceptable URL")
)

// StatusError is a response outside 2xx. Callers use it to tell a removed
// resource (Gone) from a failure worth retrying (Temporary), and to honour
// RetryAfter.
type StatusError struct {
	Method string
	URL    string
	Code   int
	// RetryAfter is the delay asked for by a Retry-After header, 0 if none.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("transport: %s %s: %d %s", e.Method, e.URL, e.Code, http.StatusText(e.Code))
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return msg
}

// Gone reports whether the resource does not exist (404) or was deleted
// (410), so that fetch callers can drop it instead of retrying.
func (e *StatusError) Gone() bool {
	return e.Code == http.StatusNotFound || e.Code == http.StatusGone
}

// Temporary reports whether the same request may succeed later: server
// errors, rate limiting and timeouts. Other 4xx (and 3xx on POST) will not.
func (e *StatusError) Temporary() bool {
	return e.Code >= 500 || e.Code == http.StatusTooManyRequests || e.Code == http.StatusRequestTimeout
}

// parseRetryAfter reads a Retry-After value, either delay-seconds or an
// HTTP-date (RFC 9110 section 10.2.3). Unparseable or past values give 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Cap absurd values rather than overflow time.Duration.
		return time.Duration(min(secs, int64(365*24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
