package mastoapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation/policy"
	"github.com/commonplace/commonplace/storage"
)

// Mastodon's admin API for the federation policy
// (docs.joinmastodon.org/methods/admin/domain_blocks and domain_allows),
// and the public list of blocks when the admin publishes it. Changes go
// through federation/policy, like the CLI's, and are audited with the
// token's account.

func (a *API) adminDomainRoutes() {
	rb, wb := userScoped("admin:read:domain_blocks"), userScoped("admin:write:domain_blocks")
	ra, wa := userScoped("admin:read:domain_allows"), userScoped("admin:write:domain_allows")
	a.add(http.MethodGet, "/api/v1/admin/domain_blocks", rb, a.adminOnly(a.listDomainRules(storage.RuleBlock)))
	a.add(http.MethodGet, "/api/v1/admin/domain_blocks/:id", rb, a.adminOnly(a.getDomainRule(storage.RuleBlock)))
	a.add(http.MethodPost, "/api/v1/admin/domain_blocks", wb, a.adminOnly(a.putDomainBlock(false)))
	a.add(http.MethodPut, "/api/v1/admin/domain_blocks/:id", wb, a.adminOnly(a.putDomainBlock(true)))
	a.add(http.MethodDelete, "/api/v1/admin/domain_blocks/:id", wb, a.adminOnly(a.deleteDomainRule(storage.RuleBlock)))
	a.add(http.MethodGet, "/api/v1/admin/domain_allows", ra, a.adminOnly(a.listDomainRules(storage.RuleAllow)))
	a.add(http.MethodGet, "/api/v1/admin/domain_allows/:id", ra, a.adminOnly(a.getDomainRule(storage.RuleAllow)))
	a.add(http.MethodPost, "/api/v1/admin/domain_allows", wa, a.adminOnly(a.createDomainAllow))
	a.add(http.MethodDelete, "/api/v1/admin/domain_allows/:id", wa, a.adminOnly(a.deleteDomainRule(storage.RuleAllow)))
	a.add(http.MethodGet, "/api/v1/instance/domain_blocks", open(), a.publicDomainBlocks)
}

// adminOnly requires the token's account to be an admin, as Mastodon
// requires the Manage Federation permission.
func (a *API) adminOnly(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		t := currentToken(c)
		if t == nil || t.Account == nil || !t.Account.Admin {
			return errorf(http.StatusForbidden, "This action is not allowed")
		}
		return h(c)
	}
}

// auditActor names the token's account in the audit log.
func auditActor(c echo.Context) string {
	if v := viewer(c); v != nil {
		return "api:" + v.Handle()
	}
	return "api:unknown"
}

// adminDomainBlock is Mastodon's Admin::DomainBlock entity.
type adminDomainBlock struct {
	ID             string `json:"id"`
	Domain         string `json:"domain"`
	Digest         string `json:"digest"`
	CreatedAt      string `json:"created_at"`
	Severity       string `json:"severity"`
	RejectMedia    bool   `json:"reject_media"`
	RejectReports  bool   `json:"reject_reports"`
	PrivateComment string `json:"private_comment"`
	PublicComment  string `json:"public_comment"`
	Obfuscate      bool   `json:"obfuscate"`
}

// adminDomainAllow is Mastodon's Admin::DomainAllow entity.
type adminDomainAllow struct {
	ID        string `json:"id"`
	Domain    string `json:"domain"`
	CreatedAt string `json:"created_at"`
}

// publicDomainBlock is Mastodon's DomainBlock entity.
type publicDomainBlock struct {
	Domain   string `json:"domain"`
	Digest   string `json:"digest"`
	Severity string `json:"severity"`
	Comment  string `json:"comment,omitempty"`
}

func digest(domain string) string {
	sum := sha256.Sum256([]byte(domain))
	return hex.EncodeToString(sum[:])
}

// mastodonSeverity names limit as Mastodon does.
func mastodonSeverity(s string) string {
	if s == storage.SeverityLimit {
		return "silence"
	}
	return s
}

func ruleEntity(r *storage.DomainRule) any {
	if r.Kind == storage.RuleAllow {
		return adminDomainAllow{ID: strconv.FormatInt(r.ID, 10), Domain: r.Domain, CreatedAt: iso(r.CreatedAt)}
	}
	return adminDomainBlock{
		ID: strconv.FormatInt(r.ID, 10), Domain: r.Domain, Digest: digest(r.Domain), CreatedAt: iso(r.CreatedAt),
		Severity: mastodonSeverity(r.Severity), RejectMedia: r.RejectMedia, RejectReports: r.RejectReports,
		PrivateComment: r.Reason, PublicComment: r.PublicComment, Obfuscate: r.Obfuscate,
	}
}

func (a *API) listDomainRules(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		rules, err := a.svc.Policy.Rules(c.Request().Context(), kind)
		if err != nil {
			return err
		}
		out := make([]any, 0, len(rules))
		for i := range rules {
			out = append(out, ruleEntity(&rules[i]))
		}
		return c.JSON(http.StatusOK, out)
	}
}

func ruleID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound
	}
	return id, nil
}

func (a *API) getDomainRule(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := ruleID(c)
		if err != nil {
			return err
		}
		r, err := a.svc.Policy.Rule(c.Request().Context(), kind, id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, ruleEntity(r))
	}
}

// policyError maps the policy's invalid input to Mastodon's 422.
func policyError(err error) error {
	if errors.Is(err, policy.ErrInvalid) {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: %s", err.Error())
	}
	return err
}

// putDomainBlock creates a block (POST) or updates one (PUT :id); fields
// left out of an update keep their values.
func (a *API) putDomainBlock(update bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		p, err := a.params(c)
		if err != nil {
			return err
		}
		in := policy.BlockInput{Domain: p.Get("domain")}
		if update {
			id, err := ruleID(c)
			if err != nil {
				return err
			}
			old, err := a.svc.Policy.Rule(ctx, storage.RuleBlock, id)
			if err != nil {
				return err
			}
			in = policy.BlockInput{Domain: old.Domain, Severity: old.Severity, Reason: old.Reason, PublicComment: old.PublicComment,
				RejectMedia: old.RejectMedia, RejectReports: old.RejectReports, Obfuscate: old.Obfuscate}
		} else if in.Domain == "" {
			return errorf(http.StatusUnprocessableEntity, "Validation failed: Domain can't be blank")
		}
		if p.has("severity") {
			if p.Get("severity") == "noop" {
				return errorf(http.StatusUnprocessableEntity, "Validation failed: severity noop is not supported")
			}
			in.Severity = p.Get("severity")
		}
		if p.has("private_comment") {
			in.Reason = p.Get("private_comment")
		}
		if p.has("public_comment") {
			in.PublicComment = p.Get("public_comment")
		}
		if p.has("reject_media") {
			in.RejectMedia = p.bool("reject_media")
		}
		if p.has("reject_reports") {
			in.RejectReports = p.bool("reject_reports")
		}
		if p.has("obfuscate") {
			in.Obfuscate = p.bool("obfuscate")
		}
		res, err := a.svc.Policy.Block(ctx, auditActor(c), in)
		if err != nil {
			return policyError(err)
		}
		return c.JSON(http.StatusOK, ruleEntity(&res.Rule))
	}
}

func (a *API) createDomainAllow(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	if p.Get("domain") == "" {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: Domain can't be blank")
	}
	res, err := a.svc.Policy.Allow(c.Request().Context(), auditActor(c), p.Get("domain"), "")
	if err != nil {
		return policyError(err)
	}
	return c.JSON(http.StatusOK, ruleEntity(&res.Rule))
}

func (a *API) deleteDomainRule(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := ruleID(c)
		if err != nil {
			return err
		}
		if _, _, err := a.svc.Policy.RemoveByID(c.Request().Context(), auditActor(c), kind, id); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{})
	}
}

// publicDomainBlocks lists blocks without private reasons, only when the
// admin publishes them (commonplace federation publish on); otherwise 404,
// as Mastodon answers when the list is not shown.
func (a *API) publicDomainBlocks(c echo.Context) error {
	ctx := c.Request().Context()
	on, err := a.svc.Policy.PublishBlocks(ctx)
	if err != nil {
		return err
	}
	if !on {
		return errNotFound
	}
	rules, err := a.svc.Policy.Rules(ctx, storage.RuleBlock)
	if err != nil {
		return err
	}
	out := make([]publicDomainBlock, 0, len(rules))
	for _, r := range rules {
		b := publicDomainBlock{Domain: r.Domain, Digest: digest(r.Domain), Severity: mastodonSeverity(r.Severity), Comment: r.PublicComment}
		if r.Obfuscate {
			b.Domain = obfuscate(r.Domain)
		}
		out = append(out, b)
	}
	return c.JSON(http.StatusOK, out)
}

// obfuscate hides part of a domain as Mastodon does: every other
// character of each label after the first becomes '*'.
func obfuscate(d string) string {
	b := []byte(d)
	for i := range b {
		if i%3 == 1 && b[i] != '.' && b[i] != ':' {
			b[i] = '*'
		}
	}
	return string(b)
}
