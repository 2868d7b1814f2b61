package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// maxReasonLen keeps error reasons on the wire short.
const maxReasonLen = 300

// handleError is the one place where errors become responses. Domain error
// kinds map to status codes; a 500 says nothing about its cause on the
// wire and is logged as an error with the request id, while 4xx are the
// client's business and are logged only at debug.
func (s *Server) handleError(err error, c echo.Context) {
	status, reason := classify(err)
	req := c.Request()
	attrs := []slog.Attr{
		slog.String("request_id", requestIDOf(c)),
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.Int("status", status),
		slog.String("error", err.Error()),
	}
	switch {
	case status >= 500 && errors.Is(err, context.Canceled) && req.Context().Err() != nil:
		// The client went away; nothing is wrong with us.
		s.log.LogAttrs(req.Context(), slog.LevelDebug, "request abandoned", attrs...)
	case status >= 500:
		s.log.LogAttrs(req.Context(), slog.LevelError, "request failed", attrs...)
	default:
		s.log.LogAttrs(req.Context(), slog.LevelDebug, "request refused", attrs...)
	}
	if c.Response().Committed {
		return
	}
	var limited *federation.RateLimited
	if errors.As(err, &limited) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(limited.RetryAfterSeconds()))
	}
	// The body is a page or JSON depending on Accept.
	if h := c.Response().Header(); !strings.Contains(h.Get(echo.HeaderVary), echo.HeaderAccept) {
		h.Add(echo.HeaderVary, echo.HeaderAccept)
	}
	var werr error
	switch {
	case req.Method == http.MethodHead:
		werr = c.NoContent(status)
	case prefersHTML(req) && s.pages != nil:
		werr = s.pages.Error(c, status, reason)
		if werr != nil && !c.Response().Committed {
			werr = c.JSON(status, map[string]string{"error": reason})
		}
	default:
		werr = c.JSON(status, map[string]string{"error": reason})
	}
	if werr != nil {
		s.log.Warn("write error response", "request_id", requestIDOf(c), "error", werr)
	}
}

// classify maps an error to a status code and a reason safe to show.
func classify(err error) (int, string) {
	var (
		he  *echo.HTTPError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &he):
		if inner, ok := he.Internal.(*echo.HTTPError); ok {
			he = inner
		}
		if msg, ok := he.Message.(string); ok && msg != "" {
			return he.Code, msg
		}
		return he.Code, http.StatusText(he.Code)
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "request body too large"
	case errors.Is(err, storage.ErrNotFound):
		// Storage's text names queries and ids; the client learns only this.
		return http.StatusNotFound, "not found"
	case errors.Is(err, storage.ErrConflict):
		return http.StatusConflict, "already exists"
	case errors.Is(err, federation.ErrInvalid):
		// The federation layer words these for the client.
		return http.StatusBadRequest, shorten(err.Error())
	case errors.Is(err, federation.ErrForbidden):
		return http.StatusForbidden, shorten(err.Error())
	case errors.Is(err, federation.ErrUnauthorized):
		return http.StatusUnauthorized, shorten(err.Error())
	case errors.Is(err, federation.ErrTooManyAttempts):
		return http.StatusTooManyRequests, shorten(err.Error())
	}
	return http.StatusInternalServerError, "internal server error"
}

// peerError is err as answered to a remote server: the status stays, the
// reason is fixed by status, and the detail goes only to the log
// (handleError logs the internal error). Verifying a request makes us
// fetch keys and actors from where the request says; echoing why a fetch
// failed (a resolver's address, "connection refused", a timeout) would
// make our inbox a scanner of what we can reach.
func peerError(err error) error {
	status, _ := classify(err)
	reason, ok := peerReasons[status]
	if !ok {
		reason = http.StatusText(status)
	}
	return &echo.HTTPError{Code: status, Message: reason, Internal: err}
}

var peerReasons = map[int]string{
	http.StatusBadRequest:      "invalid activity",
	http.StatusUnauthorized:    "request signature could not be verified",
	http.StatusForbidden:       "not accepted from this actor or server",
	http.StatusNotFound:        "not found",
	http.StatusTooManyRequests: "too many requests; retry later",
}

func shorten(s string) string {
	if len(s) <= maxReasonLen {
		return s
	}
	s = s[:maxReasonLen]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// badRequest is a 400 with a reason for the client.
func badRequest(reason string) error {
	return echo.NewHTTPError(http.StatusBadRequest, reason)
}

// notFound is a 404 for a thing the client named.
func notFound(reason string) error {
	return echo.NewHTTPError(http.StatusNotFound, reason)
}
