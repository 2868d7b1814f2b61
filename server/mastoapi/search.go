package mastoapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// search is GET /api/v2/search. With resolve=true and a member's token, an
// address (@name@domain) or actor URL unknown here is looked up by
// WebFinger and fetched, so that a remote community can be followed, and a
// post's URL is fetched so that it can be answered.
func (a *API) search(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(p.Get("q"))
	typ := p.Get("type")
	limit := defaultPageLimit
	if v := p.Get("limit"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			limit = min(n, maxPageLimit)
		}
	}
	offset, _ := strconv.Atoi(p.Get("offset"))
	out := SearchResults{Accounts: []*Account{}, Statuses: []*Status{}, Hashtags: []Tag{}}
	if q == "" || offset > 0 {
		return c.JSON(http.StatusOK, out)
	}
	resolve := p.bool("resolve") && viewer(c) != nil
	ctx := c.Request().Context()
	r := a.renderer(c)
	if typ == "" || typ == "accounts" {
		actors, err := a.searchAccounts(ctx, q, resolve, limit)
		if err != nil {
			return err
		}
		for _, act := range actors {
			acc, err := r.account(act)
			if err != nil {
				return err
			}
			out.Accounts = append(out.Accounts, acc)
		}
	}
	if typ == "" || typ == "statuses" {
		var objs []storage.Object
		if isURL(q) {
			// A pasted post URL (its id or its page) is fetched from its
			// server when a member asks to resolve it, as Mastodon does.
			lookup := a.db.GetObjectByURI
			if resolve {
				lookup = a.svc.LookupPost
			}
			if o, err := lookup(ctx, q); err == nil && o.DeletedAt == nil {
				// Only a post the member may read: a pasted link to a
				// followers-only or members post finds nothing.
				ok, err := a.db.CanSee(ctx, viewer(c), o)
				if err != nil {
					return err
				}
				if ok {
					objs = append(objs, *o)
				}
			} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
				a.log.Debug("search: post not resolved", "url", q, "err", err)
			}
		} else if !strings.HasPrefix(q, "#") && !strings.HasPrefix(q, "@") {
			objs, err = a.db.ListStatuses(ctx, storage.StatusFilter{Query: q, Page: storage.Page{Limit: limit}})
			if err != nil {
				return err
			}
		}
		if out.Statuses, err = r.statusesOf(objs, nil); err != nil {
			return err
		}
	}
	if (typ == "" || typ == "hashtags") && !isURL(q) && !strings.HasPrefix(q, "@") {
		tags, err := a.db.SearchTags(ctx, strings.TrimPrefix(q, "#"), limit)
		if err != nil {
			return err
		}
		for _, t := range tags {
			out.Hashtags = append(out.Hashtags, Tag{Name: t, URL: a.svc.URLs.TagURL(t), History: []TagHistory{}})
		}
	}
	return c.JSON(http.StatusOK, out)
}

func isURL(q string) bool { return strings.HasPrefix(q, "https://") || strings.HasPrefix(q, "http://") }

// searchAccounts finds members and communities: by address (resolved
// remotely when asked), by actor URL, or by name prefix.
func (a *API) searchAccounts(ctx context.Context, q string, resolve bool, limit int) ([]*storage.Actor, error) {
	handle := strings.TrimPrefix(strings.TrimPrefix(q, "acct:"), "@")
	user, domain, isHandle := strings.Cut(handle, "@")
	switch {
	case isURL(q):
		var (
			actor *storage.Actor
			err   error
		)
		if resolve {
			actor, err = a.svc.Actor(ctx, q)
		} else {
			actor, err = a.db.GetActorByURI(ctx, q)
		}
		if err != nil {
			a.log.Debug("search: actor not found", "q", q, "error", err)
			return nil, nil
		}
		return listable(actor), nil
	case isHandle && user != "" && domain != "":
		var (
			actor *storage.Actor
			err   error
		)
		switch {
		case strings.EqualFold(domain, a.domain):
			actor, err = a.db.GetLocalActor(ctx, user)
		case resolve:
			actor, err = a.svc.ResolveHandle(ctx, handle)
		default:
			actor, err = a.db.GetActorByHandle(ctx, user, domain)
		}
		if err != nil {
			a.log.Debug("search: address not found", "q", q, "error", err)
			return nil, nil
		}
		return listable(actor), nil
	case strings.HasPrefix(q, "#") || strings.ContainsAny(q, " /"):
		return nil, nil
	}
	actors, err := a.db.SearchActors(ctx, handle, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*storage.Actor, 0, len(actors))
	for i := range actors {
		out = append(out, &actors[i])
	}
	return out, nil
}

func listable(a *storage.Actor) []*storage.Actor {
	if a.Type != storage.TypePerson && a.Type != storage.TypeGroup {
		return nil
	}
	return []*storage.Actor{a}
}

// accountSearch is GET /api/v1/accounts/search: the composer's
// @-autocomplete (Tusky, Phanpy) and account pickers. following=true
// keeps only accounts the viewer follows or is a member of.
func (a *API) accountSearch(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(p.Get("q"))
	limit := 40
	if v := p.Get("limit"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			limit = min(n, 80)
		}
	}
	offset, _ := strconv.Atoi(p.Get("offset"))
	out := []*Account{}
	if q == "" || offset > 0 {
		return c.JSON(http.StatusOK, out)
	}
	actors, err := a.searchAccounts(c.Request().Context(), q, p.bool("resolve") && viewer(c) != nil, limit)
	if err != nil {
		return err
	}
	if p.bool("following") && viewer(c) != nil {
		ids := make([]int64, len(actors))
		for i, act := range actors {
			ids[i] = act.ID
		}
		followed, err := a.db.MembershipsOf(c.Request().Context(), viewerID(c), ids)
		if err != nil {
			return err
		}
		kept := actors[:0]
		for _, act := range actors {
			if m, ok := followed[act.ID]; ok && m.State == storage.StateAccepted {
				kept = append(kept, act)
			}
		}
		actors = kept
	}
	r := a.renderer(c)
	for _, act := range actors {
		acc, err := r.account(act)
		if err != nil {
			return err
		}
		out = append(out, acc)
	}
	return c.JSON(http.StatusOK, out)
}
