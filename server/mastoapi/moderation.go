package mastoapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// Reports (Mastodon's POST /api/v1/reports) and Commonplace's own
// moderation endpoints: a community's moderators, bans, posting rule,
// modlog and report queue under /api/v1/communities/:id (the Group's
// account id), and a moderator's remove, lock and unlock of a status.

// moderationRoutes are the endpoints of issue 14.
func (a *API) moderationRoutes() {
	get, post, del := http.MethodGet, http.MethodPost, http.MethodDelete
	mod := userScoped("write:statuses", "write:reports")
	a.add(post, "/api/v1/reports", userScoped("write:reports"), a.createReport)
	a.add(post, "/api/v1/reports/:id/resolve", mod, a.closeReport(false))
	a.add(post, "/api/v1/reports/:id/dismiss", mod, a.closeReport(true))
	a.add(post, "/api/v1/statuses/:id/remove", mod, a.removeStatus)
	a.add(post, "/api/v1/statuses/:id/lock", mod, a.lockStatus(true))
	a.add(post, "/api/v1/statuses/:id/unlock", mod, a.lockStatus(false))
	a.add(get, "/api/v1/communities/:id/moderators", public(), a.communityModerators)
	a.add(post, "/api/v1/communities/:id/moderators", mod, a.appoint(true))
	a.add(del, "/api/v1/communities/:id/moderators/:account_id", mod, a.appoint(false))
	a.add(get, "/api/v1/communities/:id/bans", userScoped("read:statuses", "read:reports"), a.communityBans)
	a.add(post, "/api/v1/communities/:id/bans", mod, a.ban)
	a.add(del, "/api/v1/communities/:id/bans/:account_id", mod, a.unban)
	a.add(post, "/api/v1/communities/:id/posting", mod, a.restrictPosting)
	a.add(get, "/api/v1/communities/:id/modlog", public(), a.modlog)
	a.add(get, "/api/v1/communities/:id/reports", userScoped("read:statuses", "read:reports"), a.communityReports)
}

// Report is Mastodon's Report entity, with Commonplace's state.
type Report struct {
	ID            string   `json:"id"`
	ActionTaken   bool     `json:"action_taken"`
	ActionTakenAt *string  `json:"action_taken_at"`
	Category      string   `json:"category"`
	Comment       string   `json:"comment"`
	Forwarded     bool     `json:"forwarded"`
	CreatedAt     string   `json:"created_at"`
	StatusIDs     []string `json:"status_ids"`
	RuleIDs       []string `json:"rule_ids"`
	TargetAccount *Account `json:"target_account"`
	// Commonplace: open, resolved or dismissed; who reported (for
	// moderators), the community, and the reported posts' ids.
	State      string   `json:"state"`
	Account    *Account `json:"account,omitempty"`
	Community  *Account `json:"community,omitempty"`
	StatusURIs []string `json:"status_uris"`
}

func (a *API) reportEntity(c echo.Context, r *storage.Report, withReporter bool) (*Report, error) {
	return a.renderer(c).report(r, withReporter)
}

// report renders a report; withReporter names who reported (for those
// who handle it).
func (rd *renderer) report(r *storage.Report, withReporter bool) (*Report, error) {
	a := rd.a
	out := &Report{
		ID: id(r.ID), ActionTaken: r.State != storage.ReportOpen, Category: r.Category, Comment: r.Comment,
		Forwarded: r.Forwarded, CreatedAt: iso(r.CreatedAt), StatusIDs: []string{}, State: r.State,
		StatusURIs: r.Objects(),
	}
	if out.StatusURIs == nil {
		out.StatusURIs = []string{}
	}
	if r.ResolvedAt != nil {
		out.ActionTakenAt = ptr(iso(*r.ResolvedAt))
	}
	for _, uri := range r.Objects() {
		if o, err := a.db.GetObjectByURI(rd.ctx, uri); err == nil {
			out.StatusIDs = append(out.StatusIDs, id(o.ID))
		}
	}
	var err error
	if r.TargetActor != nil {
		if out.TargetAccount, err = rd.account(r.TargetActor); err != nil {
			return nil, err
		}
	}
	if r.CommunityActor != nil {
		if out.Community, err = rd.account(r.CommunityActor); err != nil {
			return nil, err
		}
	}
	if withReporter && r.ReporterActor != nil {
		if out.Account, err = rd.account(r.ReporterActor); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// createReport is POST /api/v1/reports: account_id, status_ids[],
// comment, category, forward.
func (a *API) createReport(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	in := federation.NewReport{Comment: p.Get("comment"), Category: p.Get("category"), Forward: p.bool("forward")}
	if s := p.Get("account_id"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return errNotFound
		}
		target, err := a.db.GetActorByID(ctx, n)
		if err != nil {
			return err
		}
		in.Account = target.URI
	} else {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: account_id is required")
	}
	for _, sid := range p.list("status_ids") {
		o, err := a.objectByID(ctx, viewer(c), sid)
		if err != nil {
			return err
		}
		in.Objects = append(in.Objects, o.URI)
	}
	r, err := a.svc.Report(ctx, viewer(c), in)
	if err != nil {
		return err
	}
	out, err := a.reportEntity(c, r, false)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// closeReport is POST /api/v1/reports/:id/resolve (dismiss), for the
// report's community's moderators and admins; note is for the modlog.
func (a *API) closeReport(dismiss bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		n, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return errNotFound
		}
		p, err := a.params(c)
		if err != nil {
			return err
		}
		r, err := a.svc.CloseReport(c.Request().Context(), viewer(c), n, dismiss, p.Get("note"))
		if err != nil {
			return err
		}
		out, err := a.reportEntity(c, r, true)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, out)
	}
}

func reasonOf(p params) federation.Reason {
	return federation.Reason{Text: p.Get("reason"), Private: p.bool("private")}
}

// removeStatus is POST /api/v1/statuses/:id/remove: a moderator takes a
// post out of its community (reason, private).
func (a *API) removeStatus(c echo.Context) error {
	o, err := a.objectParam(c)
	if err != nil {
		return err
	}
	p, err := a.params(c)
	if err != nil {
		return err
	}
	if err := a.svc.RemovePost(c.Request().Context(), viewer(c), o.URI, reasonOf(p)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{})
}

// lockStatus is POST /api/v1/statuses/:id/lock (unlock).
func (a *API) lockStatus(locked bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		o, err := a.objectParam(c)
		if err != nil {
			return err
		}
		p, err := a.params(c)
		if err != nil {
			return err
		}
		if err := a.svc.LockPost(c.Request().Context(), viewer(c), o.URI, locked, reasonOf(p)); err != nil {
			return err
		}
		fresh, err := a.db.GetObjectByURI(c.Request().Context(), o.URI)
		if err != nil {
			return err
		}
		return a.renderStatus(c, fresh)
	}
}

// communityParam is the Group of /api/v1/communities/:id.
func (a *API) communityParam(c echo.Context) (*storage.Actor, error) {
	g, err := a.actorParam(c)
	if err != nil {
		return nil, err
	}
	if g.Type != storage.TypeGroup {
		return nil, errNotFound
	}
	return g, nil
}

// accountRef is the actor id of an account_id parameter or path segment.
func (a *API) accountRef(c echo.Context, s string) (string, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return "", errNotFound
	}
	who, err := a.db.GetActorByID(c.Request().Context(), n)
	if err != nil {
		return "", err
	}
	return who.URI, nil
}

func (a *API) accounts(c echo.Context, actors []storage.Actor) ([]*Account, error) {
	rd := a.renderer(c)
	out := make([]*Account, 0, len(actors))
	for i := range actors {
		acc, err := rd.account(&actors[i])
		if err != nil {
			return nil, err
		}
		out = append(out, acc)
	}
	return out, nil
}

// communityModerators is GET /api/v1/communities/:id/moderators.
func (a *API) communityModerators(c echo.Context) error {
	g, err := a.communityParam(c)
	if err != nil {
		return err
	}
	mods, err := a.db.Moderators(c.Request().Context(), g.ID)
	if err != nil {
		return err
	}
	out, err := a.accounts(c, mods)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// appoint is POST /api/v1/communities/:id/moderators (account_id) and
// DELETE .../moderators/:account_id, for owners.
func (a *API) appoint(on bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		g, err := a.communityParam(c)
		if err != nil {
			return err
		}
		ref := c.Param("account_id")
		if on {
			p, err := a.params(c)
			if err != nil {
				return err
			}
			ref = p.Get("account_id")
		}
		who, err := a.accountRef(c, ref)
		if err != nil {
			return err
		}
		if err := a.svc.SetModerator(c.Request().Context(), viewer(c), g.URI, who, on); err != nil {
			return err
		}
		return a.communityModerators(c)
	}
}

// Ban is a ban in a community's list.
type Ban struct {
	Account   *Account `json:"account"`
	Reason    string   `json:"reason"`
	ExpiresAt *string  `json:"expires_at"`
	CreatedAt string   `json:"created_at"`
}

// mayModerate answers 404 to anyone but the community's moderators.
func (a *API) mayModerate(c echo.Context, g *storage.Actor) error {
	ok, err := a.db.IsModerator(c.Request().Context(), g.ID, viewerID(c))
	if err != nil {
		return err
	}
	if !ok {
		return errNotFound
	}
	return nil
}

// communityBans is GET /api/v1/communities/:id/bans, for moderators.
func (a *API) communityBans(c echo.Context) error {
	g, err := a.communityParam(c)
	if err != nil {
		return err
	}
	if err := a.mayModerate(c, g); err != nil {
		return err
	}
	bans, err := a.db.Bans(c.Request().Context(), g.ID, 200)
	if err != nil {
		return err
	}
	rd := a.renderer(c)
	out := make([]Ban, 0, len(bans))
	for _, b := range bans {
		acc, err := rd.account(b.Actor)
		if err != nil {
			return err
		}
		ban := Ban{Account: acc, Reason: b.Reason, CreatedAt: iso(b.CreatedAt)}
		if b.ExpiresAt != nil {
			ban.ExpiresAt = ptr(iso(*b.ExpiresAt))
		}
		out = append(out, ban)
	}
	return c.JSON(http.StatusOK, out)
}

// ban is POST /api/v1/communities/:id/bans: account_id, reason, private,
// duration (seconds; 0 or none: for good), remove_posts.
func (a *API) ban(c echo.Context) error {
	g, err := a.communityParam(c)
	if err != nil {
		return err
	}
	p, err := a.params(c)
	if err != nil {
		return err
	}
	who, err := a.accountRef(c, p.Get("account_id"))
	if err != nil {
		return err
	}
	b := federation.Ban{Reason: reasonOf(p), RemovePosts: p.bool("remove_posts")}
	if secs, _ := strconv.Atoi(p.Get("duration")); secs > 0 {
		b.Until = time.Now().Add(time.Duration(secs) * time.Second)
	}
	if err := a.svc.BanMember(c.Request().Context(), viewer(c), g.URI, who, b); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{})
}

// unban is DELETE /api/v1/communities/:id/bans/:account_id.
func (a *API) unban(c echo.Context) error {
	g, err := a.communityParam(c)
	if err != nil {
		return err
	}
	who, err := a.accountRef(c, c.Param("account_id"))
	if err != nil {
		return err
	}
	p, err := a.params(c)
	if err != nil {
		return err
	}
	if err := a.svc.UnbanMember(c.Request().Context(), viewer(c), g.URI, who, reasonOf(p)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{})
}

// restrictPosting is POST /api/v1/communities/:id/posting with
// restricted=true: only moderators start threads.
func (a *API) restrictPosting(c echo.Context) error {
	g, err := a.communityParam(c)
	if err != nil {
		return err
	}
	p, err := a.params(c)
	if err != nil {
		return err
	}
	if err := a.svc.RestrictPosting(c.Request().Context(), viewer(c), g.URI, p.bool("restricted")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"restricted": p.bool("restricted")})
}

// ModAction is one entry of a community's modlog. A private reason is
// shown to the community's moderators only; others see reason_private.
type ModAction struct {
	ID            string   `json:"id"`
	Action        string   `json:"action"`
	CreatedAt     string   `json:"created_at"`
	Moderator     *Account `json:"moderator"`
	TargetAccount *Account `json:"target_account"`
	StatusURI     string   `json:"status_uri,omitempty"`
	Reason        *string  `json:"reason"`
	ReasonPrivate bool     `json:"reason_private"`
	ExpiresAt     *string  `json:"expires_at"`
}

// ModActions converts modlog entries; showPrivate includes private
// reasons.
func (r *renderer) modActions(log []storage.ModAction, showPrivate bool) ([]ModAction, error) {
	out := make([]ModAction, 0, len(log))
	for _, m := range log {
		e := ModAction{ID: id(m.ID), Action: m.Action, CreatedAt: iso(m.CreatedAt), StatusURI: m.ObjectURI, ReasonPrivate: m.ReasonPrivate}
		var err error
		if m.ModeratorActor != nil {
			if e.Moderator, err = r.account(m.ModeratorActor); err != nil {
				return nil, err
			}
		}
		if m.TargetActor != nil {
			if e.TargetAccount, err = r.account(m.TargetActor); err != nil {
				return nil, err
			}
		}
		if m.Reason != "" && (!m.ReasonPrivate || showPrivate) {
			e.Reason = ptr(m.Reason)
		}
		if m.ExpiresAt != nil {
			e.ExpiresAt = ptr(iso(*m.ExpiresAt))
		}
		out = append(out, e)
	}
	return out, nil
}

// modlog is GET /api/v1/communities/:id/modlog: public, newest first,
// paged with max_id.
func (a *API) modlog(c echo.Context) error {
	g, err := a.communityParam(c)
	if err != nil {
		return err
	}
	if !g.Local {
		return errNotFound
	}
	// A members-only community's record is its members'.
	if ok, err := a.readsCommunity(c.Request().Context(), g, viewerID(c)); err != nil {
		return err
	} else if !ok {
		return errNotFound
	}
	pg, err := a.pageOf(c)
	if err != nil {
		return err
	}
	limit := pg.Limit
	if limit <= 0 || limit > 80 {
		limit = 40
	}
	ctx := c.Request().Context()
	log, err := a.db.ModLog(ctx, g.ID, pg.MaxID, limit)
	if err != nil {
		return err
	}
	isMod := false
	if v := viewerID(c); v != 0 {
		if isMod, err = a.db.IsModerator(ctx, g.ID, v); err != nil {
			return err
		}
	}
	out, err := a.renderer(c).modActions(log, isMod)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// communityReports is GET /api/v1/communities/:id/reports?state=open:
// the community's report queue, for its moderators.
func (a *API) communityReports(c echo.Context) error {
	g, err := a.communityParam(c)
	if err != nil {
		return err
	}
	if err := a.mayModerate(c, g); err != nil {
		return err
	}
	p, err := a.params(c)
	if err != nil {
		return err
	}
	state := p.Get("state")
	if state == "" {
		state = storage.ReportOpen
	} else if state == "all" {
		state = ""
	}
	rs, err := a.db.Reports(c.Request().Context(), storage.ReportFilter{CommunityActorIDs: []int64{g.ID}, State: state, Limit: 80})
	if err != nil {
		return err
	}
	out := make([]*Report, 0, len(rs))
	for i := range rs {
		e, err := a.reportEntity(c, &rs[i], true)
		if err != nil {
			return err
		}
		out = append(out, e)
	}
	return c.JSON(http.StatusOK, out)
}
