package federation

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/commonplace/commonplace/storage"
)

// Sign-in limits, the same for every door that takes a password (the web's
// sign-in form and the OAuth authorize page).
const (
	// SignInLimit attempts, failed or not, per client address and name.
	SignInLimit = 10
	// SignInAddressLimit failed attempts per client address, whatever the
	// names: one address trying one password on many names (spraying)
	// is stopped after this many. Successful sign-ins do not count, so
	// the members of a school behind one address are not locked out.
	SignInAddressLimit = 30
	signInWindow       = 15 * time.Minute
	// SignUpLimit sign-ups per client address in signUpWindow, as
	// Mastodon's throttle.
	SignUpLimit  = 25
	signUpWindow = 5 * time.Minute

	// KDFQueue bounds the password checks admitted at once, computing or
	// waiting for one of kdfSlots; KDFPerAddress bounds those of one
	// client address. Past either a sign-in is refused at once (429 with
	// Retry-After) instead of queueing: a flood of guesses must not make
	// members' sign-ins wait seconds behind it.
	KDFQueue      = 8
	KDFPerAddress = 2
	kdfRetryAfter = 2 * time.Second
)

// ErrTooManyAttempts: the caller has used up its sign-in attempts for now.
var ErrTooManyAttempts = errors.New("too many attempts")

// ErrUnconfirmed: the password is right but the e-mail address of the
// sign-up has not been confirmed yet. SignIn returns the account with it,
// so that the web can send the link again.
var ErrUnconfirmed = fmt.Errorf("%w: confirm your e-mail address first: follow the link we sent to it", ErrForbidden)

// AllowAttempt spends one of the sign-in attempts of client from for key
// (a name or an address) and reports whether there was one left. Forms
// that mail links (password reset) share the budget.
func (s *Service) AllowAttempt(from, key string) bool {
	ok, _, _ := s.signIns.Take(clientKey(from)+"\x00"+strings.ToLower(strings.TrimSpace(key)), s.now())
	return ok
}

// clientKey is the part of a client address that rate limits count: the
// address, or for IPv6 its /64, which one machine commonly holds whole.
func clientKey(from string) string {
	a, err := netip.ParseAddr(from)
	if err != nil {
		return from
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// kdfGate admits password checks up to KDFQueue at once, KDFPerAddress
// per client. The zero value is ready.
type kdfGate struct {
	mu     sync.Mutex
	total  int
	byAddr map[string]int
	// admitted, if set, runs once a check is admitted (tests hold
	// checks there to fill the queue).
	admitted func()
}

// enter admits one check for client from, or reports false.
func (g *kdfGate) enter(from string) (leave func(), ok bool) {
	g.mu.Lock()
	if g.total >= KDFQueue || g.byAddr[from] >= KDFPerAddress {
		g.mu.Unlock()
		return nil, false
	}
	if g.byAddr == nil {
		g.byAddr = map[string]int{}
	}
	g.total++
	g.byAddr[from]++
	hook := g.admitted
	g.mu.Unlock()
	if hook != nil {
		hook()
	}
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.total--
		if g.byAddr[from]--; g.byAddr[from] == 0 {
			delete(g.byAddr, from)
		}
	}, true
}

// queued is the number of checks admitted now.
func (g *kdfGate) queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.total
}

// SignIn checks a member's credentials, given a username or an e-mail
// address. from identifies the client (its address) for throttling. Wrong
// credentials are ErrUnauthorized whether or not the account exists, and
// the password is always checked against some argon2id hash, so neither
// the answer nor its timing tells which names exist.
func (s *Service) SignIn(ctx context.Context, from, username, password string) (*storage.Account, error) {
	username = strings.TrimSpace(username)
	client, now := clientKey(from), s.now()
	if !s.AllowAttempt(from, username) {
		return nil, &RateLimited{Reason: "too many sign-in attempts; try again in a few minutes", RetryAfter: s.signIns.Interval()}
	}
	if ok, _, _ := s.signInsByAddr.Take(client, now); !ok {
		return nil, &RateLimited{Reason: "too many sign-in attempts; try again in a few minutes", RetryAfter: s.signInsByAddr.Interval()}
	}
	leave, ok := s.kdf.enter(client)
	if !ok {
		return nil, &RateLimited{Reason: "the server is busy checking sign-ins; try again in a moment", RetryAfter: kdfRetryAfter}
	}
	defer leave()
	var (
		acct *storage.Account
		err  error
	)
	switch {
	case username == "" || len(password) > MaxPasswordLen:
		err = storage.ErrNotFound
	case strings.Contains(username, "@"):
		acct, err = s.DB.GetAccountByEmail(ctx, username)
	default:
		acct, err = s.DB.GetAccountByUsername(ctx, username)
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	if !CheckPassword(acct, password) {
		return nil, fmt.Errorf("%w: invalid username or password", ErrUnauthorized)
	}
	// Only failures count against the address.
	s.signInsByAddr.Return(client, now)
	// Only someone who knows the password learns where the sign-up is.
	if !acct.Approved {
		return nil, fmt.Errorf("%w: your sign-up is waiting for an administrator's approval", ErrForbidden)
	}
	if acct.ConfirmedAt == nil {
		return acct, ErrUnconfirmed
	}
	return acct, nil
}
