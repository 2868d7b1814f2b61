package federation

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/commonplace/commonplace/federation/vocab"
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

// Audit actions of instance settings and community ownership.
const (
	AuditInstanceSettings = "instance_settings"
	AuditTransferGroup    = "transfer_community"
)

// Bounds of the instance settings.
const (
	MaxInstanceTitle       = 100
	MaxInstanceDescription = 5000
	MaxInstanceRules       = 20
	MaxInstanceRule        = 500
)

// InstanceSettings are what the instance says about itself: its name and
// description, its rules and whom to contact, as Mastodon's instance API
// publishes them.
type InstanceSettings struct {
	Title, Description, ContactEmail string
	Rules                            []string
}

// InstanceSettings reads the instance settings; unset ones are empty.
func (s *Service) InstanceSettings(ctx context.Context) (InstanceSettings, error) {
	m, err := s.DB.Settings(ctx, storage.SettingInstanceTitle, storage.SettingInstanceDescription,
		storage.SettingInstanceContact, storage.SettingInstanceRules)
	if err != nil {
		return InstanceSettings{}, err
	}
	out := InstanceSettings{Title: m[storage.SettingInstanceTitle], Description: m[storage.SettingInstanceDescription],
		ContactEmail: m[storage.SettingInstanceContact]}
	for _, r := range strings.Split(m[storage.SettingInstanceRules], "\n") {
		if r = strings.TrimSpace(r); r != "" {
			out.Rules = append(out.Rules, r)
		}
	}
	return out, nil
}

// SetInstanceSettings replaces the instance settings, as an admin.
func (s *Service) SetInstanceSettings(ctx context.Context, operator string, in InstanceSettings) error {
	in.Title, in.Description, in.ContactEmail = strings.TrimSpace(in.Title), strings.TrimSpace(in.Description), strings.TrimSpace(in.ContactEmail)
	var rules []string
	for _, r := range in.Rules {
		if r = strings.Join(strings.Fields(r), " "); r != "" {
			rules = append(rules, r)
		}
	}
	switch {
	case utf8.RuneCountInString(in.Title) > MaxInstanceTitle || strings.ContainsAny(in.Title, "\r\n"):
		return fmt.Errorf("%w: the name is one line of at most %d characters", ErrInvalid, MaxInstanceTitle)
	case utf8.RuneCountInString(in.Description) > MaxInstanceDescription:
		return fmt.Errorf("%w: the description is at most %d characters", ErrInvalid, MaxInstanceDescription)
	case len(rules) > MaxInstanceRules:
		return fmt.Errorf("%w: at most %d rules", ErrInvalid, MaxInstanceRules)
	case in.ContactEmail != "" && (len(in.ContactEmail) > 254 || !strings.Contains(in.ContactEmail, "@") || strings.ContainsAny(in.ContactEmail, " \r\n<>")):
		return fmt.Errorf("%w: %q is not an e-mail address", ErrInvalid, in.ContactEmail)
	}
	for _, r := range rules {
		if utf8.RuneCountInString(r) > MaxInstanceRule {
			return fmt.Errorf("%w: a rule is at most %d characters", ErrInvalid, MaxInstanceRule)
		}
	}
	return s.DB.Tx(ctx, func(tx *storage.DB) error {
		for key, v := range map[string]string{
			storage.SettingInstanceTitle: in.Title, storage.SettingInstanceDescription: in.Description,
			storage.SettingInstanceContact: in.ContactEmail, storage.SettingInstanceRules: strings.Join(rules, "\n"),
		} {
			if err := tx.PutSetting(ctx, key, v, operator); err != nil {
				return err
			}
		}
		return auditAdmin(ctx, tx, operator, AuditInstanceSettings, "", fmt.Sprintf("name %q, %d rules, contact %q", in.Title, len(rules), in.ContactEmail))
	})
}

// TransferCommunity makes a local member the owner of a local community,
// as an admin; its previous owners stay on as moderators. The new owner
// must be a member; one who was not yet a moderator is added to the
// moderators collection, federated as the community's Add.
func (s *Service) TransferCommunity(ctx context.Context, operator, community, newOwner string) error {
	c, err := s.DB.GetCommunityByName(ctx, community)
	if err != nil {
		return err
	}
	who, err := s.DB.GetLocalActorByType(ctx, strings.TrimPrefix(newOwner, "@"), storage.TypePerson)
	if err != nil {
		return fmt.Errorf("%w: %s is not a member of this instance", ErrInvalid, newOwner)
	}
	m, err := s.DB.GetMembership(ctx, c.ActorID, who.ID)
	if err != nil || m.State != storage.StateAccepted {
		return fmt.Errorf("%w: %s must join %s before owning it", ErrInvalid, who.Username, community)
	}
	if m.Role == storage.RoleOwner {
		return fmt.Errorf("%w: %s already owns %s", ErrInvalid, who.Username, community)
	}
	if m.Role == storage.RoleMember {
		// Owners are published as moderators: tell the members' servers.
		if err := s.SetModerator(ctx, c.Actor, c.Actor.URI, who.URI, true); err != nil {
			return err
		}
	}
	return s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.TransferOwnership(ctx, c.ActorID, who.ID); err != nil {
			return err
		}
		return auditAdmin(ctx, tx, operator, AuditTransferGroup, "", community+" to "+who.Username)
	})
}

// AuditDeleteGroup records a community's deletion.
const AuditDeleteGroup = "delete_community"

// DeleteCommunity deletes a local community, as an admin: every member's
// server is sent the Group's Delete of itself (as Mastodon deletes an
// account), then its memberships, bans and page go; its name stays taken.
// Posts stay their authors'.
func (s *Service) DeleteCommunity(ctx context.Context, operator, name string) error {
	c, err := s.DB.GetCommunityByName(ctx, name)
	if err != nil {
		return err
	}
	g := c.Actor
	to, cc := communityAudience(g)
	body, err := s.activityDoc(vocab.TypeDelete, g, g.URI, to, cc)
	if err != nil {
		return err
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		inboxes, err := tx.MemberInboxes(ctx, g.ID)
		if err != nil {
			return err
		}
		if _, err := s.send(ctx, tx, g, body, inboxes); err != nil {
			return err
		}
		if err := tx.DeleteCommunity(ctx, g.ID); err != nil {
			return err
		}
		return auditAdmin(ctx, tx, operator, AuditDeleteGroup, "", fmt.Sprintf("%s (%s), %d servers told", name, g.URI, len(inboxes)))
	})
	if err != nil {
		return err
	}
	s.notifyDeliveries()
	s.Log.Info("community deleted", "community", g.URI, "by", operator)
	return nil
}

// ModEditCommunity is the modlog's name for a change of a community's
// settings.
const ModEditCommunity = "edit_community"

// CommunitySettings are what a community's moderators change of it.
type CommunitySettings struct {
	Title, Summary string
	Tags           []string
	// Closed: a moderator approves each request to join. A members-only
	// community stays closed.
	Closed bool
}

// UpdateCommunity changes a local community's title, statement, tags and
// whether joining needs approval, as one of its moderators; the members'
// servers are sent the Group in an Update, and the modlog records it.
func (s *Service) UpdateCommunity(ctx context.Context, by *storage.Actor, community string, in CommunitySettings) (*storage.Community, error) {
	g, err := s.moderated(ctx, by, community)
	if err != nil {
		return nil, err
	}
	c, err := s.DB.GetCommunityByActorID(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	title, summary := strings.TrimSpace(in.Title), strings.TrimSpace(strings.ReplaceAll(in.Summary, "\r\n", "\n"))
	switch {
	case title == "":
		return nil, fmt.Errorf("%w: title must not be empty", ErrInvalid)
	case utf8.RuneCountInString(title) > MaxTitleLen:
		return nil, fmt.Errorf("%w: title is longer than %d characters", ErrInvalid, MaxTitleLen)
	case utf8.RuneCountInString(summary) > MaxSummaryLen:
		return nil, fmt.Errorf("%w: summary is longer than %d characters", ErrInvalid, MaxSummaryLen)
	}
	tags, err := normaliseTags(in.Tags)
	if err != nil {
		return nil, err
	}
	c.Title, c.Summary, c.Closed = title, summary, in.Closed || c.Visibility == storage.VisibilityMembers
	c.Tags = nil
	for _, t := range tags {
		c.Tags = append(c.Tags, storage.CommunityTag{Tag: t})
	}
	c.Actor.DisplayName, c.Actor.Summary, c.Actor.ManuallyApprovesFollowers = c.Title, c.Summary, c.Closed
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.UpdateCommunitySettings(ctx, c); err != nil {
			return err
		}
		if err := s.logMod(ctx, tx, c.Actor, by, ModEditCommunity, nil, "", Reason{}, nil); err != nil {
			return err
		}
		return s.sendGroupUpdate(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	s.notifyDeliveries()
	return s.DB.GetCommunityByActorID(ctx, g.ID)
}

// sendGroupUpdate queues the community's Group, as served, in an Update
// to its members' servers.
func (s *Service) sendGroupUpdate(ctx context.Context, tx *storage.DB, c *storage.Community) error {
	if s.GroupDocument == nil {
		return nil
	}
	doc, err := s.GroupDocument(c)
	if err != nil {
		return err
	}
	inboxes, err := tx.MemberInboxes(ctx, c.ActorID)
	if err != nil || len(inboxes) == 0 {
		return err
	}
	to, cc := communityAudience(c.Actor)
	body, err := s.activityDoc(vocab.TypeUpdate, c.Actor, json.RawMessage(doc), to, cc)
	if err != nil {
		return err
	}
	_, err = s.send(ctx, tx, c.Actor, body, inboxes)
	return err
}

// AuditResetLink records that an admin made a password reset link.
const AuditResetLink = "reset_link"

// AdminResetLink makes a one-time link with which a member chooses a new
// password, as an admin (for servers without mail), and returns its URL.
func (s *Service) AdminResetLink(ctx context.Context, operator, username string) (string, error) {
	acct, err := s.DB.GetAccountByUsername(ctx, username)
	if err != nil {
		return "", err
	}
	token, err := s.IssueLink(ctx, acct, storage.LinkReset)
	if err != nil {
		return "", err
	}
	if err := auditAdmin(ctx, s.DB, operator, AuditResetLink, "", username); err != nil {
		return "", err
	}
	return s.URLs.Base + "/auth/password/reset?token=" + token, nil
}

// AuditRegistrations records a change of the registration mode.
const AuditRegistrations = "registration_mode"

// RegistrationModes are how people get accounts in the browser.
var RegistrationModes = []string{"closed", "invite", "approval", "open"}

// RegistrationMode is the mode an admin chose at run time, or else the
// configured one.
func (s *Service) RegistrationMode(ctx context.Context, configured string) (string, error) {
	m, err := s.DB.Settings(ctx, storage.SettingRegistrations)
	if err != nil {
		return configured, err
	}
	if v := m[storage.SettingRegistrations]; slices.Contains(RegistrationModes, v) {
		return v, nil
	}
	return configured, nil
}

// SetRegistrationMode sets the registration mode, as an admin, on every
// replica at once; "" goes back to the configured mode.
func (s *Service) SetRegistrationMode(ctx context.Context, operator, mode string) error {
	if mode != "" && !slices.Contains(RegistrationModes, mode) {
		return fmt.Errorf("%w: registrations must be closed, invite, approval or open, not %q", ErrInvalid, mode)
	}
	return s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.PutSetting(ctx, storage.SettingRegistrations, mode, operator); err != nil {
			return err
		}
		return auditAdmin(ctx, tx, operator, AuditRegistrations, "", cmp.Or(mode, "as configured"))
	})
}
