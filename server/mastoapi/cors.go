package mastoapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// cors lets browser apps (Elk, Phanpy) call the API and the OAuth token
// endpoints from their own origin, as Mastodon does: any origin, no
// cookies (tokens travel in Authorization). The authorize page is left
// out: it is a page for the member's browser, never for scripts.
func (a *API) cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		p := req.URL.Path
		if !(strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/oauth/")) || p == "/oauth/authorize" {
			return next(c)
		}
		h := c.Response().Header()
		h.Set(echo.HeaderAccessControlAllowOrigin, "*")
		h.Set(echo.HeaderAccessControlExposeHeaders, "Link, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, X-Request-Id")
		if req.Method == http.MethodOptions && req.Header.Get(echo.HeaderAccessControlRequestMethod) != "" {
			h.Set(echo.HeaderAccessControlAllowMethods, "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS")
			h.Set(echo.HeaderAccessControlAllowHeaders, "Authorization, Content-Type, Idempotency-Key, Accept")
			h.Set(echo.HeaderAccessControlMaxAge, "86400")
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}
