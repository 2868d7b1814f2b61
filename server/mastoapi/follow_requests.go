package mastoapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// Follow requests are requests to join the closed communities the member
// owns or moderates: on Commonplace, communities are followed, members
// moderate them.

// followRequests is GET /api/v1/follow_requests.
func (a *API) followRequests(c echo.Context) error {
	pg, err := a.pageOf(c)
	if err != nil {
		return err
	}
	list, err := a.db.PendingRequestsFor(c.Request().Context(), viewer(c).ID, 0, pg)
	if err != nil {
		return err
	}
	r := a.renderer(c)
	out := []*Account{}
	seen := map[int64]bool{}
	for _, m := range list {
		if m.MemberActor == nil || seen[m.MemberActorID] {
			continue
		}
		seen[m.MemberActorID] = true
		acc, err := r.account(m.MemberActor)
		if err != nil {
			return err
		}
		out = append(out, acc)
	}
	if n := len(list); n > 0 {
		a.setLink(c, pg, list[0].ID, list[n-1].ID, n)
	}
	return c.JSON(http.StatusOK, out)
}

// decideFollowRequest is POST /api/v1/follow_requests/:id/authorize and
// /reject: the member's decision on every pending request of account :id
// to join a community they moderate, through Service.Decide.
func (a *API) decideFollowRequest(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		requester, err := a.actorParam(c)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		pending, err := a.db.PendingRequestsFor(ctx, viewer(c).ID, requester.ID, storage.Page{Limit: 100})
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			return errNotFound
		}
		for _, m := range pending {
			if m.CommunityActor == nil {
				continue
			}
			if _, err := a.svc.Decide(ctx, m.CommunityActor.Username, requester.URI, approve); err != nil {
				return err
			}
		}
		rel := Relationship{ID: id(requester.ID), FollowedBy: approve}
		return c.JSON(http.StatusOK, rel)
	}
}
