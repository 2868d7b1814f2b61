package federation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/commonplace/commonplace/storage"
)

// Sign-in through the institution's OpenID provider: the provider vouches
// for a person (Identity, already verified by package openid), and these
// rules decide which account that is. The identity is the provider's
// issuer and subject; an e-mail address is only ever used, when the admin
// allows it, to tie a new identity to an existing account, and only an
// address the provider says it verified.

// OIDCRules are the admin's settings for sign-in through the provider.
type OIDCRules struct {
	// CreateAccounts makes an account on an identity's first sign-in.
	CreateAccounts bool
	// LinkByEmail ties a new identity to the existing account with the
	// same, verified, e-mail address.
	LinkByEmail bool
	// EmailDomains, if not empty, are the only domains whose (verified)
	// addresses may sign in.
	EmailDomains []string
	// Groups are the rules of the config; those stored with the CLI
	// apply too (GroupRules).
	Groups []storage.OIDCGroupRule
}

// Identity is a person as a verified ID token (and userinfo) describes
// them.
type Identity struct {
	Issuer, Subject string
	// Username is the value of the username claim, from which the name
	// of a new account is derived.
	Username      string
	Name          string
	Email         string
	EmailVerified bool
	Groups        []string
	// GroupsKnown tells that the provider sent the groups claim; without
	// it, what groups granted is left as it is.
	GroupsKnown bool
}

// ErrChooseName: the identity is new and the name derived from it is not
// valid or is taken; SignInIdentity suggests another, and the person
// chooses one for CreateIdentityAccount.
var ErrChooseName = errors.New("choose a name")

// SignInIdentity returns the account that id signs in to, tying id to an
// existing account or creating one as rules allow. A disabled account, or
// one still waiting for approval, is refused whatever the provider says.
// With ErrChooseName it returns a suggested free name instead.
func (s *Service) SignInIdentity(ctx context.Context, id Identity, rules OIDCRules) (*storage.Account, string, error) {
	if id.Issuer == "" || id.Subject == "" {
		return nil, "", fmt.Errorf("%w: the identity provider named no subject", ErrInvalid)
	}
	if err := rules.emailAllowed(id); err != nil {
		return nil, "", err
	}
	now := time.Now()
	known, err := s.DB.GetOIDCIdentity(ctx, id.Issuer, id.Subject)
	switch {
	case err == nil:
		if err := usable(known.Account); err != nil {
			return nil, "", err
		}
		if err := s.DB.TouchOIDCIdentity(ctx, known.ID, now); err != nil {
			return nil, "", err
		}
		return known.Account, "", s.applyIdentityGroups(ctx, known.Account, id, rules)
	case !errors.Is(err, storage.ErrNotFound):
		return nil, "", err
	}
	if id.Email != "" {
		acct, err := s.DB.GetAccountByEmail(ctx, id.Email)
		switch {
		case err == nil && rules.LinkByEmail && id.EmailVerified:
			if err := usable(acct); err != nil {
				return nil, "", err
			}
			err := s.DB.CreateOIDCIdentity(ctx, &storage.OIDCIdentity{
				AccountID: acct.ID, Issuer: id.Issuer, Subject: id.Subject, CreatedAt: now, LastSignInAt: now,
			})
			if err != nil {
				return nil, "", err
			}
			s.Log.Info("identity linked to an account by e-mail", "account", acct.Actor.Username, "issuer", id.Issuer)
			return acct, "", s.applyIdentityGroups(ctx, acct, id, rules)
		case err == nil:
			return nil, "", fmt.Errorf("%w: an account with your e-mail address already exists here; ask the admin to connect it to your organisation's sign-in", ErrForbidden)
		case !errors.Is(err, storage.ErrNotFound):
			return nil, "", err
		}
	}
	if !rules.CreateAccounts {
		return nil, "", fmt.Errorf("%w: there is no account here for you; ask the admin for one", ErrForbidden)
	}
	if id.Email == "" {
		return nil, "", fmt.Errorf("%w: your identity provider did not tell us your e-mail address, which a new account needs; ask the admin", ErrForbidden)
	}
	name := DeriveName(id.Username)
	if name == "" {
		name = DeriveName(id.Email)
	}
	acct, err := s.CreateIdentityAccount(ctx, id, rules, name)
	if errors.Is(err, ErrInvalid) || errors.Is(err, storage.ErrConflict) {
		return nil, s.freeName(ctx, name), ErrChooseName
	}
	return acct, "", err
}

// CreateIdentityAccount creates the account of a new identity with the
// name the person chose, and ties the identity to it in one transaction.
func (s *Service) CreateIdentityAccount(ctx context.Context, id Identity, rules OIDCRules, username string) (*storage.Account, error) {
	if !rules.CreateAccounts {
		return nil, fmt.Errorf("%w: there is no account here for you; ask the admin for one", ErrForbidden)
	}
	if err := rules.emailAllowed(id); err != nil {
		return nil, err
	}
	if err := ValidateName(username); err != nil {
		return nil, err
	}
	if err := s.nameFree(ctx, username); err != nil {
		return nil, err
	}
	display := strings.TrimSpace(id.Name)
	if len([]rune(display)) > MaxTitleLen {
		display = string([]rune(display)[:MaxTitleLen])
	}
	now := time.Now()
	acct, err := s.CreateAccount(ctx, NewAccount{
		Username: username, Email: id.Email, DisplayName: display,
		unconfirmed: !id.EmailVerified,
		after: func(tx *storage.DB, acct *storage.Account) error {
			return tx.CreateOIDCIdentity(ctx, &storage.OIDCIdentity{
				AccountID: acct.ID, Issuer: id.Issuer, Subject: id.Subject, CreatedAt: now, LastSignInAt: now,
			})
		},
	})
	if err != nil {
		return nil, err
	}
	s.Log.Info("account created at first sign-in through the identity provider", "account", username, "issuer", id.Issuer)
	return acct, s.applyIdentityGroups(ctx, acct, id, rules)
}

// applyIdentityGroups brings what groups grant in line with the groups
// the provider sent at this sign-in.
func (s *Service) applyIdentityGroups(ctx context.Context, acct *storage.Account, id Identity, rules OIDCRules) error {
	if !id.GroupsKnown {
		return nil
	}
	all, err := s.GroupRules(ctx, rules.Groups)
	if err != nil {
		return err
	}
	if err := s.ApplyGroups(ctx, acct, id.Groups, all); err != nil {
		return fmt.Errorf("apply the identity provider's groups: %w", err)
	}
	return nil
}

// usable refuses accounts that may not sign in, whatever the provider says.
func usable(acct *storage.Account) error {
	switch {
	case acct == nil || acct.Actor == nil:
		return fmt.Errorf("%w: this account no longer exists", ErrForbidden)
	case acct.Disabled:
		return fmt.Errorf("%w: this account is disabled", ErrForbidden)
	case !acct.Approved:
		return fmt.Errorf("%w: your sign-up is waiting for an administrator's approval", ErrForbidden)
	}
	return nil
}

func (r OIDCRules) emailAllowed(id Identity) error {
	if len(r.EmailDomains) == 0 {
		return nil
	}
	at := strings.LastIndexByte(id.Email, '@')
	if !id.EmailVerified || at < 0 {
		return fmt.Errorf("%w: only verified e-mail addresses of %s may sign in here", ErrForbidden, strings.Join(r.EmailDomains, ", "))
	}
	domain := strings.ToLower(id.Email[at+1:])
	for _, d := range r.EmailDomains {
		if strings.EqualFold(strings.TrimSpace(d), domain) {
			return nil
		}
	}
	return fmt.Errorf("%w: only e-mail addresses of %s may sign in here", ErrForbidden, strings.Join(r.EmailDomains, ", "))
}

// DeriveName makes a member name from a username claim ("Jane.Doe",
// "jane.doe@school.example"): the part before any @, lower-cased, with
// dots, dashes and spaces as underscores and other characters left out.
// It returns "" when nothing valid is left.
func DeriveName(claim string) string {
	s := strings.ToLower(strings.TrimSpace(claim))
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '_' || r == '.' || r == '-' || r == ' ' || r == '+':
			if n := b.Len(); n > 0 && b.String()[n-1] != '_' {
				b.WriteByte('_')
			}
		}
	}
	name := strings.Trim(b.String(), "_")
	if len(name) > MaxNameLen {
		name = strings.TrimRight(name[:MaxNameLen], "_")
	}
	if ValidateName(name) != nil {
		return ""
	}
	return name
}

// freeName suggests a free name like base: base itself, or base with a
// number.
func (s *Service) freeName(ctx context.Context, base string) string {
	if base == "" {
		base = "member"
	}
	for i := 1; i < 100; i++ {
		name := base
		if i > 1 {
			suffix := strconv.Itoa(i)
			if len(name)+len(suffix) > MaxNameLen {
				name = name[:MaxNameLen-len(suffix)]
			}
			name += suffix
		}
		if ValidateName(name) == nil && s.nameFree(ctx, name) == nil {
			return name
		}
	}
	return ""
}
