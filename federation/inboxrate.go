package federation

import (
	"fmt"
	"time"

	"github.com/commonplace/commonplace/federation/ratelimit"
)

// Default inbox rates: activities per minute that one remote actor, and
// all actors of one host, may deliver to this process. A Lemmy community
// relaying a busy forum sends a few a second; a flood of 1 MiB
// activities at line rate is what they stop.
const (
	DefaultInboxRatePerActor = 300
	DefaultInboxRatePerHost  = 3000
	inboxRateWindow          = time.Minute
)

// inboxRates limits verified deliveries per sending actor and per host.
// It counts after the signature is verified, so nobody can spend another
// actor's budget by naming its key.
type inboxRates struct {
	perActor, perHost *ratelimit.Limiter
}

func newInboxRates(perActor, perHost int) inboxRates {
	if perActor <= 0 {
		perActor = DefaultInboxRatePerActor
	}
	if perHost <= 0 {
		perHost = DefaultInboxRatePerHost
	}
	return inboxRates{ratelimit.New(perActor, inboxRateWindow), ratelimit.New(perHost, inboxRateWindow)}
}

// SetInboxRates sets how many activities per minute one remote actor and
// one remote host may deliver (zero: the defaults). Call it before
// serving.
func (s *Service) SetInboxRates(perActor, perHost int) {
	s.inboxRates = newInboxRates(perActor, perHost)
}

// allow spends one delivery of actor and of its host, or says when to
// come back.
func (r inboxRates) allow(actor string, now time.Time) error {
	if ok, _, _ := r.perActor.Take(actor, now); !ok {
		return &RateLimited{
			Reason:     fmt.Sprintf("too many activities from %s; try again later", actor),
			RetryAfter: r.perActor.Interval(),
		}
	}
	host := hostOf(actor)
	if ok, _, _ := r.perHost.Take(host, now); !ok {
		return &RateLimited{
			Reason:     fmt.Sprintf("too many activities from %s; try again later", host),
			RetryAfter: r.perHost.Interval(),
		}
	}
	return nil
}
