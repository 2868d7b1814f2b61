package delivery

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/commonplace/commonplace/federation/transport"
)

// outcome is what a failed attempt means for the delivery and its host.
type outcome struct {
	status     int  // HTTP status, 0 if there was no answer
	retry      bool // the same request may succeed later
	hostFault  bool // the host is down or overloaded, not just this request
	retryAfter time.Duration
}

// permanentError marks a failure before sending that no retry can fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func classify(err error) outcome {
	var se *transport.StatusError
	var pe permanentError
	switch {
	case errors.As(err, &se):
		retry := retryStatus(se.Code)
		return outcome{
			status:     se.Code,
			retry:      retry,
			hostFault:  retry && se.Code != http.StatusUnauthorized,
			retryAfter: se.RetryAfter,
		}
	case errors.As(err, &pe),
		// The address guard and URL checks will refuse the same inbox
		// every time.
		errors.Is(err, transport.ErrForbiddenAddress),
		errors.Is(err, transport.ErrBadURL):
		return outcome{}
	}
	// No answer: refused, reset, timed out, DNS. Or our database failed
	// while preparing, which is no fault of the host but worth a retry.
	var de dbError
	return outcome{retry: true, hostFault: !errors.As(err, &de)}
}

// retryStatus reports whether an answer with code may change on retry.
// As Mastodon does, 401 is retried: it often means the remote could not
// fetch our key just then. 501 says the inbox will never take a POST.
// Other 4xx, and 3xx (the transport does not follow redirects of a signed
// POST), are final.
func retryStatus(code int) bool {
	switch code {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true
	case http.StatusNotImplemented:
		return false
	}
	return code >= 500
}

// retryDelay is the wait before the attempt after attempts failed ones:
// base doubled per attempt up to ceiling, with full jitter so that a fan-out
// that failed together does not retry together. A longer Retry-After from
// the server is honoured, up to ceiling.
func retryDelay(attempts int, retryAfter, base, ceiling time.Duration) time.Duration {
	limit := ceiling
	if attempts < 32 && base<<attempts > 0 && base<<attempts < ceiling {
		limit = base << attempts
	}
	d := rand.N(limit) + 1
	if retryAfter > d {
		d = min(retryAfter, ceiling)
	}
	return d
}
