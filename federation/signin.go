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

// SignIn checks a member's credentials, given a username or an e-mail
// address. from identifies the client (its address) for throttling. Wrong
// credentials are ErrUnauthorized whether or not the account exists, and
// the password is always checked against some argon2id hash, so neither
// the answer nor its timing tells which names exist.
func (s *Service) SignIn(ctx context.Context, from, username, password string) (*storage.Account, error) {
	username = strings.TrimSpace(username)
	if ok, _, _ := s.signIns.Take(from+"\x00"+strings.ToLower(username), time.Now()); !ok {
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
	return acct, nil
}
