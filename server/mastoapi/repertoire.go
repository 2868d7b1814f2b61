package mastoapi

import (
	"net/http"
	"strconv"

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

// Finding things in a community and curating it, beyond Mastodon's API
// (issue 15): search, questions, trusted curators.
func (a *API) practiceRoutes() {
	get, post, del := http.MethodGet, http.MethodPost, http.MethodDelete
	mod := userScoped("write:statuses")
	a.add(get, "/api/v1/communities/:id/search", public(), a.communitySearch)
	a.add(get, "/api/v1/communities/:id/questions", public(), a.communityQuestions)
	a.add(get, "/api/v1/communities/:id/curators", public(), a.curators)
	a.add(post, "/api/v1/communities/:id/curators", mod, a.trustCurator(true))
	a.add(del, "/api/v1/communities/:id/curators/:account_id", mod, a.trustCurator(false))
	a.add(post, "/api/v1/communities/:id/curation", mod, a.setCuration)
}

// listLimit reads a limit parameter: def when absent, at most max.
func listLimit(c echo.Context, def, max int) int {
	n, err := strconv.Atoi(c.QueryParam("limit"))
	if err != nil || n <= 0 {
		return def
	}
	return min(n, max)
}

// communitySearch is GET /api/v1/communities/:id/search?q=&kind=&tag=
// &limit=&offset=: the community's posts and replies by their words, best
// first (the statuses only; the web page shows snippets).
func (a *API) communitySearch(c echo.Context) error {
	g, err := a.communityParam(c)
	if err != nil {
		return err
	}
	q := c.QueryParam("q")
	if len(q) > 1000 {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: q is too long")
	}
	kind := ""
	if k := c.QueryParam("kind"); k != "" {
		var ok bool
		if kind, ok = federation.NormalizeKind(k); !ok {
			return errorf(http.StatusUnprocessableEntity, "Validation failed: no kind of post %q", k)
		}
	}
	offset, _ := strconv.Atoi(c.QueryParam("offset"))
	hits, err := a.db.Search(c.Request().Context(), storage.SearchFilter{Query: q, CommunityActorID: g.ID, Kind: kind,
		Tag: c.QueryParam("tag"), Viewer: viewer(c), Offset: max(0, min(offset, 1000)), Limit: listLimit(c, 20, 40)})
	if err != nil {
		return err
	}
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.ObjectID
	}
	return a.renderInOrder(c, ids)
}

// communityQuestions is GET /api/v1/communities/:id/questions: its
// questions, newest first; unanswered=true for those with no accepted
// answer.
func (a *API) communityQuestions(c echo.Context) error {
	g, err := a.communityParam(c)
	if err != nil {
		return err
	}
	offset, _ := strconv.Atoi(c.QueryParam("offset"))
	objs, err := a.db.ListQuestions(c.Request().Context(), storage.QuestionFilter{CommunityActorID: g.ID,
		Unanswered: truthy(c.QueryParam("unanswered")), HideLimited: true, Offset: max(0, min(offset, 10000)), Limit: listLimit(c, 20, 40)})
	if err != nil {
		return err
	}
	out, err := a.renderer(c).statusesOf(objs, nil)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// renderInOrder renders the statuses with ids, in that order.
func (a *API) renderInOrder(c echo.Context, ids []int64) error {
	objs, err := a.db.ListObjectsByIDs(c.Request().Context(), ids)
	if err != nil {
		return err
	}
	byID := make(map[int64]storage.Object, len(objs))
	for _, o := range objs {
		byID[o.ID] = o
	}
	ordered := make([]storage.Object, 0, len(ids))
	for _, id := range ids {
		if o, ok := byID[id]; ok {
			ordered = append(ordered, o)
		}
	}
	out, err := a.renderer(c).statusesOf(ordered, nil)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// curators is GET /api/v1/communities/:id/curators: the members trusted to
// curate its repertoire, and whether the community lets them.
func (a *API) curators(c echo.Context) error {
	g, err := a.communityParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	on, err := a.db.TrustedCurate(ctx, g.ID)
	if err != nil {
		return err
	}
	list, err := a.db.Curators(ctx, g.ID, 200)
	if err != nil {
		return err
	}
	accts, err := a.accounts(c, list)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"trusted_curate": on, "curators": accts})
}

// trustCurator is POST /api/v1/communities/:id/curators (account_id) and
// DELETE .../curators/:account_id, for the community's moderators.
func (a *API) trustCurator(on bool) echo.HandlerFunc {
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
		if err := a.svc.TrustCurator(c.Request().Context(), viewer(c), g.URI, who, on); err != nil {
			return err
		}
		return a.curators(c)
	}
}

// setCuration is POST /api/v1/communities/:id/curation (trusted_curate):
// whether trusted members curate the repertoire besides the moderators.
func (a *API) setCuration(c echo.Context) error {
	g, err := a.communityParam(c)
	if err != nil {
		return err
	}
	p, err := a.params(c)
	if err != nil {
		return err
	}
	if err := a.svc.SetCuration(c.Request().Context(), viewer(c), g.URI, p.bool("trusted_curate")); err != nil {
		return err
	}
	return a.curators(c)
}
