package server

import (
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation/vocab"
)

// wantsActivityJSON decides content negotiation for a URL that is both an
// actor and a page. ActivityPub types win (application/activity+json, or
// ld+json with the ActivityStreams profile). Like Mastodon we also answer
// plain application/json and bare ld+json with JSON when text/html is not
// asked for, because some fetchers send only those; everything else,
// browsers included, gets HTML.
func wantsActivityJSON(r *http.Request) bool {
	accept := r.Header.Get(echo.HeaderAccept)
	if vocab.IsActivityPubMediaType(accept) {
		return true
	}
	jsonAsked := false
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "text/html", "application/xhtml+xml":
			return false
		case "application/json", "application/ld+json":
			jsonAsked = true
		}
	}
	return jsonAsked
}

// prefersHTML reports whether an error should be shown as a page: the
// client asks for HTML and is not an ActivityPub fetcher.
func prefersHTML(r *http.Request) bool {
	accept := r.Header.Get(echo.HeaderAccept)
	return strings.Contains(accept, "text/html") && !vocab.IsActivityPubMediaType(accept)
}

// activityJSON writes an ActivityStreams document with our @context.
func activityJSON(c echo.Context, doc any) error {
	body, err := vocab.Marshal(doc)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, vocab.MediaTypeActivity, body)
}

// allowCORS lets browser-based clients read discovery documents, as
// Mastodon allows.
func allowCORS(c echo.Context) {
	c.Response().Header().Set(echo.HeaderAccessControlAllowOrigin, "*")
}
