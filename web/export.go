package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// exportCommunity is GET /c/:name/export.json: everything the community
// holds (federation.ExportCommunity), for its owners only; anyone else
// finds no such page. Not cached: it holds members-only posts and
// private reasons.
func (w *Web) exportCommunity(c echo.Context) error {
	com, me, err := w.moderatedCommunity(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	m, err := w.db.GetMembership(ctx, com.ActorID, me.ID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && m.Role != storage.RoleOwner {
		return echo.NewHTTPError(http.StatusNotFound, "no such page")
	} else if err != nil {
		return err
	}
	exp, err := w.svc.ExportCommunity(ctx, com.Actor.Username)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="`+com.Actor.Username+`-export.json"`)
	h.Set(echo.HeaderCacheControl, "no-store")
	return c.JSONPretty(http.StatusOK, exp, "  ")
}
