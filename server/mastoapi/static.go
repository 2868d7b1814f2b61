package mastoapi

import (
	"encoding/base64"
	"net/http"

	"github.com/labstack/echo/v4"
)

// missingPNG is a 1x1 transparent PNG: Mastodon's entities need an avatar
// and header URL, and Commonplace does not store images yet.
var missingPNG, _ = base64.StdEncoding.DecodeString(
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")

func missingImage(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=86400")
	return c.Blob(http.StatusOK, "image/png", missingPNG)
}
