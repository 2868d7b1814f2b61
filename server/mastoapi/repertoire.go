package mastoapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// The curated repertoire (issue 15, item 3) in the client API. Mastodon's
// pin endpoints pin a member's own post to their own profile, so they
// cannot say "this post of the community, in this section": these are
// Commonplace's own, under the community's account id as the moderation
// endpoints are. Order is changed on the web.

func (a *API) repertoireRoutes() {
	write := userScoped("write:statuses")
	a.add(http.MethodGet, "/api/v1/communities/:id/repertoire", public(), a.communityRepertoire)
	a.add(http.MethodPost, "/api/v1/communities/:id/repertoire", write, a.curate(true))
	a.add(http.MethodDelete, "/api/v1/communities/:id/repertoire/:status_id", write, a.curate(false))
}

// RepertoireSection is one section of a community's repertoire.
type RepertoireSection struct {
	Title    string    `json:"title"`
	Statuses []*Status `json:"statuses"`
}

// communityRepertoire is GET /api/v1/communities/:id/repertoire: the
// sections in order, each with its statuses.
func (a *API) communityRepertoire(c echo.Context) error {
	g, err := a.communityParam(c)
	if err != nil {
		return err
	}
	items, err := a.db.ListRepertoireFor(c.Request().Context(), g.ID, viewer(c), federation.MaxRepertoire)
	if err != nil {
		return err
	}
	objs := make([]storage.Object, len(items))
	for i := range items {
		objs[i] = *items[i].Object
	}
	statuses, err := a.renderer(c).statusesOf(objs, nil)
	if err != nil {
		return err
	}
	out := []RepertoireSection{}
	for i, it := range items {
		if n := len(out); n == 0 || out[n-1].Title != it.Section {
			out = append(out, RepertoireSection{Title: it.Section, Statuses: []*Status{}})
		}
		out[len(out)-1].Statuses = append(out[len(out)-1].Statuses, statuses[i])
	}
	return c.JSON(http.StatusOK, out)
}

// curate is POST /api/v1/communities/:id/repertoire (status_id, section)
// and DELETE .../repertoire/:status_id, for the community's curators. It
// answers with the repertoire; a remote community's changes show when it
// announces them.
func (a *API) curate(add bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		g, err := a.communityParam(c)
		if err != nil {
			return err
		}
		statusID, section := c.Param("status_id"), ""
		if add {
			p, err := a.params(c)
			if err != nil {
				return err
			}
			statusID, section = p.Get("status_id"), p.Get("section")
		}
		o, err := a.objectByID(c.Request().Context(), viewer(c), statusID)
		if err != nil {
			return err
		}
		if o.CommunityActorID == nil || *o.CommunityActorID != g.ID {
			return errorf(http.StatusUnprocessableEntity, "Validation failed: the status is not a post of this community")
		}
		if err := a.svc.Curate(c.Request().Context(), viewer(c), o.URI, federation.RepertoireChange{Remove: !add, Section: section}); err != nil {
			return err
		}
		return a.communityRepertoire(c)
	}
}
