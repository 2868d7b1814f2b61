package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/commonplace/commonplace/storage"
)

// Audit actions.
const (
	ActionMode              = "mode"
	ActionPublish           = "publish"
	ActionAllow             = "allow"
	ActionBlock             = "block"
	ActionRemoveAllow       = "remove_allow"
	ActionRemoveBlock       = "remove_block"
	ActionImport            = "import"
	ActionPartnerAdd        = "partner_add"
	ActionPartnerRemove     = "partner_remove"
	ActionMembershipRemoved = "membership_removed"
	ActionDeliveriesDropped = "deliveries_dropped"
)

// maxTextLen bounds reasons and comments.
const maxTextLen = 1000

// Effects is what a change did beyond the rule itself: it is in force at
// once, so pending deliveries to newly refused domains are dropped and
// memberships with them removed (each with an audit record).
type Effects struct {
	DroppedDeliveries  int64
	RemovedMemberships int64
}

// BlockInput is a block as an admin states it.
type BlockInput struct {
	Domain        string
	Severity      string // suspend (default) or limit
	Reason        string // private
	PublicComment string
	RejectMedia   bool
	RejectReports bool
	Obfuscate     bool
}

// Result of adding or updating a rule.
type Result struct {
	Rule    storage.DomainRule
	Created bool
	Changed bool
	Effects
}

// change runs fn and the enforcement of its outcome in one transaction,
// then clears this process's cache.
func (p *Policy) change(ctx context.Context, by string, fn func(tx *storage.DB) error) (Effects, error) {
	var eff Effects
	err := p.db.Tx(ctx, func(tx *storage.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		var err error
		eff, err = p.enforce(ctx, tx, by)
		return err
	})
	p.Invalidate()
	if err == nil && (eff.DroppedDeliveries > 0 || eff.RemovedMemberships > 0) {
		p.log.Info("federation policy enforced", "by", by,
			"dropped_deliveries", eff.DroppedDeliveries, "removed_memberships", eff.RemovedMemberships)
	}
	return eff, err
}

// enforce applies the policy as it now stands on tx to what is already
// queued or established.
func (p *Policy) enforce(ctx context.Context, tx *storage.DB, by string) (Effects, error) {
	var eff Effects
	refused := map[string]bool{}
	isRefused := func(host string) (bool, error) {
		if r, ok := refused[host]; ok {
			return r, nil
		}
		d, err := p.decide(ctx, tx, host)
		if err != nil {
			return false, err
		}
		refused[host] = !d.Allowed
		return !d.Allowed, nil
	}
	hosts, err := tx.PendingDeliveryHosts(ctx)
	if err != nil {
		return eff, err
	}
	var audit []storage.PolicyAudit
	for _, h := range hosts {
		r, err := isRefused(h)
		if err != nil {
			return eff, err
		}
		if !r {
			continue
		}
		n, err := tx.DropDeliveriesToHost(ctx, h)
		if err != nil {
			return eff, err
		}
		if n > 0 {
			eff.DroppedDeliveries += n
			audit = append(audit, storage.PolicyAudit{Actor: by, Action: ActionDeliveriesDropped, Domain: h,
				Detail: fmt.Sprintf("%d pending deliveries dropped", n)})
		}
	}
	ms, err := tx.FederatedMemberships(ctx, 0)
	if err != nil {
		return eff, err
	}
	var ids []int64
	for _, m := range ms {
		h := HostOf(m.RemoteURI)
		r, err := isRefused(h)
		if err != nil {
			return eff, err
		}
		if !r {
			continue
		}
		ids = append(ids, m.ID)
		audit = append(audit, membershipAudit(by, h, m, "the federation policy refuses "+h))
	}
	n, err := tx.DeleteMembershipsByID(ctx, ids)
	if err != nil {
		return eff, err
	}
	eff.RemovedMemberships = n
	return eff, tx.AddAudit(ctx, audit...)
}

func membershipAudit(by, host string, m storage.FederatedMembership, why string) storage.PolicyAudit {
	return storage.PolicyAudit{Actor: by, Action: ActionMembershipRemoved, Domain: host,
		Detail: fmt.Sprintf("%s (%s) removed from %s (%s), %s; %s", m.MemberTag, m.MemberURI, m.CommunityTag, m.CommunityURI, m.State, why)}
}

// SetMode switches between blocklist and allowlist.
func (p *Policy) SetMode(ctx context.Context, by, mode string) (Effects, error) {
	if mode != storage.ModeBlocklist && mode != storage.ModeAllowlist {
		return Effects{}, fmt.Errorf("%w: mode must be %s or %s, not %q", ErrInvalid, storage.ModeAllowlist, storage.ModeBlocklist, mode)
	}
	return p.change(ctx, by, func(tx *storage.DB) error {
		if err := tx.PutSetting(ctx, storage.SettingMode, mode, by); err != nil {
			return err
		}
		return tx.AddAudit(ctx, storage.PolicyAudit{Actor: by, Action: ActionMode, Detail: mode})
	})
}

// SetPublish chooses whether the block list is published.
func (p *Policy) SetPublish(ctx context.Context, by string, on bool) error {
	v := "off"
	if on {
		v = "on"
	}
	_, err := p.change(ctx, by, func(tx *storage.DB) error {
		if err := tx.PutSetting(ctx, storage.SettingPublishBlocks, v, by); err != nil {
			return err
		}
		return tx.AddAudit(ctx, storage.PolicyAudit{Actor: by, Action: ActionPublish, Detail: v})
	})
	return err
}

// Allow adds an allow rule, or updates its comment.
func (p *Policy) Allow(ctx context.Context, by, domain, comment string) (Result, error) {
	r, err := p.allowRule(domain, comment, by)
	if err != nil {
		return Result{}, err
	}
	return p.put(ctx, by, r)
}

// Block adds a block rule, or updates it.
func (p *Policy) Block(ctx context.Context, by string, in BlockInput) (Result, error) {
	r, err := p.blockRule(in, by)
	if err != nil {
		return Result{}, err
	}
	return p.put(ctx, by, r)
}

func (p *Policy) allowRule(domain, comment, by string) (storage.DomainRule, error) {
	d, err := p.ruleDomain(domain)
	if err != nil {
		return storage.DomainRule{}, err
	}
	if err := checkText("comment", comment); err != nil {
		return storage.DomainRule{}, err
	}
	return storage.DomainRule{Kind: storage.RuleAllow, Domain: d, PublicComment: strings.TrimSpace(comment), CreatedBy: by}, nil
}

func (p *Policy) blockRule(in BlockInput, by string) (storage.DomainRule, error) {
	d, err := p.ruleDomain(in.Domain)
	if err != nil {
		return storage.DomainRule{}, err
	}
	sev, err := ParseSeverity(in.Severity)
	if err != nil {
		return storage.DomainRule{}, err
	}
	for name, v := range map[string]string{"reason": in.Reason, "public comment": in.PublicComment} {
		if err := checkText(name, v); err != nil {
			return storage.DomainRule{}, err
		}
	}
	return storage.DomainRule{
		Kind: storage.RuleBlock, Domain: d, Severity: sev,
		Reason: strings.TrimSpace(in.Reason), PublicComment: strings.TrimSpace(in.PublicComment),
		RejectMedia: in.RejectMedia, RejectReports: in.RejectReports, Obfuscate: in.Obfuscate, CreatedBy: by,
	}, nil
}

// ParseSeverity accepts suspend, limit and Mastodon's silence (= limit);
// empty means suspend.
func ParseSeverity(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", storage.SeveritySuspend:
		return storage.SeveritySuspend, nil
	case storage.SeverityLimit, "silence":
		return storage.SeverityLimit, nil
	}
	return "", fmt.Errorf("%w: severity must be suspend or limit, not %q", ErrInvalid, s)
}

func checkText(name, v string) error {
	if utf8.RuneCountInString(v) > maxTextLen || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return fmt.Errorf("%w: %s must be valid text of at most %d characters", ErrInvalid, name, maxTextLen)
	}
	return nil
}

// ruleDomain normalises a domain for a rule; this instance's own domain
// cannot have one. (A rule that covers it, like its parent domain, is
// fine: the instance itself is always allowed.)
func (p *Policy) ruleDomain(domain string) (string, error) {
	d, err := Normalize(domain)
	if err != nil {
		return "", err
	}
	if d == p.local {
		return "", fmt.Errorf("%w: %s is this instance's own domain", ErrInvalid, d)
	}
	return d, nil
}

func (p *Policy) put(ctx context.Context, by string, r storage.DomainRule) (Result, error) {
	var res Result
	eff, err := p.change(ctx, by, func(tx *storage.DB) error {
		created, changed, err := tx.PutDomainRule(ctx, &r)
		if err != nil {
			return err
		}
		res.Created, res.Changed = created, changed
		if !changed {
			return nil
		}
		return tx.AddAudit(ctx, ruleAudit(by, r, created))
	})
	res.Rule, res.Effects = r, eff
	return res, err
}

func ruleAudit(by string, r storage.DomainRule, created bool) storage.PolicyAudit {
	verb := "updated"
	if created {
		verb = "added"
	}
	action, detail := ActionAllow, verb
	if r.Kind == storage.RuleBlock {
		action = ActionBlock
		detail = fmt.Sprintf("%s, severity %s", verb, r.Severity)
		if r.Reason != "" {
			detail += ", reason: " + r.Reason
		}
	}
	if r.PublicComment != "" {
		detail += ", public comment: " + r.PublicComment
	}
	return storage.PolicyAudit{Actor: by, Action: action, Domain: r.Domain, Detail: detail}
}

// Remove deletes the rules of kind ("" for both) for domain. ErrNotFound
// (storage's) if there were none.
func (p *Policy) Remove(ctx context.Context, by, kind, domain string) (Effects, error) {
	d, err := Normalize(domain)
	if err != nil {
		return Effects{}, err
	}
	kinds := []string{storage.RuleAllow, storage.RuleBlock}
	if kind != "" {
		kinds = []string{kind}
	}
	return p.change(ctx, by, func(tx *storage.DB) error {
		removed := 0
		for _, k := range kinds {
			err := tx.DeleteDomainRule(ctx, k, d)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			removed++
			action := ActionRemoveAllow
			if k == storage.RuleBlock {
				action = ActionRemoveBlock
			}
			if err := tx.AddAudit(ctx, storage.PolicyAudit{Actor: by, Action: action, Domain: d, Detail: "removed"}); err != nil {
				return err
			}
		}
		if removed == 0 {
			return fmt.Errorf("no rule for %s: %w", d, storage.ErrNotFound)
		}
		return nil
	})
}

// RemoveByID deletes rule id of kind (the admin API's delete).
func (p *Policy) RemoveByID(ctx context.Context, by, kind string, id int64) (storage.DomainRule, Effects, error) {
	r, err := p.db.GetDomainRuleByID(ctx, kind, id)
	if err != nil {
		return storage.DomainRule{}, Effects{}, err
	}
	eff, err := p.Remove(ctx, by, kind, r.Domain)
	return *r, eff, err
}

// Rules lists the rules of kind ("" for both), by domain.
func (p *Policy) Rules(ctx context.Context, kind string) ([]storage.DomainRule, error) {
	return p.db.ListDomainRules(ctx, kind)
}

// Rule returns rule id of kind.
func (p *Policy) Rule(ctx context.Context, kind string, id int64) (*storage.DomainRule, error) {
	return p.db.GetDomainRuleByID(ctx, kind, id)
}

// Audit lists the audit log, oldest first, after id afterID.
func (p *Policy) Audit(ctx context.Context, afterID int64, limit int) ([]storage.PolicyAudit, error) {
	return p.db.ListAudit(ctx, afterID, limit)
}

// Partners lists a local community's partner domains.
func (p *Policy) Partners(ctx context.Context, communityActorID int64) ([]storage.CommunityPartner, error) {
	return p.db.ListPartners(ctx, communityActorID)
}

// AddPartner restricts a local community to partner domains (adding one
// more if it already has some). Remote members from other domains are
// removed at once, with audit records.
func (p *Policy) AddPartner(ctx context.Context, by string, community *storage.Actor, domain string) (bool, Effects, error) {
	d, err := p.ruleDomain(domain)
	if err != nil {
		return false, Effects{}, err
	}
	var added bool
	eff, err := p.change(ctx, by, func(tx *storage.DB) error {
		var err error
		added, err = tx.AddPartner(ctx, &storage.CommunityPartner{CommunityActorID: community.ID, Domain: d, CreatedBy: by})
		if err != nil || !added {
			return err
		}
		return tx.AddAudit(ctx, storage.PolicyAudit{Actor: by, Action: ActionPartnerAdd, Domain: d, Detail: "partner of " + community.Handle()})
	})
	if err != nil {
		return false, eff, err
	}
	n, err := p.enforcePartners(ctx, by, community)
	eff.RemovedMemberships += n
	return added, eff, err
}

// RemovePartner removes a partner domain. When it was the last one the
// community is no longer restricted; otherwise members from the removed
// domain are removed.
func (p *Policy) RemovePartner(ctx context.Context, by string, community *storage.Actor, domain string) (Effects, error) {
	d, err := Normalize(domain)
	if err != nil {
		return Effects{}, err
	}
	eff, err := p.change(ctx, by, func(tx *storage.DB) error {
		if err := tx.RemovePartner(ctx, community.ID, d); err != nil {
			return err
		}
		return tx.AddAudit(ctx, storage.PolicyAudit{Actor: by, Action: ActionPartnerRemove, Domain: d, Detail: "no longer a partner of " + community.Handle()})
	})
	if err != nil {
		return eff, err
	}
	n, err := p.enforcePartners(ctx, by, community)
	eff.RemovedMemberships += n
	return eff, err
}

// enforcePartners removes a partner community's remote members whose
// domain is not a partner.
func (p *Policy) enforcePartners(ctx context.Context, by string, community *storage.Actor) (int64, error) {
	var n int64
	err := p.db.Tx(ctx, func(tx *storage.DB) error {
		partners, err := tx.ListPartners(ctx, community.ID)
		if err != nil || len(partners) == 0 {
			return err
		}
		ms, err := tx.FederatedMemberships(ctx, community.ID)
		if err != nil {
			return err
		}
		var (
			ids   []int64
			audit []storage.PolicyAudit
		)
		for _, m := range ms {
			h := HostOf(m.MemberURI)
			if partnerCovers(partners, h, p.local) {
				continue
			}
			ids = append(ids, m.ID)
			audit = append(audit, membershipAudit(by, h, m, h+" is not a partner of the community"))
		}
		if n, err = tx.DeleteMembershipsByID(ctx, ids); err != nil {
			return err
		}
		return tx.AddAudit(ctx, audit...)
	})
	return n, err
}
