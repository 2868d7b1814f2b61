package mastoapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// actorParam loads the account named by the :id path parameter.
func (a *API) actorParam(c echo.Context) (*storage.Actor, error) {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return nil, errNotFound
	}
	actor, err := a.db.GetActorByID(c.Request().Context(), n)
	if err != nil {
		return nil, err
	}
	if actor.Type != storage.TypePerson && actor.Type != storage.TypeGroup {
		return nil, errNotFound
	}
	return actor, nil
}

// verifyCredentials is GET /api/v1/accounts/verify_credentials.
func (a *API) verifyCredentials(c echo.Context) error {
	out, err := a.credentialAccount(c, viewer(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// lookupAccount is GET /api/v1/accounts/lookup: an address this instance
// already knows, without WebFinger (that is search's job).
func (a *API) lookupAccount(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	q := strings.TrimPrefix(strings.TrimSpace(p.Get("acct")), "@")
	user, domain, remote := strings.Cut(q, "@")
	ctx := c.Request().Context()
	var actor *storage.Actor
	if !remote || strings.EqualFold(domain, a.domain) {
		actor, err = a.db.GetLocalActor(ctx, user)
	} else {
		actor, err = a.db.GetActorByHandle(ctx, user, domain)
	}
	if err != nil {
		return err
	}
	if actor.Type != storage.TypePerson && actor.Type != storage.TypeGroup {
		return errNotFound
	}
	out, err := a.renderer(c).account(actor)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// getAccount is GET /api/v1/accounts/:id.
func (a *API) getAccount(c echo.Context) error {
	actor, err := a.actorParam(c)
	if err != nil {
		return err
	}
	out, err := a.renderer(c).account(actor)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// accountStatuses is GET /api/v1/accounts/:id/statuses. A community's
// statuses are the posts in it, shown as its reblogs, as a Mastodon
// group's boosts would be.
func (a *API) accountStatuses(c echo.Context) error {
	actor, err := a.actorParam(c)
	if err != nil {
		return err
	}
	p, err := a.params(c)
	if err != nil {
		return err
	}
	pg, err := a.pageOf(c)
	if err != nil {
		return err
	}
	if p.bool("only_media") {
		return c.JSON(http.StatusOK, []any{})
	}
	if p.bool("pinned") {
		return a.pinnedStatuses(c, actor)
	}
	f := storage.StatusFilter{Page: pg, TopLevelOnly: p.bool("exclude_replies"), Tag: p.Get("tagged")}
	var reblog func(*storage.Object) bool
	if actor.Type == storage.TypeGroup {
		f.CommunityActorID, f.TopLevelOnly = actor.ID, true
		reblog = func(*storage.Object) bool { return true }
	} else {
		// Unlisted posts too, to anyone, as on Mastodon.
		f.AuthorActorID, f.Unlisted = actor.ID, true
	}
	f.ViewerID = viewerID(c)
	f.VisibleTo = viewer(c)
	return a.statusPageIn(c, "account", f, reblog)
}

// statusPage renders a page of statuses with its Link header.
func (a *API) statusPage(c echo.Context, f storage.StatusFilter, reblog func(*storage.Object) bool) error {
	return a.statusPageIn(c, "", f, reblog)
}

// statusPageIn is statusPage for a filter context (home, public, account):
// the viewer's filters for it mark or hide statuses.
func (a *API) statusPageIn(c echo.Context, filterContext string, f storage.StatusFilter, reblog func(*storage.Object) bool) error {
	objs, err := a.db.ListStatuses(c.Request().Context(), f)
	if err != nil {
		return err
	}
	r := a.renderer(c)
	r.filterContext = filterContext
	out, err := r.statusesOf(objs, reblog)
	if err != nil {
		return err
	}
	out = visible(out)
	if n := len(objs); n > 0 {
		a.setLink(c, f.Page, objs[0].TimelineID(), objs[n-1].TimelineID(), n)
	}
	return c.JSON(http.StatusOK, out)
}

// follow is POST /api/v1/accounts/:id/follow. Following a community is
// joining it: at once, or as a request a moderator decides on. Following
// a person is at once for a local one; a remote one's server answers.
func (a *API) follow(c echo.Context) error {
	target, err := a.actorParam(c)
	if err != nil {
		return err
	}
	if _, err := a.svc.Follow(c.Request().Context(), viewer(c), target.URI); err != nil {
		return err
	}
	return a.relationshipOf(c, target)
}

// unfollow is POST /api/v1/accounts/:id/unfollow: leaving a community, or
// no longer following a person.
func (a *API) unfollow(c echo.Context) error {
	target, err := a.actorParam(c)
	if err != nil {
		return err
	}
	err = a.svc.Unfollow(c.Request().Context(), viewer(c), target.URI)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return a.relationshipOf(c, target)
}

func (a *API) relationshipOf(c echo.Context, target *storage.Actor) error {
	rels, err := a.relationshipsWith(c, []*storage.Actor{target})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rels[0])
}

// relationships is GET /api/v1/accounts/relationships?id[]=...
func (a *API) relationships(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	var ids []int64
	for _, v := range p.list("id") {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			ids = append(ids, n)
		}
	}
	if len(ids) > maxPageLimit {
		ids = ids[:maxPageLimit]
	}
	actors, err := a.db.ListActorsByIDs(c.Request().Context(), ids)
	if err != nil {
		return err
	}
	byID := map[int64]*storage.Actor{}
	for i := range actors {
		byID[actors[i].ID] = &actors[i]
	}
	var targets []*storage.Actor
	for _, n := range ids { // in the order asked, unknown ids left out
		if t := byID[n]; t != nil {
			targets = append(targets, t)
		}
	}
	out, err := a.relationshipsWith(c, targets)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) relationshipsWith(c echo.Context, targets []*storage.Actor) ([]Relationship, error) {
	ctx := c.Request().Context()
	me := viewer(c)
	ids := make([]int64, 0, len(targets))
	for _, t := range targets {
		ids = append(ids, t.ID)
	}
	mine, err := a.db.MembershipsOf(ctx, me.ID, ids)
	if err != nil {
		return nil, err
	}
	plain := make([]storage.Actor, len(targets))
	for i, t := range targets {
		plain[i] = *t
	}
	rel, err := a.db.RelationsOf(ctx, me.ID, plain)
	if err != nil {
		return nil, err
	}
	out := make([]Relationship, 0, len(targets))
	for _, t := range targets {
		r := Relationship{ID: id(t.ID), Languages: nil, Muting: rel.Muting[t.ID], MutingNotifications: rel.MutingNotifications[t.ID],
			Blocking: rel.Blocking[t.ID], BlockedBy: rel.BlockedBy[t.ID], DomainBlocking: rel.DomainBlocking[t.ID], Note: rel.Notes[t.ID]}
		if m, ok := mine[t.ID]; ok {
			r.Following = m.State == storage.StateAccepted
			r.Requested = m.State == storage.StatePending
			r.ShowingReblogs = r.Following
		}
		if theirs, err := a.db.GetMembership(ctx, me.ID, t.ID); err == nil {
			r.FollowedBy = theirs.State == storage.StateAccepted
			r.RequestedBy = theirs.State == storage.StatePending
		} else if !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
