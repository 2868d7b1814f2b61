// Package mastoapi serves the part of Mastodon's client API that members
// of communities of practice need, shaped as docs.joinmastodon.org
// describes it (field names, types, paging, errors), so that the apps
// members already have (Elk, Phanpy, Tusky, Ivory, toot, the masto
// library) work unchanged. Communities appear as accounts with group:
// true; following one joins it, and a status that mentions it posts to it.
//
// Handlers are thin: they authenticate, parse, call federation.Service
// (the one door for every action) or read storage, and render entities.
package mastoapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/oauth"
	"github.com/commonplace/commonplace/federation/push"
	"github.com/commonplace/commonplace/federation/ratelimit"
	"github.com/commonplace/commonplace/server"
	"github.com/commonplace/commonplace/storage"
)

// Limits of the API, published in the instance entity where Mastodon
// publishes them.
const (
	defaultPageLimit = 20
	maxPageLimit     = 40
	// Requests per token and per address (requests without a token or
	// with an application's) in rateWindow, as Mastodon's default of 300
	// per 5 minutes; a member's requests, whatever the token, up to
	// accountRateLimit, as Mastodon's throttle per user.
	rateLimit        = 300
	accountRateLimit = 1500
	rateWindow       = 5 * time.Minute
	// Idempotency-Key lifetime, as Mastodon's.
	idempotencyTTL = time.Hour
)

// API holds what the handlers share.
type API struct {
	svc    *federation.Service
	db     *storage.DB
	cfg    config.Config
	log    *slog.Logger
	echo   *echo.Echo
	srv    *server.Server
	domain string
	// Per-process limiters: see ratelimit.go.
	requests       *ratelimit.Limiter
	memberRequests *ratelimit.Limiter
	now            func() time.Time
	// hub streams live events to this process's streaming clients.
	hub     *hub
	started time.Time
	// vapidKey is the instance's Web Push public key (push.go).
	vapidKey string
}

// Mount adds the client API and the OAuth endpoints to srv.
func Mount(srv *server.Server, svc *federation.Service, cfg config.Config, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{
		svc: svc, db: svc.DB, cfg: cfg, log: log.With("component", "mastoapi"),
		echo: srv.Echo(), srv: srv, domain: strings.ToLower(cfg.Domain),
		requests:       ratelimit.New(rateLimit, rateWindow),
		memberRequests: ratelimit.New(accountRateLimit, rateWindow),
		now:            time.Now,
		started:        time.Now(),
	}
	if k, err := svc.DB.GetInstanceKey(context.Background(), push.KeyName); err == nil {
		a.vapidKey = k.PublicKey
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	a.hub = newHub(a)
	srv.OnShutdown(a.hub.stop)
	if err := srv.Metrics().Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "commonplace_streaming_connections",
		Help: "Open streaming API connections on this process.",
	}, func() float64 { return float64(a.hub.count()) })); err != nil {
		return fmt.Errorf("register streaming metric: %w", err)
	}
	a.routes()
	srv.AddViewer(a.member)
	return nil
}

// routeOpts says who may call an endpoint.
type routeOpts struct {
	// scopes: the token needs one of these; none means no token is
	// needed (but a token that is sent must be valid).
	scopes []string
	// user: the token must belong to a member, not only an application.
	user bool
	// anyToken: any valid token will do (apps/verify_credentials).
	anyToken bool
	// open: served to anyone in allowlist mode too (server.Public). Only
	// for what an app needs to register and sign in, and instance
	// metadata; everything else is for members then (server/access.go).
	open bool
}

func public() routeOpts                { return routeOpts{} }
func open() routeOpts                  { return routeOpts{open: true} }
func scoped(s ...string) routeOpts     { return routeOpts{scopes: s} }
func userScoped(s ...string) routeOpts { return routeOpts{scopes: s, user: true} }
func (a *API) add(method, path string, o routeOpts, h echo.HandlerFunc) {
	a.echo.Add(method, path, a.wrap(o, h))
	if o.open {
		a.srv.Declare(server.Public, method+" "+path)
	}
	if method == http.MethodGet {
		a.echo.Add(http.MethodHead, path, a.wrap(o, h))
	}
}

func (a *API) routes() {
	// Rails, and so Mastodon, ignores a trailing slash; apps rely on it
	// (toot opens /oauth/authorize/). Before CORS, which matches paths.
	a.echo.Pre(dropTrailingSlash)
	// CORS before routing, so that preflights of any API path are answered.
	a.echo.Pre(a.cors)

	// OAuth 2; the authorize page belongs to the web front end.
	a.add(http.MethodPost, "/oauth/token", open(), a.token)
	a.add(http.MethodPost, "/oauth/revoke", open(), a.revoke)
	a.add(http.MethodPost, "/api/v1/apps", open(), a.createApp)
	a.add(http.MethodGet, "/api/v1/apps/verify_credentials", routeOpts{anyToken: true, open: true}, a.verifyApp)

	a.add(http.MethodGet, "/api/v1/instance", open(), a.instanceV1)
	a.add(http.MethodGet, "/api/v2/instance", open(), a.instanceV2)
	a.add(http.MethodGet, "/api/v1/custom_emojis", open(), emptyList)

	a.add(http.MethodGet, "/api/v1/accounts/verify_credentials", userScoped("read:accounts", "profile"), a.verifyCredentials)
	a.add(http.MethodGet, "/api/v1/accounts/lookup", public(), a.lookupAccount)
	a.add(http.MethodGet, "/api/v1/accounts/search", userScoped("read:accounts"), a.accountSearch)
	a.add(http.MethodGet, "/api/v1/accounts/relationships", userScoped("read:follows"), a.relationships)
	a.add(http.MethodGet, "/api/v1/accounts/:id", public(), a.getAccount)
	a.add(http.MethodGet, "/api/v1/accounts/:id/statuses", public(), a.accountStatuses)
	a.add(http.MethodPost, "/api/v1/accounts/:id/follow", userScoped("write:follows", "follow"), a.follow)
	a.add(http.MethodPost, "/api/v1/accounts/:id/unfollow", userScoped("write:follows", "follow"), a.unfollow)

	a.add(http.MethodGet, "/api/v1/follow_requests", userScoped("read:follows", "follow"), a.followRequests)
	a.add(http.MethodPost, "/api/v1/follow_requests/:id/authorize", userScoped("write:follows", "follow"), a.decideFollowRequest(true))
	a.add(http.MethodPost, "/api/v1/follow_requests/:id/reject", userScoped("write:follows", "follow"), a.decideFollowRequest(false))

	a.add(http.MethodGet, "/api/v2/search", scoped("read:search"), a.search)

	a.add(http.MethodPost, "/api/v1/statuses", userScoped("write:statuses"), a.createStatus)
	a.add(http.MethodGet, "/api/v1/statuses/:id", public(), a.getStatus)
	a.add(http.MethodPut, "/api/v1/statuses/:id", userScoped("write:statuses"), a.editStatus)
	a.add(http.MethodDelete, "/api/v1/statuses/:id", userScoped("write:statuses"), a.deleteStatus)
	a.add(http.MethodGet, "/api/v1/statuses/:id/context", public(), a.statusContext)
	a.add(http.MethodPost, "/api/v1/statuses/:id/favourite", userScoped("write:favourites"), a.favourite)
	a.add(http.MethodPost, "/api/v1/statuses/:id/unfavourite", userScoped("write:favourites"), a.unfavourite)

	a.add(http.MethodGet, "/api/v1/timelines/home", userScoped("read:statuses"), a.homeTimeline)
	a.add(http.MethodGet, "/api/v1/timelines/public", public(), a.publicTimeline)
	a.add(http.MethodGet, "/api/v1/timelines/tag/:hashtag", public(), a.tagTimeline)

	a.add(http.MethodGet, "/api/v1/notifications", userScoped("read:notifications"), a.notifications)
	// Static paths before :id (Echo prefers them anyway; listed here so
	// that the order reads as the precedence).
	a.add(http.MethodGet, "/api/v1/notifications/unread_count", userScoped("read:notifications"), a.unreadCount(false))
	a.add(http.MethodGet, "/api/v1/notifications/policy", userScoped("read:notifications"), a.notificationPolicyV1)
	a.add(http.MethodPatch, "/api/v1/notifications/policy", userScoped("write:notifications"), a.notificationPolicyV1)
	a.add(http.MethodGet, "/api/v1/notifications/requests", userScoped("read:notifications"), a.notificationRequests)
	a.add(http.MethodGet, "/api/v1/notifications/:id", userScoped("read:notifications"), a.notification)
	a.add(http.MethodPost, "/api/v1/notifications/clear", userScoped("write:notifications"), a.clearNotifications)
	a.add(http.MethodPost, "/api/v1/notifications/:id/dismiss", userScoped("write:notifications"), a.dismissNotification)

	a.add(http.MethodGet, "/api/v1/markers", userScoped("read:statuses"), a.getMarkers)
	a.add(http.MethodPost, "/api/v1/markers", userScoped("write:statuses"), a.saveMarkers)

	a.memberRoutes()
	a.adminDomainRoutes()
	a.streamingRoutes()
	a.conversationRoutes()
	a.moderationRoutes()
	a.answerRoutes()
	a.mediaRoutes()
	a.pushRoutes()
	a.repertoireRoutes()
	a.practiceRoutes()

	a.echo.GET(missingAvatarPath, missingImage)
	a.echo.GET(missingHeaderPath, missingImage)
	a.srv.Declare(server.Public, "GET "+missingAvatarPath, "GET "+missingHeaderPath)
}

// apiError is an error with Mastodon's status code and message.
type apiError struct {
	status int
	msg    string
	// description is OAuth's error_description.
	description string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.msg) }

func errorf(status int, format string, args ...any) error {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

var (
	errUnauthorized = &apiError{status: http.StatusUnauthorized, msg: "The access token is invalid"}
	errScope        = &apiError{status: http.StatusForbidden, msg: "This action is outside the authorized scopes"}
	errNeedsUser    = &apiError{status: http.StatusUnprocessableEntity, msg: "This method requires an authenticated user"}
	errNotFound     = &apiError{status: http.StatusNotFound, msg: "Record not found"}
)

// wrap authenticates, rate limits and checks scopes before h, and turns
// h's errors into Mastodon's {"error": ...} bodies.
func (a *API) wrap(o routeOpts, h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := a.guard(c, o)
		if err == nil {
			err = h(c)
		}
		if err != nil {
			a.writeError(c, err)
		}
		return nil
	}
}

func (a *API) guard(c echo.Context, o routeOpts) error {
	tok, err := a.authenticate(c)
	// Anyone can mint application tokens: their requests count against
	// the address too, as requests without a token do. A member's count
	// against the member as well, whatever token they come with.
	ip := "ip:" + a.clientIP(c)
	keys := []string{ip}
	switch {
	case tok != nil && tok.AccountID != nil:
		keys = []string{fmt.Sprintf("token:%d", tok.ID), fmt.Sprintf("account:%d", *tok.AccountID)}
	case tok != nil:
		keys = []string{fmt.Sprintf("token:%d", tok.ID), ip}
	}
	if err := a.rateLimit(c, keys...); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	needsToken := len(o.scopes) > 0 || o.user || o.anyToken
	if tok == nil {
		if needsToken {
			return errUnauthorized
		}
		return nil
	}
	if len(o.scopes) > 0 && !oauth.GrantsAny(strings.Fields(tok.Scopes), o.scopes) {
		return errScope
	}
	if o.user && tok.Account == nil {
		return errNeedsUser
	}
	return nil
}

// writeError maps an error to Mastodon's status codes and body. Detail
// from the federation layer is worded for clients; everything else stays
// in the log.
func (a *API) writeError(c echo.Context, err error) {
	var (
		ae  *apiError
		he  *echo.HTTPError
		mbe *http.MaxBytesError
	)
	status, msg := http.StatusInternalServerError, "Internal server error"
	switch {
	case errors.As(err, &ae):
		status, msg = ae.status, ae.msg
	case errors.As(err, &he):
		status, msg = he.Code, http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" {
			msg = m
		}
	case errors.As(err, &mbe):
		status, msg = http.StatusRequestEntityTooLarge, "Request body too large"
	case errors.Is(err, storage.ErrNotFound):
		status, msg = errNotFound.status, errNotFound.msg
	case errors.Is(err, storage.ErrConflict):
		status, msg = http.StatusUnprocessableEntity, "Validation failed: already exists"
	case errors.Is(err, federation.ErrHeld):
		// Not posted yet: the apps have no entity for a queued post.
		status, msg = http.StatusUnprocessableEntity, "Your post "+strings.TrimPrefix(err.Error(), federation.ErrHeld.Error()+": your post ")
	case errors.Is(err, federation.ErrTooManyAttempts):
		status, msg = http.StatusTooManyRequests, strings.TrimPrefix(err.Error(), federation.ErrTooManyAttempts.Error()+": ")
	case errors.Is(err, federation.ErrInvalid):
		status, msg = http.StatusUnprocessableEntity, "Validation failed: "+strings.TrimPrefix(err.Error(), "invalid: ")
	case errors.Is(err, federation.ErrForbidden):
		status, msg = http.StatusForbidden, "This action is not allowed: "+strings.TrimPrefix(err.Error(), "forbidden: ")
	case errors.Is(err, federation.ErrUnauthorized):
		status, msg = http.StatusUnauthorized, errUnauthorized.msg
	}
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	}
	a.log.Log(c.Request().Context(), level, "client API request failed",
		"method", c.Request().Method, "path", c.Request().URL.Path, "status", status, "error", err.Error())
	if c.Response().Committed {
		return
	}
	body := map[string]string{"error": msg}
	if ae != nil && ae.description != "" {
		body["error_description"] = ae.description
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	c.JSON(status, body)
}

// clientIP is the connection's address. X-Forwarded-For is believed only
// when the server was configured with an IP extractor that trusts a proxy;
// otherwise anyone could choose the key their login attempts count under.
func (a *API) clientIP(c echo.Context) string {
	if a.echo.IPExtractor != nil {
		return c.RealIP()
	}
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	if err != nil {
		return c.Request().RemoteAddr
	}
	return host
}

func emptyList(c echo.Context) error { return c.JSON(http.StatusOK, []any{}) }

// dropTrailingSlash routes /api/... and /oauth/... paths as if they had
// no trailing slash.
func dropTrailingSlash(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := c.Request().URL
		p := u.Path
		if len(p) > 1 && strings.HasSuffix(p, "/") && (strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/oauth/")) {
			u.Path = strings.TrimRight(p, "/")
			u.RawPath = strings.TrimRight(u.RawPath, "/")
		}
		return next(c)
	}
}
