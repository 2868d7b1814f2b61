package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// InteractPage is /authorize_interaction: a member of this server follows
// or joins an account from elsewhere, as Mastodon's page of that name.
type InteractPage struct {
	Page
	URI    string
	Target *Person
	// Community says the account is a community (joining) rather than a
	// person (following).
	Community bool
	Error     string
}

// remoteFollow is POST /c/:name/remote_follow: a visitor from another
// server gives their address and is sent to their own server's page for
// following this community.
func (w *Web) remoteFollow(c echo.Context) error {
	com, err := w.communityOf(c)
	if err != nil {
		return err
	}
	handle := strings.TrimSpace(c.FormValue("handle"))
	if !w.svc.AllowAttempt(c.RealIP(), "remote-follow") {
		return echo.NewHTTPError(http.StatusTooManyRequests, "Too many attempts. Try again in a few minutes.")
	}
	to, err := w.svc.RemoteInteractionURL(c.Request().Context(), handle, com.Actor.URI)
	if errors.Is(err, federation.ErrInvalid) || errors.Is(err, federation.ErrForbidden) || errors.Is(err, storage.ErrNotFound) {
		return w.renderCommunity(c, com, http.StatusUnprocessableEntity, reason(err), "", "", "")
	} else if err != nil {
		w.log.Info("remote follow lookup", "handle", handle, "error", err)
		return w.renderCommunity(c, com, http.StatusBadGateway, "Your server did not answer. Check your address, or search for "+
			"@"+com.Actor.Username+"@"+w.domain+" on your server and follow it there.", "", "", "")
	}
	// A link, not a redirect: the page's CSP keeps forms from sending the
	// browser to another site, and the member sees where they are going.
	host := to
	if u, err := url.Parse(to); err == nil {
		host = u.Host
	}
	return w.render(c, http.StatusOK, "notice", NoticePage{
		Page: w.page(c, "Follow from your server"), Heading: "Follow " + com.Title + " from your server",
		Lines:    []string{"Your server, " + host + ", asks you to confirm there."},
		LinkText: "Continue on " + host, LinkURL: to,
	})
}

// interact is GET /authorize_interaction?uri=...: what the WebFinger
// subscribe template of this server points to.
func (w *Web) interact(c echo.Context) error {
	uri := strings.TrimSpace(c.QueryParam("uri"))
	page := InteractPage{Page: w.page(c, "Follow from "+w.domain), URI: uri}
	ctx := c.Request().Context()
	var (
		a   *storage.Actor
		err error
	)
	switch {
	case uri == "":
		err = federation.ErrInvalid
	case strings.HasPrefix(uri, "https://") || strings.HasPrefix(uri, "http://"):
		a, err = w.svc.Actor(ctx, uri)
	default:
		a, err = w.svc.ResolveHandle(ctx, uri)
	}
	if err != nil {
		w.log.Info("authorize interaction", "uri", uri, "error", err)
		page.Error = "No account or community was found at this address."
		return w.render(c, http.StatusNotFound, "interact", page)
	}
	p := w.person(a)
	page.Target, page.Community = &p, a.Type == storage.TypeGroup
	page.URI = a.URI
	return w.render(c, http.StatusOK, "interact", page)
}

// interactSubmit follows or joins the account.
func (w *Web) interactSubmit(c echo.Context) error {
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	uri := c.FormValue("uri")
	m, err := w.svc.Follow(c.Request().Context(), me, uri)
	if err != nil {
		return err
	}
	a, err := w.db.GetActorByURI(c.Request().Context(), uri)
	if err != nil {
		return err
	}
	if a.Local {
		return c.Redirect(http.StatusSeeOther, w.actorPath(a))
	}
	line := "Done: their posts will reach your home page."
	if m.State == storage.StatePending {
		line = "Your request is sent; " + a.Handle() + " answers it."
	}
	return w.render(c, http.StatusOK, "notice", NoticePage{
		Page: w.page(c, "Followed"), Heading: "You follow @" + a.Handle(), Lines: []string{line},
		LinkText: "See @" + a.Handle() + " on its server", LinkURL: w.actorPath(a),
	})
}
