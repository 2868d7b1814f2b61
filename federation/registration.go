package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/commonplace/commonplace/storage"
)

// Registration modes, chosen by the admin (COMMONPLACE_REGISTRATIONS).
const (
	RegistrationClosed   = "closed"
	RegistrationInvite   = "invite"
	RegistrationApproval = "approval"
	RegistrationOpen     = "open"
)

// Lifetimes of one-time links.
const (
	confirmLinkLifetime = 48 * time.Hour
	resetLinkLifetime   = 2 * time.Hour
	// MaxReasonLen bounds what an applicant writes for the admin.
	MaxReasonLen = 1000
)

// Registration is a sign-up from the web.
type Registration struct {
	Username, Email, Password string
	// Reason tells the admin why the applicant wants to join (approval
	// mode).
	Reason string
	// Invite is the invitation's token (invite mode).
	Invite string
	// From is the client's address: sign-ups are limited per address.
	From string
}

// RegistrationRules are the admin's settings for sign-ups.
type RegistrationRules struct {
	Mode string
	// Confirm requires the e-mail address to be confirmed by a link
	// before the member can sign in (when the server can send e-mail).
	Confirm bool
}

// Register creates an account from a sign-up as the rules allow: refused
// when registrations are closed, with a valid invitation in invite mode
// (spending one of its uses in the same transaction), waiting for an
// admin in approval mode, at once in open mode.
func (s *Service) Register(ctx context.Context, in Registration, rules RegistrationRules) (*storage.Account, error) {
	switch rules.Mode {
	case RegistrationOpen, RegistrationApproval, RegistrationInvite:
	default:
		return nil, fmt.Errorf("%w: this server does not take sign-ups; ask its admin for an account", ErrForbidden)
	}
	if in.Password == "" {
		return nil, fmt.Errorf("%w: choose a password of %d to %d characters", ErrInvalid, MinPasswordLen, MaxPasswordLen)
	}
	// Each sign-up costs a password hash and a key pair: a few per
	// address, and none while password checks are queued.
	client := clientKey(in.From)
	if ok, _, _ := s.signUps.Take(client, s.now()); !ok {
		return nil, &RateLimited{Reason: "too many sign-ups from your address; try again later", RetryAfter: s.signUps.Interval()}
	}
	leave, ok := s.kdf.enter(client)
	if !ok {
		return nil, &RateLimited{Reason: "the server is busy; try again in a moment", RetryAfter: kdfRetryAfter}
	}
	defer leave()
	if utf8.RuneCountInString(in.Reason) > MaxReasonLen {
		return nil, fmt.Errorf("%w: the reason is longer than %d characters", ErrInvalid, MaxReasonLen)
	}
	if rules.Mode == RegistrationInvite && strings.TrimSpace(in.Invite) == "" {
		return nil, fmt.Errorf("%w: sign-up is by invitation: open the invitation link you were sent", ErrForbidden)
	}
	na := NewAccount{
		Username: in.Username, Email: in.Email, Password: in.Password,
		reason: strings.TrimSpace(in.Reason), pending: rules.Mode == RegistrationApproval,
		unconfirmed: rules.Confirm,
	}
	if rules.Mode == RegistrationInvite {
		na.before = func(tx *storage.DB) error {
			err := tx.UseInvite(ctx, hashToken(in.Invite), time.Now())
			if errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("%w: this invitation is not valid any more; ask for a new one", ErrForbidden)
			}
			return err
		}
	}
	return s.CreateAccount(ctx, na)
}

// IssueLink makes a one-time link token for an account: purpose is
// storage.LinkConfirm (confirm the e-mail address) or storage.LinkReset
// (choose a new password). Only its hash is stored.
func (s *Service) IssueLink(ctx context.Context, acct *storage.Account, purpose string) (string, error) {
	ttl := confirmLinkLifetime
	if purpose == storage.LinkReset {
		ttl = resetLinkLifetime
	}
	token := newToken()
	now := time.Now()
	err := s.DB.CreateAccountLink(ctx, &storage.AccountLink{
		TokenHash: hashToken(token), AccountID: acct.ID, Purpose: purpose, CreatedAt: now, ExpiresAt: now.Add(ttl),
	})
	if err != nil {
		return "", fmt.Errorf("issue %s link: %w", purpose, err)
	}
	return token, nil
}

var errBadLink = fmt.Errorf("%w: this link has expired or was already used; ask for a new one", ErrInvalid)

// ConfirmEmail confirms the e-mail address of the account a confirmation
// link was sent to.
func (s *Service) ConfirmEmail(ctx context.Context, token string) (*storage.Account, error) {
	l, err := s.DB.UseAccountLink(ctx, hashToken(token), storage.LinkConfirm, time.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errBadLink
	} else if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	if err := s.DB.UpdateAccount(ctx, l.AccountID, map[string]any{"confirmed_at": now}); err != nil {
		return nil, err
	}
	l.Account.ConfirmedAt = &now
	return l.Account, nil
}

// ResetPassword sets a new password with a reset link and ends every
// session of the account: whoever knew the old password is signed out.
// Following the link also proves the e-mail address.
func (s *Service) ResetPassword(ctx context.Context, token, password string) (*storage.Account, error) {
	if err := checkPasswordLen(password); err != nil {
		return nil, err
	}
	l, err := s.DB.UseAccountLink(ctx, hashToken(token), storage.LinkReset, time.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errBadLink
	} else if err != nil {
		return nil, err
	}
	if err := s.SetPassword(ctx, l.Account, password, 0); err != nil {
		return nil, err
	}
	if l.Account.ConfirmedAt == nil {
		now := time.Now().UTC()
		if err := s.DB.UpdateAccount(ctx, l.AccountID, map[string]any{"confirmed_at": now}); err != nil {
			return nil, err
		}
	}
	return l.Account, nil
}

// SetPassword gives an account a new password and ends its sessions but
// keep (the session that made the change; 0 for none).
func (s *Service) SetPassword(ctx context.Context, acct *storage.Account, password string, keep int64) error {
	if err := checkPasswordLen(password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := s.DB.UpdateAccount(ctx, acct.ID, map[string]any{"password_hash": hash}); err != nil {
		return err
	}
	acct.PasswordHash = hash
	_, err = s.DB.DeleteSessions(ctx, acct.ID, keep)
	return err
}

func checkPasswordLen(p string) error {
	if n := utf8.RuneCountInString(p); n < MinPasswordLen || len(p) > MaxPasswordLen {
		return fmt.Errorf("%w: password must be %d to %d characters", ErrInvalid, MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

// DecideRegistration approves or refuses an account waiting for approval,
// as the admin by ("cli:USER", "web:NAME"), with an audit record. A
// refused account, which never took part, is removed with its actor so
// that its name and address can be used again.
func (s *Service) DecideRegistration(ctx context.Context, by, username string, approve bool) (*storage.Account, error) {
	acct, err := s.DB.GetAccountByUsername(ctx, username)
	if err != nil {
		return nil, err
	}
	if acct.Approved {
		return nil, fmt.Errorf("%w: %s is not waiting for approval", ErrInvalid, username)
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if !approve {
			if err := tx.DeleteAccount(ctx, acct); err != nil {
				return err
			}
			return auditAdmin(ctx, tx, by, AuditRejectSignUp, "", username)
		}
		if err := tx.UpdateAccount(ctx, acct.ID, map[string]any{"approved": true}); err != nil {
			return err
		}
		return auditAdmin(ctx, tx, by, AuditApproveSignUp, "", username)
	})
	if err != nil {
		return nil, err
	}
	acct.Approved = approve
	return acct, nil
}

// CreateInvite makes an invitation good for maxUses sign-ups within ttl
// and returns its token.
func (s *Service) CreateInvite(ctx context.Context, by *storage.Account, maxUses int, ttl time.Duration) (string, error) {
	if maxUses < 1 || maxUses > 1000 || ttl <= 0 || ttl > 90*24*time.Hour {
		return "", fmt.Errorf("%w: an invitation is for 1 to 1000 people and at most 90 days", ErrInvalid)
	}
	token := newToken()
	now := time.Now()
	in := &storage.Invite{TokenHash: hashToken(token), MaxUses: maxUses, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if by != nil {
		in.CreatedBy = &by.ID
	}
	if err := s.DB.CreateInvite(ctx, in); err != nil {
		return "", err
	}
	return token, nil
}
