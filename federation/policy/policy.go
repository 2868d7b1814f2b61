// Package policy decides which other instances this one federates with:
// the mode (blocklist or allowlist), allow and block rules by domain,
// partner communities, and the audit log of every change.
//
// Every path that talks to another server asks Check (or CheckURL): the
// inbox before it verifies a signature, the fetcher before it connects,
// the sender before it queues and the delivery worker before it posts.
// The rules live in the database, so a change made on one replica (or by
// the CLI) is in force on every replica within the cache TTL (one second).
package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/commonplace/commonplace/federation/hostname"
	"github.com/commonplace/commonplace/storage"
)

// DefaultTTL is how long a process trusts a decision it read from the
// database. It bounds how stale a replica can be after a change; changes
// made through this process clear its cache at once.
const DefaultTTL = time.Second

// maxCached bounds the decision cache; it is emptied when full.
const maxCached = 10000

// Decision is the policy's answer for one domain.
type Decision struct {
	Domain string
	// Allowed: this instance federates with the domain.
	Allowed bool
	// Limited: federated with, but hidden from public timelines and
	// directories (a block of severity limit).
	Limited bool
	// Mode in force when the decision was made.
	Mode string
	// Rule is the rule that decided, nil when the mode's default did.
	Rule *storage.DomainRule
}

// Err is nil when the domain is allowed, else an ErrRefused error that is
// safe to show the remote server (it never carries the private reason).
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	if d.Domain == "" {
		return fmt.Errorf("%w: no domain", ErrRefused)
	}
	return fmt.Errorf("%w: this instance does not federate with %s", ErrRefused, d.Domain)
}

// Policy reads and changes the federation policy. It is safe for
// concurrent use.
type Policy struct {
	db *storage.DB
	// local is this instance's own host[:port], always allowed.
	local string
	log   *slog.Logger
	ttl   time.Duration

	mu     sync.Mutex
	cache  map[string]cachedDecision
	mode   string
	modeAt time.Time
}

type cachedDecision struct {
	d  Decision
	at time.Time
}

// New returns the policy of the instance at local (its host[:port]).
func New(db *storage.DB, local string, log *slog.Logger) *Policy {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	local, _ = Normalize(local)
	return &Policy{db: db, local: local, log: log, ttl: DefaultTTL, cache: map[string]cachedDecision{}}
}

// SetTTL changes how long decisions are cached; 0 disables the cache.
func (p *Policy) SetTTL(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ttl = d
	p.cache = map[string]cachedDecision{}
	p.modeAt = time.Time{}
}

// Local is this instance's own domain.
func (p *Policy) Local() string { return p.local }

// Invalidate forgets cached decisions, after a change by this process.
func (p *Policy) Invalidate() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cache = map[string]cachedDecision{}
	p.modeAt = time.Time{}
}

// CurrentMode is Mode through the cache: for per-request checks such as
// secure mode's signed fetches.
func (p *Policy) CurrentMode(ctx context.Context) (string, error) {
	now := time.Now()
	p.mu.Lock()
	m, at, ttl := p.mode, p.modeAt, p.ttl
	p.mu.Unlock()
	if !at.IsZero() && now.Sub(at) < ttl {
		return m, nil
	}
	m, err := mode(ctx, p.db)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	p.mode, p.modeAt = m, now
	p.mu.Unlock()
	return m, nil
}

// Check decides whether this instance federates with domain, a
// host[:port]. It is judged in its canonical form (package hostname), as
// HostOf returns it: another spelling of a refused host is refused too,
// and a domain that has none is refused.
func (p *Policy) Check(ctx context.Context, domain string) (Decision, error) {
	if c, err := hostname.Canonical(domain, ""); err == nil {
		domain = c
	} else {
		domain = ""
	}
	return p.checkOn(ctx, p.db, domain)
}

// RefusedOn is Refused reading through db, a transaction in progress: a
// check made inside a transaction must not wait for a second connection,
// which on SQLite a busy pool may never free.
func (p *Policy) RefusedOn(ctx context.Context, db *storage.DB, uri string) error {
	d, err := p.checkOn(ctx, db, HostOf(uri))
	if err != nil {
		return err
	}
	return d.Err()
}

func (p *Policy) checkOn(ctx context.Context, db *storage.DB, domain string) (Decision, error) {
	if domain == "" {
		return Decision{}, nil
	}
	now := time.Now()
	p.mu.Lock()
	ttl := p.ttl
	c, ok := p.cache[domain]
	p.mu.Unlock()
	if ok && now.Sub(c.at) < ttl {
		return c.d, nil
	}
	d, err := p.decide(ctx, db, domain)
	if err != nil {
		return d, err
	}
	if ttl > 0 {
		p.mu.Lock()
		if len(p.cache) >= maxCached {
			p.cache = map[string]cachedDecision{}
		}
		p.cache[domain] = cachedDecision{d, now}
		p.mu.Unlock()
	}
	return d, nil
}

// CheckURL decides for the host of uri. A URI that is not an absolute
// http(s) URL is refused.
func (p *Policy) CheckURL(ctx context.Context, uri string) (Decision, error) {
	return p.Check(ctx, HostOf(uri))
}

// Refused returns an ErrRefused error when the policy refuses the host of
// uri, nil when it is allowed, or the error reading the policy.
func (p *Policy) Refused(ctx context.Context, uri string) error {
	d, err := p.CheckURL(ctx, uri)
	if err != nil {
		return err
	}
	return d.Err()
}

// AllowHost reports whether deliveries to host (a delivery's host) may
// be sent; the delivery worker asks it before every POST.
func (p *Policy) AllowHost(ctx context.Context, host string) (bool, error) {
	d, err := p.Check(ctx, host)
	return d.Allowed, err
}

// PrepareHosts decides for hosts at once with CheckMany and caches the
// decisions, for the delivery worker: the AllowHost calls for a claimed
// batch of deliveries then cost no query.
func (p *Policy) PrepareHosts(ctx context.Context, hosts []string) error {
	_, err := p.CheckMany(ctx, p.db, hosts)
	return err
}

// decide reads the rules covering domain on db (a transaction during a
// change) and applies them:
//
//   - a suspend block covering the domain refuses it, whatever else;
//   - in allowlist mode, the domain must be covered by an allow rule;
//   - a limit block lets it federate but marks it limited.
func (p *Policy) decide(ctx context.Context, db *storage.DB, domain string) (Decision, error) {
	if domain == p.local {
		return p.apply(domain, storage.ModeBlocklist, nil), nil
	}
	mode, err := mode(ctx, db)
	if err != nil {
		return Decision{Domain: domain, Mode: storage.ModeBlocklist}, err
	}
	rules, err := db.DomainRulesFor(ctx, candidates(domain))
	if err != nil {
		return Decision{Domain: domain, Mode: mode}, err
	}
	return p.apply(domain, mode, rules), nil
}

// apply decides for domain under mode, given rules that include every
// rule covering domain (others are ignored).
func (p *Policy) apply(domain, mode string, rules []storage.DomainRule) Decision {
	d := Decision{Domain: domain, Mode: storage.ModeBlocklist}
	if domain == p.local {
		d.Allowed = true
		return d
	}
	d.Mode = mode
	cands := candidates(domain)
	rules = slices.DeleteFunc(slices.Clone(rules), func(r storage.DomainRule) bool { return !slices.Contains(cands, r.Domain) })
	// Most specific first.
	slices.SortFunc(rules, func(a, b storage.DomainRule) int {
		return slices.Index(cands, a.Domain) - slices.Index(cands, b.Domain)
	})
	var allow, block *storage.DomainRule
	for i := range rules {
		r := &rules[i]
		switch {
		case r.Kind == storage.RuleAllow && allow == nil:
			allow = r
		case r.Kind == storage.RuleBlock && r.Severity == storage.SeveritySuspend:
			d.Rule = r
			return d
		case r.Kind == storage.RuleBlock && block == nil:
			block = r
		}
	}
	if mode == storage.ModeAllowlist && allow == nil {
		return d
	}
	d.Allowed = true
	d.Rule = allow
	if block != nil {
		d.Limited, d.Rule = true, block
	}
	return d
}

// maxRuleQuery bounds the candidate domains of one rules query, well
// under SQLite's and PostgreSQL's limits on bound parameters.
const maxRuleQuery = 1000

// CheckMany is Check for many domains at once, reading through db (a
// transaction in progress, as for RefusedOn). The decisions not cached
// cost one read of the mode and one query per 1,000 candidate rule
// domains, where Check costs two queries per domain: a fan-out to 1,000
// new hosts made 2,000 queries before its first delivery. The decisions
// are cached as Check's are, so the delivery worker's checks that follow
// are answered from the cache.
func (p *Policy) CheckMany(ctx context.Context, db *storage.DB, domains []string) (map[string]Decision, error) {
	out := make(map[string]Decision, len(domains))
	now := time.Now()
	p.mu.Lock()
	ttl := p.ttl
	var todo []string
	for _, domain := range domains {
		if _, done := out[domain]; done {
			continue
		}
		if c, ok := p.cache[domain]; ok && now.Sub(c.at) < ttl {
			out[domain] = c.d
			continue
		}
		switch domain {
		case "":
			out[domain] = Decision{}
		case p.local:
			out[domain] = p.apply(domain, storage.ModeBlocklist, nil)
		default:
			out[domain] = Decision{} // a placeholder until decided
			todo = append(todo, domain)
		}
	}
	p.mu.Unlock()
	if len(todo) == 0 {
		return out, nil
	}
	mode, err := mode(ctx, db)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool)
	var cands []string
	for _, domain := range todo {
		for _, c := range candidates(domain) {
			if !seen[c] {
				seen[c] = true
				cands = append(cands, c)
			}
		}
	}
	var rules []storage.DomainRule
	for chunk := range slices.Chunk(cands, maxRuleQuery) {
		rs, err := db.DomainRulesFor(ctx, chunk)
		if err != nil {
			return nil, err
		}
		rules = append(rules, rs...)
	}
	byDomain := make(map[string][]storage.DomainRule)
	for _, r := range rules {
		byDomain[r.Domain] = append(byDomain[r.Domain], r)
	}
	for _, domain := range todo {
		var mine []storage.DomainRule
		for _, c := range candidates(domain) {
			mine = append(mine, byDomain[c]...)
		}
		out[domain] = p.apply(domain, mode, mine)
	}
	if ttl > 0 {
		p.mu.Lock()
		if len(p.cache)+len(todo) > maxCached {
			p.cache = map[string]cachedDecision{}
		}
		for _, domain := range todo {
			p.cache[domain] = cachedDecision{out[domain], now}
		}
		p.mu.Unlock()
	}
	return out, nil
}

func mode(ctx context.Context, db *storage.DB) (string, error) {
	s, err := db.GetSetting(ctx, storage.SettingMode)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.ModeBlocklist, nil
	}
	if err != nil {
		return "", err
	}
	return s.Value, nil
}

// Mode returns the mode in force, read from the database.
func (p *Policy) Mode(ctx context.Context) (string, error) { return mode(ctx, p.db) }

// PublishBlocks reports whether the admin publishes the block list at
// /api/v1/instance/domain_blocks.
func (p *Policy) PublishBlocks(ctx context.Context) (bool, error) {
	s, err := p.db.GetSetting(ctx, storage.SettingPublishBlocks)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.Value == "on", nil
}

// PartnerAllows reports whether a local community federates with the
// host of actorURI: always when the community has no partners or the
// actor is local, else only when a partner domain covers the host. It
// sits on top of Check: the instance policy must allow the host too.
func (p *Policy) PartnerAllows(ctx context.Context, communityActorID int64, actorURI string) (bool, error) {
	partners, err := p.db.ListPartners(ctx, communityActorID)
	if err != nil || len(partners) == 0 {
		return err == nil, err
	}
	return partnerCovers(partners, HostOf(actorURI), p.local), nil
}

// PartnerInboxes keeps the inboxes of a community's redistribution that
// its partners cover; all of them when it has no partners.
func (p *Policy) PartnerInboxes(ctx context.Context, db *storage.DB, communityActorID int64, inboxes []string) ([]string, error) {
	partners, err := db.ListPartners(ctx, communityActorID)
	if err != nil || len(partners) == 0 {
		return inboxes, err
	}
	out := inboxes[:0:0]
	for _, in := range inboxes {
		if partnerCovers(partners, HostOf(in), p.local) {
			out = append(out, in)
		}
	}
	return out, nil
}

func partnerCovers(partners []storage.CommunityPartner, host, local string) bool {
	if host == "" {
		return false
	}
	if host == local {
		return true
	}
	for _, c := range partners {
		if covers(c.Domain, host) {
			return true
		}
	}
	return false
}
