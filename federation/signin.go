package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/commonplace/commonplace/storage"
)

// Sign-in attempts, failed or not, per client address and name: the same
// budget for every door that takes a password (the web's sign-in form and
// the OAuth authorize page).
const (
	SignInLimit  = 10
	signInWindow = 15 * time.Minute
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
	ok, _, _ := s.signIns.Take(from+"\x00"+strings.ToLower(strings.TrimSpace(key)), time.Now())
	return ok
}

// SignIn checks a member's credentials, given a username or an e-mail
// address. from identifies the client (its address) for throttling. Wrong
// credentials are ErrUnauthorized whether or not the account exists, and
// the password is always checked against some argon2id hash, so neither
// the answer nor its timing tells which names exist.
func (s *Service) SignIn(ctx context.Context, from, username, password string) (*storage.Account, error) {
	username = strings.TrimSpace(username)
	if !s.AllowAttempt(from, username) {
		return nil, fmt.Errorf("%w: too many sign-in attempts; try again in a few minutes", ErrTooManyAttempts)
	}
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
	// Only someone who knows the password learns where the sign-up is.
	if !acct.Approved {
		return nil, fmt.Errorf("%w: your sign-up is waiting for an administrator's approval", ErrForbidden)
	}
	if acct.ConfirmedAt == nil {
		return acct, ErrUnconfirmed
	}
	return acct, nil
}
