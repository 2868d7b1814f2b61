package mastoapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// Hashtags as entities of their own: tag pages, followed and featured
// tags.

// tagEntity renders a hashtag with a week of use, newest day first, and
// whether the viewer follows it.
func (a *API) tagEntity(c echo.Context, name string) (*Tag, error) {
	ctx := c.Request().Context()
	usage, err := a.db.TagUsage(ctx, name, 7, a.now())
	if err != nil {
		return nil, err
	}
	out := &Tag{ID: name, Name: name, URL: a.svc.URLs.TagURL(name), History: []TagHistory{}}
	for _, d := range usage {
		out.History = append(out.History, TagHistory{
			Day: strconv.FormatInt(d.Day.Unix(), 10), Uses: strconv.FormatInt(d.Uses, 10), Accounts: strconv.FormatInt(d.Accounts, 10),
		})
	}
	if me := viewerID(c); me > 0 {
		f, err := a.db.FollowsTag(ctx, me, name)
		if err != nil {
			return nil, err
		}
		out.Following = &f
	}
	return out, nil
}

// tagName reads :name as a hashtag, or 404.
func tagName(c echo.Context) (string, error) {
	name := strings.ToLower(strings.TrimPrefix(c.Param("name"), "#"))
	if name == "" || len(name) > 100 || strings.ContainsAny(name, " /#") {
		return "", errNotFound
	}
	return name, nil
}

// getTag is GET /api/v1/tags/:name.
func (a *API) getTag(c echo.Context) error {
	name, err := tagName(c)
	if err != nil {
		return err
	}
	t, err := a.tagEntity(c, name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

// followTag is POST /api/v1/tags/:name/follow and /unfollow.
func (a *API) followTag(on bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		name, err := tagName(c)
		if err != nil {
			return err
		}
		if err := a.svc.FollowTag(c.Request().Context(), viewer(c), name, on); err != nil {
			return err
		}
		t, err := a.tagEntity(c, name)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, t)
	}
}

// followedTags is GET /api/v1/followed_tags.
func (a *API) followedTags(c echo.Context) error {
	pg, err := a.pageOf(c)
	if err != nil {
		return err
	}
	rows, err := a.db.ListTags(c.Request().Context(), storage.FollowedTags, viewerID(c), pg)
	if err != nil {
		return err
	}
	out := []*Tag{}
	for _, r := range rows {
		t, err := a.tagEntity(c, r.Tag)
		if err != nil {
			return err
		}
		out = append(out, t)
	}
	if n := len(rows); n > 0 {
		a.setLink(c, pg, rows[0].ID, rows[n-1].ID, n)
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) featuredTagEntity(c echo.Context, actorID int64, r storage.TagRow) (FeaturedTag, error) {
	n, last, err := a.db.TagPostStats(c.Request().Context(), actorID, r.Tag)
	if err != nil {
		return FeaturedTag{}, err
	}
	out := FeaturedTag{ID: id(r.ID), Name: r.Tag, URL: a.svc.URLs.TagURL(r.Tag), StatusesCount: strconv.FormatInt(n, 10)}
	if last != nil {
		out.LastStatusAt = ptr(last.UTC().Format(time.DateOnly))
	}
	return out, nil
}

// featuredTagsOf renders an actor's featured tags.
func (a *API) featuredTagsOf(c echo.Context, actorID int64) error {
	rows, err := a.db.ListTags(c.Request().Context(), storage.FeaturedTags, actorID, storage.Page{Limit: storage.MaxFeaturedTags})
	if err != nil {
		return err
	}
	out := []FeaturedTag{}
	for _, r := range rows {
		ft, err := a.featuredTagEntity(c, actorID, r)
		if err != nil {
			return err
		}
		out = append(out, ft)
	}
	return c.JSON(http.StatusOK, out)
}

// featuredTags is GET /api/v1/featured_tags.
func (a *API) featuredTags(c echo.Context) error { return a.featuredTagsOf(c, viewerID(c)) }

// accountFeaturedTags is GET /api/v1/accounts/:id/featured_tags.
func (a *API) accountFeaturedTags(c echo.Context) error {
	actor, err := a.actorParam(c)
	if err != nil {
		return err
	}
	return a.featuredTagsOf(c, actor.ID)
}

// featureTag is POST /api/v1/featured_tags.
func (a *API) featureTag(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	row, err := a.svc.FeatureTag(c.Request().Context(), viewer(c), p.Get("name"))
	if err != nil {
		return err
	}
	ft, err := a.featuredTagEntity(c, viewerID(c), *row)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ft)
}

// unfeatureTag is DELETE /api/v1/featured_tags/:id.
func (a *API) unfeatureTag(c echo.Context) error {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	if err := a.svc.UnfeatureTag(c.Request().Context(), viewer(c), n); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct{}{})
}

// featuredTagSuggestions is GET /api/v1/featured_tags/suggestions: the
// hashtags the member used most recently, not yet featured.
func (a *API) featuredTagSuggestions(c echo.Context) error {
	ctx := c.Request().Context()
	used, err := a.db.RecentTagsOf(ctx, viewerID(c), 10)
	if err != nil {
		return err
	}
	out := []*Tag{}
	for _, name := range used {
		t, err := a.tagEntity(c, name)
		if err != nil {
			return err
		}
		out = append(out, t)
	}
	return c.JSON(http.StatusOK, out)
}
