package storage

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Federation policy: the instance's mode, its allow and block rules by
// domain, per-community partner instances and the audit log of changes.
// Matching rules to a domain is federation/policy's business; storage
// only keeps rows and answers the queries it needs.

// Federation modes.
const (
	// ModeBlocklist federates with everyone except blocked domains.
	ModeBlocklist = "blocklist"
	// ModeAllowlist federates only with allowed domains.
	ModeAllowlist = "allowlist"
)

// Kinds of domain rules and severities of blocks (Mastodon's names).
const (
	RuleAllow = "allow"
	RuleBlock = "block"

	SeveritySuspend = "suspend"
	SeverityLimit   = "limit"
)

// Keys of federation_settings.
const (
	SettingMode          = "federation_mode"
	SettingPublishBlocks = "publish_blocks"
)

// DomainRule allows or blocks a domain and its subdomains.
type DomainRule struct {
	ID     int64
	Kind   string
	Domain string
	// Severity is suspend or limit for blocks, empty for allows.
	Severity string
	// Reason is private to admins; PublicComment may be published.
	Reason        string
	PublicComment string
	RejectMedia   bool
	RejectReports bool
	Obfuscate     bool
	CreatedBy     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// FederationSetting is one instance-wide policy setting.
type FederationSetting struct {
	Key       string `gorm:"primaryKey"`
	Value     string
	UpdatedBy string
	UpdatedAt time.Time
}

// CommunityPartner is a domain a partner community federates with.
type CommunityPartner struct {
	CommunityActorID int64  `gorm:"primaryKey"`
	Domain           string `gorm:"primaryKey"`
	CreatedBy        string
	CreatedAt        time.Time
}

// PolicyAudit records one change of the policy, or what a change removed.
type PolicyAudit struct {
	ID        int64
	Actor     string
	Action    string
	Domain    string
	Detail    string
	CreatedAt time.Time
}

// TableName keeps GORM off its pluralised guess.
func (PolicyAudit) TableName() string { return "policy_audit" }

// GetSetting returns a federation setting; ErrNotFound if it was never set.
func (db *DB) GetSetting(ctx context.Context, key string) (*FederationSetting, error) {
	var s FederationSetting
	err := db.Gorm(ctx).Where("key = ?", key).Take(&s).Error
	return &s, wrap(err, "get setting %q", key)
}

// PutSetting sets a federation setting.
func (db *DB) PutSetting(ctx context.Context, key, value, by string) error {
	s := FederationSetting{Key: key, Value: value, UpdatedBy: by, UpdatedAt: time.Now().UTC()}
	err := db.Gorm(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "key"}},
		DoUpdates: clause.AssignmentColumns([]string{"value", "updated_by", "updated_at"}),
	}).Create(&s).Error
	return wrap(err, "put setting %q", key)
}

// DomainRulesFor returns the rules whose domain is one of domains.
func (db *DB) DomainRulesFor(ctx context.Context, domains []string) ([]DomainRule, error) {
	var out []DomainRule
	if len(domains) == 0 {
		return out, nil
	}
	err := db.Gorm(ctx).Where("domain IN ?", domains).Find(&out).Error
	return out, wrap(err, "find domain rules")
}

// ListDomainRules returns the rules of kind ("" for both), by domain.
func (db *DB) ListDomainRules(ctx context.Context, kind string) ([]DomainRule, error) {
	var out []DomainRule
	q := db.Gorm(ctx)
	if kind != "" {
		q = q.Where("kind = ?", kind)
	}
	err := q.Order("domain, kind").Find(&out).Error
	return out, wrap(err, "list domain rules")
}

// GetDomainRule returns the rule of kind for exactly domain.
func (db *DB) GetDomainRule(ctx context.Context, kind, domain string) (*DomainRule, error) {
	var r DomainRule
	err := db.Gorm(ctx).Where("kind = ? AND domain = ?", kind, domain).Take(&r).Error
	return &r, wrap(err, "get %s rule for %q", kind, domain)
}

// GetDomainRuleByID returns rule id if it is of kind.
func (db *DB) GetDomainRuleByID(ctx context.Context, kind string, id int64) (*DomainRule, error) {
	var r DomainRule
	err := db.Gorm(ctx).Where("kind = ? AND id = ?", kind, id).Take(&r).Error
	return &r, wrap(err, "get %s rule %d", kind, id)
}

// PutDomainRule creates the rule for (r.Kind, r.Domain) or updates the
// existing one in place, keeping its id, creator and creation time. It
// reports whether the row was created, or else whether it changed.
func (db *DB) PutDomainRule(ctx context.Context, r *DomainRule) (created, changed bool, err error) {
	now := time.Now().UTC()
	old, err := db.GetDomainRule(ctx, r.Kind, r.Domain)
	switch {
	case errors.Is(err, ErrNotFound):
		r.ID, r.CreatedAt, r.UpdatedAt = 0, now, now
		return true, true, wrap(db.Gorm(ctx).Create(r).Error, "create %s rule for %q", r.Kind, r.Domain)
	case err != nil:
		return false, false, err
	}
	r.ID, r.CreatedBy, r.CreatedAt = old.ID, old.CreatedBy, old.CreatedAt
	r.UpdatedAt = old.UpdatedAt
	if *old == *r {
		return false, false, nil
	}
	r.UpdatedAt = now
	err = db.Gorm(ctx).Model(&DomainRule{}).Where("id = ?", r.ID).Updates(map[string]any{
		"severity": r.Severity, "reason": r.Reason, "public_comment": r.PublicComment,
		"reject_media": r.RejectMedia, "reject_reports": r.RejectReports, "obfuscate": r.Obfuscate,
		"updated_at": now,
	}).Error
	return false, true, wrap(err, "update %s rule for %q", r.Kind, r.Domain)
}

// DeleteDomainRule removes the rule of kind for domain. ErrNotFound if
// there is none.
func (db *DB) DeleteDomainRule(ctx context.Context, kind, domain string) error {
	res := db.Gorm(ctx).Where("kind = ? AND domain = ?", kind, domain).Delete(&DomainRule{})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "delete %s rule for %q", kind, domain)
	}
	return wrap(res.Error, "delete %s rule for %q", kind, domain)
}

// AddAudit appends records to the policy audit log.
func (db *DB) AddAudit(ctx context.Context, recs ...PolicyAudit) error {
	if len(recs) == 0 {
		return nil
	}
	now := time.Now().UTC()
	for i := range recs {
		recs[i].ID = 0
		if recs[i].CreatedAt.IsZero() {
			recs[i].CreatedAt = now
		}
		recs[i].Detail = truncateText(recs[i].Detail, 2000)
	}
	return wrap(db.Gorm(ctx).CreateInBatches(recs, 200).Error, "add %d audit records", len(recs))
}

// ListAudit returns up to limit audit records, oldest first, with ids
// greater than afterID.
func (db *DB) ListAudit(ctx context.Context, afterID int64, limit int) ([]PolicyAudit, error) {
	var out []PolicyAudit
	err := db.Gorm(ctx).Where("id > ?", afterID).Order("id").Limit(limit).Find(&out).Error
	return out, wrap(err, "list policy audit")
}

// ListPartners returns a community's partner domains, by domain. None
// means the community is not restricted.
func (db *DB) ListPartners(ctx context.Context, communityActorID int64) ([]CommunityPartner, error) {
	var out []CommunityPartner
	err := db.Gorm(ctx).Where("community_actor_id = ?", communityActorID).Order("domain").Find(&out).Error
	return out, wrap(err, "list partners of %d", communityActorID)
}

// AddPartner adds a partner domain to a community; false if it was there.
func (db *DB) AddPartner(ctx context.Context, p *CommunityPartner) (bool, error) {
	p.CreatedAt = time.Now().UTC()
	res := db.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(p)
	return res.RowsAffected == 1, wrap(res.Error, "add partner %q", p.Domain)
}

// RemovePartner removes a partner domain. ErrNotFound if absent.
func (db *DB) RemovePartner(ctx context.Context, communityActorID int64, domain string) error {
	res := db.Gorm(ctx).Where("community_actor_id = ? AND domain = ?", communityActorID, domain).Delete(&CommunityPartner{})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "remove partner %q", domain)
	}
	return wrap(res.Error, "remove partner %q", domain)
}

// PendingDeliveryHosts lists the hosts that pending deliveries go to.
func (db *DB) PendingDeliveryHosts(ctx context.Context) ([]string, error) {
	var out []string
	err := db.Gorm(ctx).Model(&Delivery{}).Where("state = ?", DeliveryPending).Distinct().Pluck("host", &out).Error
	return out, wrap(err, "list pending delivery hosts")
}

// DropDelivery gives up one pending delivery without counting an attempt,
// recording why. ErrNotFound if it is not pending.
func (db *DB) DropDelivery(ctx context.Context, id int64, why string) error {
	res := db.Gorm(ctx).Model(&Delivery{}).Where("id = ? AND state = ?", id, DeliveryPending).Updates(map[string]any{
		"state": DeliveryDropped, "locked_until": nil, "last_error": truncateError(why), "updated_at": time.Now().UTC(),
	})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "drop delivery %d", id)
	}
	return wrap(res.Error, "drop delivery %d", id)
}

// FederatedMembership is a membership that crosses to another server: a
// remote member of a local community or a local member of a remote one.
type FederatedMembership struct {
	ID           int64
	CommunityURI string
	CommunityTag string // user@domain of the community
	MemberURI    string
	MemberTag    string // user@domain of the member
	State        string
	// RemoteURI is the id of the side that is remote.
	RemoteURI string
}

// FederatedMemberships lists memberships with a remote side; with
// communityActorID > 0, only those of that community.
func (db *DB) FederatedMemberships(ctx context.Context, communityActorID int64) ([]FederatedMembership, error) {
	var rows []struct {
		ID                                         int64
		State                                      string
		CURI, CUser, CDomain, MURI, MUser, MDomain string
		CLocal, MLocal                             bool
	}
	q := db.Gorm(ctx).Table("memberships").
		Select(`memberships.id, memberships.state,
			c.uri AS c_uri, c.username AS c_user, c.domain AS c_domain, c.local AS c_local,
			m.uri AS m_uri, m.username AS m_user, m.domain AS m_domain, m.local AS m_local`).
		Joins("JOIN actors c ON c.id = memberships.community_actor_id").
		Joins("JOIN actors m ON m.id = memberships.member_actor_id").
		Where("NOT c.local OR NOT m.local")
	if communityActorID > 0 {
		q = q.Where("memberships.community_actor_id = ?", communityActorID)
	}
	if err := q.Order("memberships.id").Scan(&rows).Error; err != nil {
		return nil, wrap(err, "list federated memberships")
	}
	out := make([]FederatedMembership, 0, len(rows))
	for _, r := range rows {
		fm := FederatedMembership{
			ID: r.ID, State: r.State, CommunityURI: r.CURI, CommunityTag: r.CUser + "@" + r.CDomain,
			MemberURI: r.MURI, MemberTag: r.MUser + "@" + r.MDomain, RemoteURI: r.MURI,
		}
		if !r.CLocal {
			fm.RemoteURI = r.CURI
		}
		out = append(out, fm)
	}
	return out, nil
}

// DeleteMembershipsByID removes memberships by id; it returns how many.
func (db *DB) DeleteMembershipsByID(ctx context.Context, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	for start := 0; start < len(ids); start += enqueueBatch {
		res := db.Gorm(ctx).Where("id IN ?", ids[start:min(start+enqueueBatch, len(ids))]).Delete(&Membership{})
		if res.Error != nil {
			return n, wrap(res.Error, "delete %d memberships", len(ids))
		}
		n += res.RowsAffected
	}
	return n, nil
}

// limitedActorSQL is true for an actor (alias a) whose domain a limit
// rule covers: the same domain, a subdomain, or either on any port when
// the rule names no port. It matches on the actor's handle domain.
const limitedActorSQL = `EXISTS (SELECT 1 FROM domain_rules lr WHERE lr.kind = 'block' AND lr.severity = 'limit'
	AND (a.domain = lr.domain OR a.domain LIKE '%.' || lr.domain
		OR (lr.domain NOT LIKE '%:%' AND (a.domain LIKE lr.domain || ':%' OR a.domain LIKE '%.' || lr.domain || ':%'))))`

// HideLimited restricts a query on objects to posts whose authors are not
// on a limited domain: what public timelines and directories show.
func HideLimited(q *gorm.DB) *gorm.DB {
	return q.Where("NOT EXISTS (SELECT 1 FROM actors a WHERE a.id = objects.author_actor_id AND " + limitedActorSQL + ")")
}

// HideLimitedActors restricts a query on actors (the table itself, not an
// alias) to those not on a limited domain, for directories of accounts.
func HideLimitedActors(q *gorm.DB) *gorm.DB {
	return q.Where("NOT EXISTS (SELECT 1 FROM actors a WHERE a.id = actors.id AND " + limitedActorSQL + ")")
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
