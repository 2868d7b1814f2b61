package mastoapi

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

var markerTimelines = []string{"home", "notifications"}

// getMarkers is GET /api/v1/markers?timeline[]=home&timeline[]=notifications.
func (a *API) getMarkers(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	var want []string
	for _, t := range p.list("timeline") {
		if t == "home" || t == "notifications" {
			want = append(want, t)
		}
	}
	if len(want) == 0 {
		return c.JSON(http.StatusOK, map[string]Marker{})
	}
	list, err := a.db.ListMarkers(c.Request().Context(), viewer(c).ID, want)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, markerMap(list))
}

func markerMap(list []storage.Marker) map[string]Marker {
	out := map[string]Marker{}
	for _, m := range list {
		out[m.Timeline] = Marker{LastReadID: m.LastReadID, Version: m.Version, UpdatedAt: iso(m.UpdatedAt)}
	}
	return out
}

// saveMarkers is POST /api/v1/markers with home[last_read_id] and
// notifications[last_read_id].
func (a *API) saveMarkers(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	me := viewer(c)
	var saved []storage.Marker
	for _, t := range markerTimelines {
		v := p.Get(t + "[last_read_id]")
		if v == "" {
			continue
		}
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return errorf(http.StatusUnprocessableEntity, "Validation failed: last_read_id is not an id")
		}
		m := &storage.Marker{ActorID: me.ID, Timeline: t, LastReadID: v}
		if err := a.db.PutMarker(c.Request().Context(), m); err != nil {
			return err
		}
		saved = append(saved, *m)
	}
	return c.JSON(http.StatusOK, markerMap(saved))
}
