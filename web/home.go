package web

import (
	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// Home is the instance's front page: its public communities, what they
// are about and how to join.
type Home struct {
	Page
	Communities []Community
}

// maxHomeCommunities bounds the home page until it has paging.
const maxHomeCommunities = 500

func (w *Web) home(c echo.Context) error {
	all, err := w.db.ListCommunities(c.Request().Context(), maxHomeCommunities)
	if err != nil {
		return err
	}
	page := Home{Page: w.page(c, "Communities")}
	for i := range all {
		if all[i].Visibility == storage.VisibilityPublic {
			page.Communities = append(page.Communities, w.communityView(&all[i], 0))
		}
	}
	return w.render(c, 200, "home", page)
}
