package mastoapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Accepted answers (issue 15, item 2): Commonplace's own endpoints, as
// Mastodon has none. The asker or a moderator of the question's community
// accepts a reply as the question's answer.

func (a *API) answerRoutes() {
	write := userScoped("write:statuses")
	a.add(http.MethodPost, "/api/v1/statuses/:id/accept", write, a.acceptAnswer(true))
	a.add(http.MethodPost, "/api/v1/statuses/:id/unaccept", write, a.acceptAnswer(false))
}

// acceptAnswer is POST /api/v1/statuses/:id/accept, where :id is a reply
// in a question's thread, and /unaccept, where :id is the question or any
// reply in its thread. Both answer with the status named, as Mastodon's
// pin and bookmark do.
func (a *API) acceptAnswer(on bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		o, err := a.objectParam(c)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		if on {
			_, err = a.svc.AcceptAnswer(ctx, viewer(c), o.URI)
		} else {
			_, err = a.svc.UnacceptAnswer(ctx, viewer(c), o.URI)
		}
		if err != nil {
			return err
		}
		return a.renderStatus(c, o)
	}
}
