package mastoapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation/oauth"
	"github.com/commonplace/commonplace/storage"
)

// Discovery: the directory, suggestions, trends and what the instance
// says about itself beyond /instance.

// offsetLimit reads offset and limit (default def, at most max).
func offsetLimit(p params, def, most int) (int, int) {
	offset, _ := strconv.Atoi(p.Get("offset"))
	limit := def
	if n, err := strconv.Atoi(p.Get("limit")); err == nil && n > 0 {
		limit = min(n, most)
	}
	return max(offset, 0), limit
}

// peers is GET /api/v1/instance/peers.
func (a *API) peers(c echo.Context) error {
	out, err := a.db.Peers(c.Request().Context(), 10000)
	if err != nil {
		return err
	}
	if out == nil {
		out = []string{}
	}
	return c.JSON(http.StatusOK, out)
}

// activity is GET /api/v1/instance/activity: the last 12 weeks, this
// week first, numbers as strings as Mastodon sends them. Logins counts
// the accounts whose token was last used in the week.
func (a *API) activity(c echo.Context) error {
	now := a.now().UTC()
	monday := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	monday = monday.AddDate(0, 0, -((int(monday.Weekday()) + 6) % 7))
	starts := make([]time.Time, 12)
	for i := range starts {
		starts[i] = monday.AddDate(0, 0, -7*i)
	}
	weeks, err := a.db.Activity(c.Request().Context(), starts)
	if err != nil {
		return err
	}
	out := []map[string]string{}
	for _, w := range weeks {
		out = append(out, map[string]string{
			"week": strconv.FormatInt(w.Week.Unix(), 10), "statuses": strconv.FormatInt(w.Statuses, 10),
			"logins": strconv.FormatInt(w.Logins, 10), "registrations": strconv.FormatInt(w.Registrations, 10),
		})
	}
	return c.JSON(http.StatusOK, out)
}

// extendedDescription is GET /api/v1/instance/extended_description.
func (a *API) extendedDescription(c echo.Context) error {
	info, err := a.instanceInfo(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"updated_at": iso(a.started), "content": plainToHTML(info.description)})
}

// directory is GET /api/v1/directory: members who chose to be listed and
// public communities, of this instance (local=false adds nothing: remote
// accounts are not listed here).
func (a *API) directory(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	offset, limit := offsetLimit(p, 40, 80)
	actors, err := a.db.Directory(c.Request().Context(), p.Get("order"), offset, limit)
	if err != nil {
		return err
	}
	return a.renderAccounts(c, actors)
}

func (a *API) renderAccounts(c echo.Context, actors []storage.Actor) error {
	r := a.renderer(c)
	out := []*Account{}
	for i := range actors {
		acc, err := r.account(&actors[i])
		if err != nil {
			return err
		}
		out = append(out, acc)
	}
	return c.JSON(http.StatusOK, out)
}

// suggestions is GET /api/v2/suggestions (and v1, accounts only): the
// public communities here that the member has not joined, most members
// first.
func (a *API) suggestions(v2 bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := a.params(c)
		if err != nil {
			return err
		}
		_, limit := offsetLimit(p, 40, 80)
		actors, err := a.db.SuggestedCommunities(c.Request().Context(), viewerID(c), limit)
		if err != nil {
			return err
		}
		if !v2 {
			return a.renderAccounts(c, actors)
		}
		r := a.renderer(c)
		out := []map[string]any{}
		for i := range actors {
			acc, err := r.account(&actors[i])
			if err != nil {
				return err
			}
			out = append(out, map[string]any{"source": "global", "sources": []string{"most_followed"}, "account": acc})
		}
		return c.JSON(http.StatusOK, out)
	}
}

// trendingTags is GET /api/v1/trends/tags: the hashtags most authors used
// this week.
func (a *API) trendingTags(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	offset, limit := offsetLimit(p, 10, 20)
	names, err := a.db.TrendingTags(c.Request().Context(), a.now().AddDate(0, 0, -7), offset, limit)
	if err != nil {
		return err
	}
	out := []*Tag{}
	for _, n := range names {
		t, err := a.tagEntity(c, n)
		if err != nil {
			return err
		}
		out = append(out, t)
	}
	return c.JSON(http.StatusOK, out)
}

// trendingStatuses is GET /api/v1/trends/statuses: the most liked and
// boosted public posts of the last three days.
func (a *API) trendingStatuses(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	offset, limit := offsetLimit(p, 20, 40)
	objs, err := a.db.TrendingStatuses(c.Request().Context(), a.now().AddDate(0, 0, -3), offset, limit)
	if err != nil {
		return err
	}
	out, err := a.renderer(c).statusesOf(objs, nil)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// oauthMetadata is /.well-known/oauth-authorization-server (RFC 8414), as
// Mastodon 4.3 publishes it for apps to discover the endpoints.
func (a *API) oauthMetadata(c echo.Context) error {
	base := a.svc.URLs.Base
	return c.JSON(http.StatusOK, map[string]any{
		"issuer":                                base + "/",
		"service_documentation":                 "https://docs.joinmastodon.org/",
		"authorization_endpoint":                base + "/oauth/authorize",
		"token_endpoint":                        base + "/oauth/token",
		"revocation_endpoint":                   base + "/oauth/revoke",
		"app_registration_endpoint":             base + "/api/v1/apps",
		"scopes_supported":                      oauth.Scopes(),
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"grant_types_supported":                 []string{"authorization_code", "client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

// dismissSuggestion is DELETE /api/v1/suggestions/:account_id.
func (a *API) dismissSuggestion(c echo.Context) error {
	n, err := strconv.ParseInt(c.Param("account_id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	target, err := a.db.GetActorByID(c.Request().Context(), n)
	if err != nil {
		return err
	}
	if err := a.svc.DismissSuggestion(c.Request().Context(), viewer(c), target); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct{}{})
}
