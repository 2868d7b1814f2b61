package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// groupFeaturedEntry is /c/NAME/featured/ID: the community's own note for
// a post of its repertoire (federation/repertoire_entries.go), which
// Mastodon pins; a browser is sent to the post.
func (s *Server) groupFeaturedEntry(c echo.Context) error {
	a, err := s.localActor(c, storage.TypeGroup)
	if err != nil {
		return err
	}
	if err := s.svc.CollectionAllowed(c.Request().Context(), c.Request(), a); err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, "no such entry")
	}
	doc, o, err := s.svc.EntryDocument(c.Request().Context(), a, id)
	if errors.Is(err, storage.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "no such entry")
	} else if err != nil {
		return err
	}
	c.Response().Header().Add(echo.HeaderVary, echo.HeaderAccept)
	if !wantsActivityJSON(c.Request()) {
		to := "/posts/" + strconv.FormatInt(o.ID, 10)
		if o.Local {
			to = o.URI
		}
		return c.Redirect(http.StatusSeeOther, to)
	}
	return activityJSON(c, doc)
}
