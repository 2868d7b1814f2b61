package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/policy"
	"github.com/commonplace/commonplace/storage"
)

// The admins' pages under /admin: the federation policy, accounts,
// communities, reports and delivery health. Every change goes through the
// service or the policy, which write it to the audit log as "web:NAME".

const (
	maxAdminRows  = 500
	maxAuditShown = 100
	maxHostsShown = 100
	// maxImportBytes bounds an uploaded block list; larger lists go
	// through "commonplace federation import".
	maxImportBytes = 512 << 10
)

// mountAdmin adds the admin routes, for admins only.
func (w *Web) mountAdmin(get, post func(access, string, echo.HandlerFunc, ...echo.MiddlewareFunc), form echo.MiddlewareFunc) {
	get(members, "/admin", w.adminHome, form, w.adminOnly)
	get(members, "/admin/federation", w.adminFederation, form, w.adminOnly)
	post(members, "/admin/federation/mode", w.adminSetMode, form, w.adminOnly)
	post(members, "/admin/federation/rules", w.adminAddRule, form, w.adminOnly)
	post(members, "/admin/federation/rules/delete", w.adminRemoveRule, form, w.adminOnly)
	post(members, "/admin/federation/import", w.adminImport, form, w.adminOnly)
	get(members, "/admin/federation/export", w.adminExport, form, w.adminOnly)
	get(members, "/admin/accounts", w.adminAccounts, form, w.adminOnly)
	post(members, "/admin/accounts/:name", w.adminAccountAction, form, w.adminOnly)
	get(members, "/admin/communities", w.adminCommunities, form, w.adminOnly)
	post(members, "/admin/communities", w.adminCreateCommunity, form, w.adminOnly)
	get(members, "/admin/reports", w.adminReports, form, w.adminOnly)
	post(members, "/admin/reports/:id", w.adminCloseReport, form, w.adminOnly)
	get(members, "/admin/deliveries", w.adminDeliveries, form, w.adminOnly)
	post(members, "/admin/deliveries/retry", w.adminRetry, form, w.adminOnly)
	get(members, "/admin/settings", w.adminSettings, form, w.adminOnly)
	post(members, "/admin/settings", w.adminSaveSettings, form, w.adminOnly)
	post(members, "/admin/settings/registrations", w.adminSetRegistrations, form, w.adminOnly)
	post(members, "/admin/communities/transfer", w.adminTransfer, form, w.adminOnly)
	post(members, "/admin/communities/delete", w.adminDeleteCommunity, form, w.adminOnly)
	post(members, "/admin/communities/partners", w.adminPartner, form, w.adminOnly)
}

// operator names the signed-in admin in the audit log.
func (w *Web) operator(c echo.Context) (string, *storage.Account, error) {
	acct, err := w.account(c)
	if err != nil {
		return "", nil, err
	}
	return federation.WebOperator(acct), acct, nil
}

// adminBack sends the admin back to a page with a notice.
func adminBack(c echo.Context, path, notice string) error {
	return c.Redirect(http.StatusSeeOther, path+"?notice="+urlQueryEscape(notice))
}

// adminNotice is the notice a redirect carried: shown as text, so that a
// crafted link can say nothing but words.
func adminNotice(c echo.Context) string {
	n := c.QueryParam("notice")
	if len(n) > 300 {
		return ""
	}
	return n
}

// userError reports whether err is the admin's to fix (shown on the page)
// rather than the server's.
func userError(err error) bool {
	return errors.Is(err, federation.ErrInvalid) || errors.Is(err, policy.ErrInvalid) ||
		errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) || errors.Is(err, federation.ErrForbidden)
}

// --- Overview ---

// AdminHomePage sums up what waits for the admins.
type AdminHomePage struct {
	Page
	Mode           string
	PendingSignUps int
	OpenReports    int64
	FailingHosts   int
	Queue          storage.QueueStats
}

func (w *Web) adminHome(c echo.Context) error {
	ctx := c.Request().Context()
	page := AdminHomePage{Page: w.page(c, "Administration")}
	var err error
	if page.Mode, err = w.svc.Policy.Mode(ctx); err != nil {
		return err
	}
	pending, err := w.db.ListPendingAccounts(ctx, maxPendingShown)
	if err != nil {
		return err
	}
	page.PendingSignUps = len(pending)
	if page.OpenReports, err = w.db.CountOpenReports(ctx, nil, true); err != nil {
		return err
	}
	failing, err := w.db.FailingHosts(ctx, maxHostsShown)
	if err != nil {
		return err
	}
	page.FailingHosts = len(failing)
	if page.Queue, err = w.db.QueueStats(ctx, w.now()); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return w.render(c, http.StatusOK, "admin", page)
}

// --- Federation policy ---

// AdminFederationPage is the federation policy: mode, rules, import and
// export, and the audit log.
type AdminFederationPage struct {
	Page
	Mode           string
	Allows, Blocks []storage.DomainRule
	Audit          []storage.PolicyAudit
	Notice, Error  string
	// ImportErrors are the invalid lines of a refused import.
	ImportErrors []string
}

func (w *Web) adminFederation(c echo.Context) error {
	return w.renderFederation(c, http.StatusOK, "", nil)
}

func (w *Web) renderFederation(c echo.Context, status int, errMsg string, importErrors []string) error {
	ctx := c.Request().Context()
	p := w.svc.Policy
	page := AdminFederationPage{Page: w.page(c, "Federation policy"), Notice: adminNotice(c), Error: errMsg, ImportErrors: importErrors}
	var err error
	if page.Mode, err = p.Mode(ctx); err != nil {
		return err
	}
	if page.Allows, err = p.Rules(ctx, storage.RuleAllow); err != nil {
		return err
	}
	if page.Blocks, err = p.Rules(ctx, storage.RuleBlock); err != nil {
		return err
	}
	if page.Audit, err = w.db.RecentAudit(ctx, 0, maxAuditShown); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return w.render(c, status, "admin_federation", page)
}

// effectsNotice says what a change removed.
func effectsNotice(done string, e policy.Effects) string {
	if e.DroppedDeliveries == 0 && e.RemovedMemberships == 0 {
		return done
	}
	return fmt.Sprintf("%s %d pending deliveries dropped, %d memberships removed.", done, e.DroppedDeliveries, e.RemovedMemberships)
}

func (w *Web) adminSetMode(c echo.Context) error {
	by, _, err := w.operator(c)
	if err != nil {
		return err
	}
	mode := c.FormValue("mode")
	eff, err := w.svc.Policy.SetMode(c.Request().Context(), by, mode)
	if userError(err) {
		return w.renderFederation(c, http.StatusUnprocessableEntity, reason(err), nil)
	} else if err != nil {
		return err
	}
	return adminBack(c, "/admin/federation", effectsNotice("The federation mode is "+mode+".", eff))
}

func (w *Web) adminAddRule(c echo.Context) error {
	by, _, err := w.operator(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	domain := strings.TrimSpace(c.FormValue("domain"))
	var res policy.Result
	switch c.FormValue("kind") {
	case storage.RuleAllow:
		res, err = w.svc.Policy.Allow(ctx, by, domain, c.FormValue("comment"))
	case storage.RuleBlock:
		res, err = w.svc.Policy.Block(ctx, by, policy.BlockInput{
			Domain: domain, Severity: c.FormValue("severity"), Reason: c.FormValue("reason"), PublicComment: c.FormValue("public_comment"),
		})
	default:
		return w.renderFederation(c, http.StatusUnprocessableEntity, "Choose allow or block.", nil)
	}
	if userError(err) {
		return w.renderFederation(c, http.StatusUnprocessableEntity, reason(err), nil)
	} else if err != nil {
		return err
	}
	done := "Rule saved for " + res.Rule.Domain + "."
	if !res.Created && !res.Changed {
		done = "That rule was already in force."
	}
	return adminBack(c, "/admin/federation", effectsNotice(done, res.Effects))
}

func (w *Web) adminRemoveRule(c echo.Context) error {
	by, _, err := w.operator(c)
	if err != nil {
		return err
	}
	domain := c.FormValue("domain")
	eff, err := w.svc.Policy.Remove(c.Request().Context(), by, c.FormValue("kind"), domain)
	if userError(err) {
		return w.renderFederation(c, http.StatusUnprocessableEntity, reason(err), nil)
	} else if err != nil {
		return err
	}
	return adminBack(c, "/admin/federation", effectsNotice("Rule removed for "+domain+".", eff))
}

// adminImport takes a block list in Mastodon's CSV (or, with allows, a
// list of domains) from an uploaded file or the text box: all of it or,
// if any line is invalid, none, with every invalid line listed.
func (w *Web) adminImport(c echo.Context) error {
	by, _, err := w.operator(c)
	if err != nil {
		return err
	}
	data, err := importData(c)
	if err != nil {
		return w.renderFederation(c, http.StatusUnprocessableEntity, err.Error(), nil)
	}
	allows := c.FormValue("allows") == "1"
	var entries []policy.Entry
	if allows {
		entries, err = policy.ParseDomainList(bytes.NewReader(data))
	} else {
		entries, err = policy.ParseBlocksCSV(bytes.NewReader(data))
	}
	if err == nil {
		var res policy.ImportResult
		res, err = w.svc.Policy.Import(c.Request().Context(), by, entries, nil)
		if err == nil {
			return adminBack(c, "/admin/federation", effectsNotice(
				fmt.Sprintf("Imported: %d added, %d changed, %d already in force.", res.Added, res.Changed, res.Skipped), res.Effects))
		}
	}
	var ie *policy.ImportError
	if errors.As(err, &ie) {
		lines := make([]string, 0, len(ie.Lines))
		for i, l := range ie.Lines {
			if i == 50 {
				lines = append(lines, fmt.Sprintf("and %d more", len(ie.Lines)-50))
				break
			}
			lines = append(lines, l.Error())
		}
		return w.renderFederation(c, http.StatusUnprocessableEntity, "Nothing was imported: fix these lines and try again.", lines)
	}
	if userError(err) {
		return w.renderFederation(c, http.StatusUnprocessableEntity, reason(err), nil)
	}
	return err
}

// importData reads the uploaded file, or else the text box.
func importData(c echo.Context) ([]byte, error) {
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		if fh.Size > maxImportBytes {
			return nil, fmt.Errorf("The file is larger than %d KiB: import it with \"commonplace federation import\".", maxImportBytes>>10)
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, maxImportBytes))
	}
	text := c.FormValue("text")
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("Choose a file or paste the list.")
	}
	if len(text) > maxImportBytes {
		return nil, fmt.Errorf("The list is larger than %d KiB: import it with \"commonplace federation import\".", maxImportBytes>>10)
	}
	return []byte(text), nil
}

// adminExport is GET /admin/federation/export: the blocks as Mastodon's
// CSV (without private reasons), or with allows=1 the allowed domains.
func (w *Web) adminExport(c echo.Context) error {
	ctx := c.Request().Context()
	allows := c.QueryParam("allows") == "1"
	kind, name, ctype := storage.RuleBlock, "domain_blocks.csv", "text/csv; charset=utf-8"
	if allows {
		kind, name, ctype = storage.RuleAllow, "domain_allows.txt", "text/plain; charset=utf-8"
	}
	rules, err := w.svc.Policy.Rules(ctx, kind)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if allows {
		err = policy.WriteDomainList(&buf, rules)
	} else {
		err = policy.WriteBlocksCSV(&buf, rules)
	}
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	h.Set(echo.HeaderCacheControl, "no-store")
	return c.Blob(http.StatusOK, ctype, buf.Bytes())
}

// --- Accounts ---

// AdminAccountsPage lists the local accounts.
type AdminAccountsPage struct {
	Page
	Accounts       []AdminAccount
	PendingSignUps int
	Notice, Error  string
	More           bool
	// ResetURL is a reset link just made, shown once, for ResetFor.
	ResetURL, ResetFor string
}

// AdminAccount is an account as the admins see it.
type AdminAccount struct {
	Name, Email, Path               string
	Admin, Disabled, Approved, Self bool
	Created                         time.Time
}

func (w *Web) adminAccounts(c echo.Context) error {
	return w.renderAccounts(c, http.StatusOK, "")
}

func (w *Web) renderAccounts(c echo.Context, status int, errMsg string) error {
	return w.renderAccountsWith(c, status, errMsg, "", "")
}

func (w *Web) renderAccountsWith(c echo.Context, status int, errMsg, resetFor, resetURL string) error {
	ctx := c.Request().Context()
	me, err := w.account(c)
	if err != nil {
		return err
	}
	list, err := w.db.ListAccounts(ctx, maxAdminRows+1)
	if err != nil {
		return err
	}
	page := AdminAccountsPage{Page: w.page(c, "Accounts"), Notice: adminNotice(c), Error: errMsg, ResetFor: resetFor, ResetURL: resetURL}
	if len(list) > maxAdminRows {
		list, page.More = list[:maxAdminRows], true
	}
	for _, a := range list {
		if a.Actor == nil {
			continue
		}
		page.Accounts = append(page.Accounts, AdminAccount{
			Name: a.Actor.Username, Email: a.Email, Path: w.actorPath(a.Actor), Admin: a.Admin, Disabled: a.Disabled,
			Approved: a.Approved, Self: me != nil && me.ID == a.ID, Created: a.CreatedAt,
		})
	}
	pending, err := w.db.ListPendingAccounts(ctx, maxPendingShown)
	if err != nil {
		return err
	}
	page.PendingSignUps = len(pending)
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return w.render(c, status, "admin_accounts", page)
}

func (w *Web) adminAccountAction(c echo.Context) error {
	by, me, err := w.operator(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	name := c.Param("name")
	var done string
	switch c.FormValue("action") {
	case "disable":
		err, done = w.svc.SetAccountDisabled(ctx, me, by, name, true), name+" is disabled and signed out everywhere."
	case "enable":
		err, done = w.svc.SetAccountDisabled(ctx, me, by, name, false), name+" can sign in again."
	case "admin":
		err, done = w.svc.SetAccountAdmin(ctx, me, by, name, true), name+" is an admin now."
	case "unadmin":
		err, done = w.svc.SetAccountAdmin(ctx, me, by, name, false), name+" is no longer an admin."
	case "reset":
		// The link is shown once, on this page, never in a redirect.
		link, err := w.svc.AdminResetLink(ctx, by, name)
		if userError(err) {
			return w.renderAccounts(c, http.StatusUnprocessableEntity, reason(err))
		} else if err != nil {
			return err
		}
		return w.renderAccountsWith(c, http.StatusOK, "", name, link)
	default:
		return w.renderAccounts(c, http.StatusUnprocessableEntity, "Choose what to do with the account.")
	}
	if userError(err) {
		return w.renderAccounts(c, http.StatusUnprocessableEntity, reason(err))
	} else if err != nil {
		return err
	}
	return adminBack(c, "/admin/accounts", done)
}

// --- Communities ---

// AdminCommunitiesPage lists the local communities and creates new ones.
type AdminCommunitiesPage struct {
	Page
	Communities []Community
	// Partners are each community's partner instances, by name.
	Partners      map[string][]string
	Notice, Error string
	// Form brings back a refused community.
	Form federation.NewCommunity
}

func (w *Web) adminCommunities(c echo.Context) error {
	return w.renderAdminCommunities(c, http.StatusOK, "", federation.NewCommunity{})
}

func (w *Web) renderAdminCommunities(c echo.Context, status int, errMsg string, form federation.NewCommunity) error {
	ctx := c.Request().Context()
	list, err := w.db.ListCommunities(ctx, maxAdminRows)
	if err != nil {
		return err
	}
	page := AdminCommunitiesPage{Page: w.page(c, "Communities"), Notice: adminNotice(c), Error: errMsg, Form: form, Partners: map[string][]string{}}
	for i := range list {
		n, err := w.db.CountMembers(ctx, list[i].ActorID, storage.StateAccepted)
		if err != nil {
			return err
		}
		partners, err := w.svc.Policy.Partners(ctx, list[i].ActorID)
		if err != nil {
			return err
		}
		for _, p := range partners {
			page.Partners[list[i].Actor.Username] = append(page.Partners[list[i].Actor.Username], p.Domain)
		}
		page.Communities = append(page.Communities, w.communityView(&list[i], n))
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return w.render(c, status, "admin_communities", page)
}

func (w *Web) adminCreateCommunity(c echo.Context) error {
	by, _, err := w.operator(c)
	if err != nil {
		return err
	}
	in := federation.NewCommunity{
		Name: strings.TrimSpace(c.FormValue("name")), Title: c.FormValue("title"), Summary: c.FormValue("summary"),
		Closed: c.FormValue("closed") == "1", Owner: strings.TrimPrefix(strings.TrimSpace(c.FormValue("owner")), "@"),
	}
	for _, t := range strings.Split(c.FormValue("tags"), ",") {
		if t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "#")); t != "" {
			in.Tags = append(in.Tags, t)
		}
	}
	com, err := w.svc.AdminCreateCommunity(c.Request().Context(), by, in)
	if userError(err) {
		return w.renderAdminCommunities(c, http.StatusUnprocessableEntity, reason(err), in)
	} else if err != nil {
		return err
	}
	return adminBack(c, "/admin/communities", "Created "+com.Title+".")
}

// --- Reports ---

// AdminReportsPage is every open report: the instance's own (about
// accounts, from other servers) and the communities'.
type AdminReportsPage struct {
	Page
	Reports       []ReportView
	Notice, Error string
}

func (w *Web) adminReports(c echo.Context) error {
	return w.renderAdminReports(c, http.StatusOK, "")
}

func (w *Web) renderAdminReports(c echo.Context, status int, errMsg string) error {
	ctx := c.Request().Context()
	list, err := w.db.Reports(ctx, storage.ReportFilter{All: true, State: storage.ReportOpen, Limit: maxQueueShown})
	if err != nil {
		return err
	}
	page := AdminReportsPage{Page: w.page(c, "Reports"), Notice: adminNotice(c), Error: errMsg}
	for i := range list {
		v, err := w.reportView(ctx, &list[i])
		if err != nil {
			return err
		}
		if g := list[i].CommunityActor; g != nil {
			v.Community = g.Handle()
		}
		page.Reports = append(page.Reports, v)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return w.render(c, status, "admin_reports", page)
}

func (w *Web) adminCloseReport(c echo.Context) error {
	by, me, err := w.operator(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "no such report")
	}
	dismiss := c.FormValue("decision") == "dismiss"
	_, err = w.svc.AdminCloseReport(c.Request().Context(), me.Actor, by, id, dismiss, c.FormValue("note"))
	if userError(err) {
		return w.renderAdminReports(c, http.StatusUnprocessableEntity, reason(err))
	} else if err != nil {
		return err
	}
	if dismiss {
		return adminBack(c, "/admin/reports", "Report dismissed; the reporter is told.")
	}
	return adminBack(c, "/admin/reports", "Report resolved; the reporter is told.")
}

// --- Delivery health ---

// AdminDeliveriesPage is the delivery health of remote hosts.
type AdminDeliveriesPage struct {
	Page
	Hosts         []storage.HostHealth
	Queue         storage.QueueStats
	Notice, Error string
}

func (w *Web) adminDeliveries(c echo.Context) error {
	ctx := c.Request().Context()
	page := AdminDeliveriesPage{Page: w.page(c, "Delivery health"), Notice: adminNotice(c)}
	var err error
	if page.Hosts, err = w.db.DeliveryHealth(ctx, maxHostsShown); err != nil {
		return err
	}
	if page.Queue, err = w.db.QueueStats(ctx, w.now()); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return w.render(c, http.StatusOK, "admin_deliveries", page)
}

func (w *Web) adminRetry(c echo.Context) error {
	by, _, err := w.operator(c)
	if err != nil {
		return err
	}
	host := c.FormValue("host")
	n, err := w.svc.RetryHost(c.Request().Context(), by, host)
	if userError(err) {
		return adminBack(c, "/admin/deliveries", reason(err))
	} else if err != nil {
		return err
	}
	return adminBack(c, "/admin/deliveries", fmt.Sprintf("%d deliveries to %s are being sent now.", n, host))
}

// --- Instance settings ---

// AdminSettingsPage is what the instance says about itself.
type AdminSettingsPage struct {
	Page
	Settings  federation.InstanceSettings
	RulesText string
	// Registrations is the mode in force; Configured the configuration's,
	// used when no admin chose one.
	Registrations, Configured string
	Modes                     []string
	Notice, Error             string
}

func (w *Web) adminSettings(c echo.Context) error {
	st, err := w.svc.InstanceSettings(c.Request().Context())
	if err != nil {
		return err
	}
	return w.renderAdminSettings(c, http.StatusOK, "", st)
}

func (w *Web) renderAdminSettings(c echo.Context, status int, errMsg string, st federation.InstanceSettings) error {
	mode, err := w.registrationMode(c)
	if err != nil {
		return err
	}
	page := AdminSettingsPage{Page: w.page(c, "Instance settings"), Settings: st, RulesText: strings.Join(st.Rules, "\n"),
		Registrations: mode, Configured: w.cfg.Registrations, Modes: federation.RegistrationModes, Notice: adminNotice(c), Error: errMsg}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return w.render(c, status, "admin_settings", page)
}

func (w *Web) adminSaveSettings(c echo.Context) error {
	by, _, err := w.operator(c)
	if err != nil {
		return err
	}
	st := federation.InstanceSettings{Title: c.FormValue("title"), Description: c.FormValue("description"),
		ContactEmail: c.FormValue("contact"), Rules: strings.Split(c.FormValue("rules"), "\n")}
	if err := w.svc.SetInstanceSettings(c.Request().Context(), by, st); userError(err) {
		return w.renderAdminSettings(c, http.StatusUnprocessableEntity, reason(err), st)
	} else if err != nil {
		return err
	}
	return adminBack(c, "/admin/settings", "Settings saved.")
}

// adminSetRegistrations is POST /admin/settings/registrations: mode, or
// "config" for the configured one.
func (w *Web) adminSetRegistrations(c echo.Context) error {
	by, _, err := w.operator(c)
	if err != nil {
		return err
	}
	mode := c.FormValue("mode")
	if mode == "config" {
		mode = ""
	}
	if err := w.svc.SetRegistrationMode(c.Request().Context(), by, mode); userError(err) {
		st, serr := w.svc.InstanceSettings(c.Request().Context())
		if serr != nil {
			return serr
		}
		return w.renderAdminSettings(c, http.StatusUnprocessableEntity, reason(err), st)
	} else if err != nil {
		return err
	}
	return adminBack(c, "/admin/settings", "Registration mode saved.")
}

// adminTransfer is POST /admin/communities/transfer: community, owner.
func (w *Web) adminTransfer(c echo.Context) error {
	by, _, err := w.operator(c)
	if err != nil {
		return err
	}
	name, owner := strings.TrimSpace(c.FormValue("community")), strings.TrimSpace(c.FormValue("owner"))
	if err := w.svc.TransferCommunity(c.Request().Context(), by, name, owner); userError(err) {
		return w.renderAdminCommunities(c, http.StatusUnprocessableEntity, reason(err), federation.NewCommunity{})
	} else if err != nil {
		return err
	}
	return adminBack(c, "/admin/communities", strings.TrimPrefix(owner, "@")+" owns "+name+" now.")
}

// adminPartner is POST /admin/communities/partners: community, domain,
// and remove=1 to remove it. A community with partners federates only
// with them.
func (w *Web) adminPartner(c echo.Context) error {
	by, _, err := w.operator(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	name, domain := strings.TrimSpace(c.FormValue("community")), strings.TrimSpace(c.FormValue("domain"))
	com, err := w.db.GetCommunityByName(ctx, name)
	if userError(err) {
		return w.renderAdminCommunities(c, http.StatusUnprocessableEntity, "No community is called "+name+".", federation.NewCommunity{})
	} else if err != nil {
		return err
	}
	var eff policy.Effects
	done := domain + " is a partner of " + name + "."
	if c.FormValue("remove") == "1" {
		eff, err = w.svc.Policy.RemovePartner(ctx, by, com.Actor, domain)
		done = domain + " is no longer a partner of " + name + "."
	} else {
		_, eff, err = w.svc.Policy.AddPartner(ctx, by, com.Actor, domain)
	}
	if userError(err) {
		return w.renderAdminCommunities(c, http.StatusUnprocessableEntity, reason(err), federation.NewCommunity{})
	} else if err != nil {
		return err
	}
	return adminBack(c, "/admin/communities", effectsNotice(done, eff))
}

// adminDeleteCommunity is POST /admin/communities/delete: community and
// confirm, which must repeat its name.
func (w *Web) adminDeleteCommunity(c echo.Context) error {
	by, _, err := w.operator(c)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("community"))
	if name == "" || strings.TrimSpace(c.FormValue("confirm")) != name {
		return w.renderAdminCommunities(c, http.StatusUnprocessableEntity, "To delete a community, type its name again to confirm.", federation.NewCommunity{})
	}
	if err := w.svc.DeleteCommunity(c.Request().Context(), by, name); userError(err) {
		return w.renderAdminCommunities(c, http.StatusUnprocessableEntity, reason(err), federation.NewCommunity{})
	} else if err != nil {
		return err
	}
	return adminBack(c, "/admin/communities", "Deleted "+name+"; the members' servers are being told.")
}
