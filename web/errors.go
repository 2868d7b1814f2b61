package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// ErrorPage is shown to browsers when a request fails.
type ErrorPage struct {
	Page
	Status  int
	Message string
}

// Error renders the error page. Handlers never call it: they return
// errors, and server's one error handler, which has classified the error
// into a status and a message safe to show, calls it for browsers.
func (w *Web) Error(c echo.Context, status int, message string) error {
	return w.render(c, status, "error", ErrorPage{
		Page: w.page(c, http.StatusText(status)), Status: status, Message: message,
	})
}
