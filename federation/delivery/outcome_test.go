package delivery

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation/transport"
)

func TestClassify(t *testing.T) {
	status := func(code int) error {
		return fmt.Errorf("wrapped: %w", &transport.StatusError{Method: "POST", URL: "https://x/inbox", Code: code, RetryAfter: 7 * time.Second})
	}
	for _, c := range []struct {
		name             string
		err              error
		retry, hostFault bool
		status           int
	}{
		{"500", status(500), true, true, 500},
		{"503", status(503), true, true, 503},
		{"429", status(429), true, true, 429},
		{"408", status(408), true, true, 408},
		{"401 (remote could not fetch our key)", status(401), true, false, 401},
		{"400", status(400), false, false, 400},
		{"403", status(403), false, false, 403},
		{"404", status(404), false, false, 404},
		{"410", status(410), false, false, 410},
		{"501", status(501), false, false, 501},
		{"308 (signed POSTs are not redirected)", status(308), false, false, 308},
		{"refused", fmt.Errorf("transport: %w", syscall.ECONNREFUSED), true, true, 0},
		{"forbidden address", fmt.Errorf("transport: %w", transport.ErrForbiddenAddress), false, false, 0},
		{"bad url", fmt.Errorf("x: %w", transport.ErrBadURL), false, false, 0},
		{"no key", permanentError{errors.New("no key")}, false, false, 0},
		{"database", dbError{errors.New("connection reset")}, true, false, 0},
	} {
		o := classify(c.err)
		if o.retry != c.retry || o.hostFault != c.hostFault || o.status != c.status {
			t.Errorf("%s: %+v, want retry=%v hostFault=%v status=%d", c.name, o, c.retry, c.hostFault, c.status)
		}
	}
	if o := classify(status(503)); o.retryAfter != 7*time.Second {
		t.Errorf("Retry-After lost: %+v", o)
	}
}

func TestRetryDelay(t *testing.T) {
	const base, ceiling = 30 * time.Second, 6 * time.Hour
	for range 200 {
		for attempts, limit := range map[int]time.Duration{0: base, 1: 2 * base, 5: 32 * base, 9: ceiling, 40: ceiling, 1 << 20: ceiling} {
			if d := retryDelay(attempts, 0, base, ceiling); d <= 0 || d > limit {
				t.Fatalf("retryDelay(%d) = %v, want in (0, %v]", attempts, d, limit)
			}
		}
	}
	if d := retryDelay(0, time.Hour, base, ceiling); d != time.Hour {
		t.Errorf("Retry-After of 1h gave %v", d)
	}
	if d := retryDelay(0, 48*time.Hour, base, ceiling); d != ceiling {
		t.Errorf("Retry-After of 48h gave %v, want the %v cap", d, ceiling)
	}
}
