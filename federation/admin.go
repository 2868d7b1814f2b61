package federation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/commonplace/commonplace/storage"
)

// The instance admins' actions on accounts, communities and deliveries.
// Each is written to the audit log that the federation policy's changes
// go to (policy_audit), with who acted: "cli:USER" from the command line,
// "web:NAME" from /admin, "api:HANDLE" from the client API.

// Audit actions of admins beyond the federation policy's own.
const (
	AuditApproveSignUp = "approve_sign_up"
	AuditRejectSignUp  = "reject_sign_up"
	AuditDisable       = "disable_account"
	AuditEnable        = "enable_account"
	AuditMakeAdmin     = "make_admin"
	AuditRevokeAdmin   = "revoke_admin"
	AuditCreateGroup   = "create_community"
	AuditRetryHost     = "retry_deliveries"
	AuditCloseReport   = "close_report"
)

// auditAdmin records an admin's action; domain is the host it concerns,
// if any.
func auditAdmin(ctx context.Context, tx *storage.DB, by, action, domain, detail string) error {
	if by == "" {
		by = "unknown"
	}
	return tx.AddAudit(ctx, storage.PolicyAudit{Actor: by, Action: action, Domain: domain, Detail: detail})
}

// WebOperator names a member acting from /admin in the audit log.
func WebOperator(a *storage.Account) string {
	if a == nil || a.Actor == nil {
		return "web:unknown"
	}
	return "web:" + a.Actor.Username
}

// SetAccountDisabled disables (or enables again) a local account: a
// disabled member cannot sign in, and their sessions and tokens stop
// working at once (both check the flag on every request). Their posts
// stay. An admin cannot disable their own account, so that the last
// admin cannot lock everyone out by a slip.
func (s *Service) SetAccountDisabled(ctx context.Context, by *storage.Account, operator, username string, disabled bool) error {
	acct, err := s.DB.GetAccountByUsername(ctx, username)
	if err != nil {
		return err
	}
	if by != nil && by.ID == acct.ID && disabled {
		return fmt.Errorf("%w: you cannot disable your own account", ErrInvalid)
	}
	action := AuditEnable
	if disabled {
		action = AuditDisable
	}
	return s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.UpdateAccount(ctx, acct.ID, map[string]any{"disabled": disabled}); err != nil {
			return err
		}
		if disabled {
			if _, err := tx.DeleteSessions(ctx, acct.ID, 0); err != nil {
				return err
			}
		}
		return auditAdmin(ctx, tx, operator, action, "", username)
	})
}

// SetAccountAdmin makes a local account an admin of the instance, or no
// longer one. An admin cannot revoke their own rights (another admin
// must), so that an instance always keeps one.
func (s *Service) SetAccountAdmin(ctx context.Context, by *storage.Account, operator, username string, admin bool) error {
	acct, err := s.DB.GetAccountByUsername(ctx, username)
	if err != nil {
		return err
	}
	if by != nil && by.ID == acct.ID && !admin {
		return fmt.Errorf("%w: another admin must revoke your rights", ErrInvalid)
	}
	action := AuditRevokeAdmin
	if admin {
		action = AuditMakeAdmin
	}
	return s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.UpdateAccount(ctx, acct.ID, map[string]any{"admin": admin}); err != nil {
			return err
		}
		return auditAdmin(ctx, tx, operator, action, "", username)
	})
}

// AdminCreateCommunity creates a community as an admin, with an audit
// record.
func (s *Service) AdminCreateCommunity(ctx context.Context, operator string, in NewCommunity) (*storage.Community, error) {
	c, err := s.CreateCommunity(ctx, in)
	if err != nil {
		return nil, err
	}
	detail := in.Name
	if in.Owner != "" {
		detail += ", owner " + in.Owner
	}
	return c, auditAdmin(ctx, s.DB, operator, AuditCreateGroup, "", detail)
}

// RetryHost makes every waiting delivery to host due now and lifts its
// backoff, for an admin who knows the host is back; the delivery workers
// are woken. It returns how many deliveries were made due.
func (s *Service) RetryHost(ctx context.Context, operator, host string) (int64, error) {
	host = strings.ToLower(strings.TrimSpace(host))
	if host == "" || strings.ContainsAny(host, "/ ") {
		return 0, fmt.Errorf("%w: %q is not a host", ErrInvalid, host)
	}
	var n int64
	err := s.DB.Tx(ctx, func(tx *storage.DB) error {
		var err error
		if n, err = tx.RetryHost(ctx, host, time.Now()); err != nil {
			return err
		}
		return auditAdmin(ctx, tx, operator, AuditRetryHost, host, fmt.Sprintf("%d deliveries made due", n))
	})
	if err != nil {
		return 0, err
	}
	s.notifyDeliveries()
	return n, nil
}

// AdminCloseReport resolves or dismisses a report as an admin, with an
// audit record besides the community's modlog entry (if any).
func (s *Service) AdminCloseReport(ctx context.Context, by *storage.Actor, operator string, id int64, dismiss bool, note string) (*storage.Report, error) {
	r, err := s.CloseReport(ctx, by, id, dismiss, note)
	if err != nil {
		return nil, err
	}
	state := "resolved"
	if dismiss {
		state = "dismissed"
	}
	return r, auditAdmin(ctx, s.DB, operator, AuditCloseReport, "", fmt.Sprintf("report %d %s", id, state))
}
