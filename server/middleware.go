package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

const (
	headerRequestID = "X-Request-Id"
	requestIDKey    = "request_id"
	maxRequestIDLen = 128
)

// requestID reuses the X-Request-Id a proxy sent, so one id follows a
// request through the proxy's logs and ours, unless it is not a plain
// token; then it mints one. The id goes back in the response.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(headerRequestID)
		if !saneRequestID(id) {
			id = uuid.NewString()
		}
		c.Set(requestIDKey, id)
		c.Response().Header().Set(headerRequestID, id)
		return next(c)
	}
}

// saneRequestID accepts short tokens of characters that cannot forge log
// lines or headers.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:+/=", r)) {
			return false
		}
	}
	return true
}

func requestIDOf(c echo.Context) string {
	id, _ := c.Get(requestIDKey).(string)
	return id
}

// quietRoutes are polled by load balancers and Prometheus; logging each
// poll at info would bury the requests that matter.
var quietRoutes = map[string]bool{"/livez": true, "/readyz": true, "/metrics": true}

// accessLog logs every request and records its metrics. It hands a
// handler's error to the error handler itself, so that the status it
// logs and counts is the one the client got.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		elapsed := time.Since(start)
		req, res := c.Request(), c.Response()
		route := routeLabel(c)
		s.metrics.observe(req.Method, route, res.Status, elapsed)
		level := slog.LevelInfo
		if quietRoutes[route] {
			level = slog.LevelDebug
		}
		s.log.LogAttrs(req.Context(), level, "request",
			slog.String("request_id", requestIDOf(c)),
			slog.String("method", req.Method),
			slog.String("route", route),
			slog.String("path", req.URL.Path),
			slog.Int("status", res.Status),
			slog.Int64("bytes", res.Size),
			slog.Duration("duration", elapsed),
			slog.String("remote", req.RemoteAddr),
			slog.String("user_agent", req.UserAgent()),
		)
		return nil
	}
}

// routeLabel is the route template (/c/:name), never the raw path, so
// that metrics and logs group requests without unbounded label values.
func routeLabel(c echo.Context) string {
	if p := c.Path(); p != "" {
		return p
	}
	return "unmatched"
}

// recoverPanic turns a panic in a handler into a 500 with the stack in the
// log, so one bad request does not take the process down.
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler {
				// net/http's way to abort a response; it expects it back.
				panic(r)
			}
			s.log.Error("panic in handler", "request_id", requestIDOf(c), "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}()
		return next(c)
	}
}

// bodyLimit caps every request body at Config.MaxBodyBytes: at once when
// Content-Length says it is too big, else while the handler reads it.
func (s *Server) bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		limit := s.cfg.MaxBodyBytes
		if n, ok := s.bodyLimits[req.Method+" "+c.Path()]; ok {
			limit = n
		}
		if req.ContentLength > limit {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request body too large")
		}
		if req.Body != nil {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
		}
		return next(c)
	}
}

// SetBodyLimit gives a route ("METHOD /path" as registered) a body limit
// other than Config.MaxBodyBytes: uploads need more. Call it before the
// server starts serving.
func (s *Server) SetBodyLimit(route string, n int64) { s.bodyLimits[route] = n }

// contentSecurityPolicy forbids scripts, plugins, frames and foreign
// styles: our pages need none, and any HTML that slips through escaping
// can then do nothing.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders marks every response nosniff and gives HTML responses a
// strict CSP. It decides when the response is about to be written, because
// only then is its Content-Type known.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		res := c.Response()
		res.Before(func() {
			h := res.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			if strings.HasPrefix(h.Get(echo.HeaderContentType), "text/html") {
				h.Set("Content-Security-Policy", contentSecurityPolicy)
				h.Set("Referrer-Policy", "same-origin")
				h.Set("X-Frame-Options", "DENY")
			}
		})
		return next(c)
	}
}
