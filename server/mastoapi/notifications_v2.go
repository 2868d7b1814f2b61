package mastoapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// Grouped notifications (Mastodon 4.3, /api/v2/notifications), the
// unread count and the notification policy. Likes and boosts of one post
// and new followers are grouped when they fall in the same 12-hour
// window, which is how Mastodon bounds a group; everything else is a
// group of one.

const groupSpan = 12 * time.Hour

// defaultGrouped are the types grouped when the app does not say.
var defaultGrouped = []string{storage.NotifyFavourite, storage.NotifyReblog, storage.NotifyFollow}

// groupKey is the key of a notification's group.
func groupKey(n *storage.Notification, grouped []string) string {
	if !slices.Contains(grouped, n.Type) || !slices.Contains(defaultGrouped, n.Type) {
		return "ungrouped-" + id(n.ID)
	}
	bucket := strconv.FormatInt(n.CreatedAt.Unix()/int64(groupSpan/time.Second), 10)
	if n.Type == storage.NotifyFollow {
		return n.Type + "-" + bucket
	}
	return n.Type + "-" + id(n.ObjectID) + "-" + bucket
}

// groupFilter turns a group key back into the notifications it covers.
func groupFilter(recipient int64, key string) (storage.NotificationFilter, bool) {
	f := storage.NotificationFilter{RecipientActorID: recipient, HideMuted: true}
	parts := strings.Split(key, "-")
	num := func(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }
	window := func(b int64) {
		f.CreatedFrom = time.Unix(b*int64(groupSpan/time.Second), 0)
		f.CreatedTill = f.CreatedFrom.Add(groupSpan)
	}
	switch {
	case len(parts) == 2 && parts[0] == "ungrouped" && num(parts[1]) > 0:
		n := num(parts[1])
		f.Page = storage.Page{MaxID: n + 1, SinceID: n - 1, Limit: 1}
	case len(parts) == 2 && parts[0] == storage.NotifyFollow && num(parts[1]) > 0:
		f.Types = []string{storage.NotifyFollow}
		window(num(parts[1]))
	case len(parts) == 3 && (parts[0] == storage.NotifyFavourite || parts[0] == storage.NotifyReblog) && num(parts[1]) > 0 && num(parts[2]) > 0:
		f.Types, f.ObjectID = []string{parts[0]}, num(parts[1])
		window(num(parts[2]))
	default:
		return f, false
	}
	return f, true
}

// notificationFilter reads the parameters v1 and v2 share.
func (a *API) notificationFilter(c echo.Context, p params, pg storage.Page) (storage.NotificationFilter, error) {
	me := viewer(c)
	f := storage.NotificationFilter{RecipientActorID: me.ID, Page: pg, Types: p.list("types"), ExcludeTypes: p.list("exclude_types"), HideMuted: true}
	// A held post is news for the moderation page, which the apps lack.
	f.ExcludeTypes = append(f.ExcludeTypes, storage.NotifyHeldPost)
	if len(f.Types) > 0 {
		// Asking only for types that never occur must find nothing.
		f.Types = append(f.Types, "-")
	}
	if v := p.Get("account_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			n = -1
		}
		f.FromActorID = n
	}
	if !p.bool("include_filtered") {
		pol, err := a.db.GetNotificationPolicy(c.Request().Context(), me.ID)
		if err != nil {
			return f, err
		}
		f.Policy = pol
	}
	return f, nil
}

// notificationsV2 is GET /api/v2/notifications.
func (a *API) notificationsV2(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	pg, err := a.pageOf(c)
	if err != nil {
		return err
	}
	if p.Get("limit") == "" {
		pg.Limit = 40
	}
	limit := pg.Limit
	f, err := a.notificationFilter(c, p, pg)
	if err != nil {
		return err
	}
	grouped := defaultGrouped
	if p.has("grouped_types") || p.has("grouped_types[]") {
		grouped = p.list("grouped_types")
	}
	// Read notifications newest first, in batches, until limit groups are
	// full or 400 notifications were read.
	ctx := c.Request().Context()
	var consumed []storage.Notification
	groups := map[string][]storage.Notification{}
	var order []string
	f.Page.Limit = 80
	if pg.Ascending() {
		f.Page.Limit = limit
	}
read:
	for batch := 0; batch < 5; batch++ {
		list, err := a.db.ListNotifications(ctx, f)
		if err != nil {
			return err
		}
		for _, n := range list {
			k := groupKey(&n, grouped)
			if _, ok := groups[k]; !ok {
				if len(order) == limit {
					break read
				}
				order = append(order, k)
			}
			groups[k] = append(groups[k], n)
			consumed = append(consumed, n)
		}
		if len(list) < f.Page.Limit || pg.Ascending() {
			break
		}
		f.Page = storage.Page{MaxID: list[len(list)-1].ID, SinceID: pg.SinceID, Limit: f.Page.Limit}
	}
	out, err := a.renderGroups(c, order, groups, true, f)
	if err != nil {
		return err
	}
	if n := len(consumed); n > 0 {
		a.setLink(c, pg, consumed[0].ID, consumed[n-1].ID, n)
	}
	return c.JSON(http.StatusOK, out)
}

// renderGroups renders groups in order, leaving out those whose post is
// gone. counted: count each group's notifications beyond the page.
func (a *API) renderGroups(c echo.Context, order []string, groups map[string][]storage.Notification, counted bool, base storage.NotificationFilter) (*GroupedNotifications, error) {
	ctx := c.Request().Context()
	out := &GroupedNotifications{Accounts: []*Account{}, Statuses: []*Status{}, NotificationGroups: []NotificationGroup{}}
	var objIDs []int64
	for _, k := range order {
		if o := groups[k][0].ObjectID; o > 0 {
			objIDs = append(objIDs, o)
		}
	}
	objs, err := a.db.ListObjectsByIDs(ctx, objIDs)
	if err != nil {
		return nil, err
	}
	var live []storage.Object
	for _, o := range objs {
		if o.DeletedAt == nil {
			live = append(live, o)
		}
	}
	r := a.renderer(c)
	r.filterContext = "notifications"
	statuses, err := r.statusesOf(live, nil)
	if err != nil {
		return nil, err
	}
	shown := map[int64]bool{}
	for i, s := range statuses {
		if !s.hidden {
			shown[live[i].ID] = true
			out.Statuses = append(out.Statuses, s)
		}
	}
	seenAccount := map[int64]bool{}
	for _, k := range order {
		list := groups[k]
		newest := list[0]
		if newest.ObjectID > 0 && !shown[newest.ObjectID] {
			continue
		}
		g := NotificationGroup{
			GroupKey: k, NotificationsCount: int64(len(list)), Type: newest.Type,
			MostRecentNotificationID: id(newest.ID), PageMaxID: id(newest.ID), PageMinID: id(list[len(list)-1].ID),
			LatestPageNotificationAt: iso(newest.CreatedAt), SampleAccountIDs: []string{},
		}
		if newest.ObjectID > 0 {
			g.StatusID = ptr(id(newest.ObjectID))
		}
		if counted && !strings.HasPrefix(k, "ungrouped-") {
			gf, _ := groupFilter(base.RecipientActorID, k)
			gf.Policy, gf.Page = base.Policy, storage.Page{Limit: 10000}
			n, err := a.db.CountNotifications(ctx, gf)
			if err != nil {
				return nil, err
			}
			g.NotificationsCount = max(n, g.NotificationsCount)
		}
		sampled := map[int64]bool{}
		for _, n := range list {
			if n.FromActor == nil || sampled[n.FromActorID] || len(g.SampleAccountIDs) == 8 {
				continue
			}
			sampled[n.FromActorID] = true
			g.SampleAccountIDs = append(g.SampleAccountIDs, id(n.FromActorID))
			if !seenAccount[n.FromActorID] {
				seenAccount[n.FromActorID] = true
				acc, err := r.account(n.FromActor)
				if err != nil {
					return nil, err
				}
				out.Accounts = append(out.Accounts, acc)
			}
		}
		out.NotificationGroups = append(out.NotificationGroups, g)
	}
	return out, nil
}

// groupParam reads :group_key and its notifications (at most 80).
func (a *API) groupParam(c echo.Context) (string, []storage.Notification, storage.NotificationFilter, error) {
	key := c.Param("group_key")
	f, ok := groupFilter(viewerID(c), key)
	if !ok {
		return "", nil, f, errNotFound
	}
	if f.Page.Limit == 0 {
		f.Page.Limit = 80
	}
	list, err := a.db.ListNotifications(c.Request().Context(), f)
	if err != nil {
		return "", nil, f, err
	}
	if len(list) == 0 {
		return "", nil, f, errNotFound
	}
	return key, list, f, nil
}

// notificationGroup is GET /api/v2/notifications/:group_key.
func (a *API) notificationGroup(c echo.Context) error {
	key, list, f, err := a.groupParam(c)
	if err != nil {
		return err
	}
	out, err := a.renderGroups(c, []string{key}, map[string][]storage.Notification{key: list}, true, f)
	if err != nil {
		return err
	}
	if len(out.NotificationGroups) == 0 {
		return errNotFound
	}
	return c.JSON(http.StatusOK, out)
}

// dismissGroup is POST /api/v2/notifications/:group_key/dismiss.
func (a *API) dismissGroup(c echo.Context) error {
	_, _, f, err := a.groupParam(c)
	if err != nil {
		return err
	}
	f.HideMuted = false
	if err := a.db.DeleteNotificationsWhere(c.Request().Context(), f); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct{}{})
}

// groupAccounts is GET /api/v2/notifications/:group_key/accounts.
func (a *API) groupAccounts(c echo.Context) error {
	_, list, _, err := a.groupParam(c)
	if err != nil {
		return err
	}
	r := a.renderer(c)
	out := []*Account{}
	seen := map[int64]bool{}
	for _, n := range list {
		if n.FromActor == nil || seen[n.FromActorID] {
			continue
		}
		seen[n.FromActorID] = true
		acc, err := r.account(n.FromActor)
		if err != nil {
			return err
		}
		out = append(out, acc)
	}
	return c.JSON(http.StatusOK, out)
}

// unreadCount is GET /api/v1/notifications/unread_count (notifications)
// and /api/v2/notifications/unread_count (groups): those newer than the
// notifications marker, up to limit (default 100, at most 1000).
func (a *API) unreadCount(groupsToo bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := a.params(c)
		if err != nil {
			return err
		}
		limit := 100
		if n, err := strconv.Atoi(p.Get("limit")); err == nil && n > 0 {
			limit = min(n, 1000)
		}
		ctx := c.Request().Context()
		me := viewer(c)
		markers, err := a.db.ListMarkers(ctx, me.ID, []string{"notifications"})
		if err != nil {
			return err
		}
		var after int64
		if len(markers) > 0 {
			after, _ = strconv.ParseInt(markers[0].LastReadID, 10, 64)
		}
		f, err := a.notificationFilter(c, p, storage.Page{SinceID: after, Limit: limit})
		if err != nil {
			return err
		}
		if !groupsToo {
			n, err := a.db.CountNotifications(ctx, f)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, map[string]int64{"count": n})
		}
		grouped := defaultGrouped
		if p.has("grouped_types") || p.has("grouped_types[]") {
			grouped = p.list("grouped_types")
		}
		f.Page.Limit = 1000
		list, err := a.db.ListNotifications(ctx, f)
		if err != nil {
			return err
		}
		keys := map[string]bool{}
		for _, n := range list {
			if len(keys) < limit {
				keys[groupKey(&n, grouped)] = true
			}
		}
		return c.JSON(http.StatusOK, map[string]int{"count": len(keys)})
	}
}

// policySummary counts the notifications the policy keeps aside, and the
// accounts they are from (requests).
func (a *API) policySummary(c echo.Context, pol *storage.NotificationPolicy) (map[string]int64, error) {
	f := storage.NotificationFilter{RecipientActorID: pol.ActorID, HideMuted: true, Policy: pol, Filtered: true, Page: storage.Page{Limit: 10000}}
	n, err := a.db.CountNotifications(c.Request().Context(), f)
	if err != nil {
		return nil, err
	}
	f.Page.Limit = 1000
	list, err := a.db.ListNotifications(c.Request().Context(), f)
	if err != nil {
		return nil, err
	}
	from := map[int64]bool{}
	for _, x := range list {
		from[x.FromActorID] = true
	}
	return map[string]int64{"pending_requests_count": int64(len(from)), "pending_notifications_count": n}, nil
}

// notificationPolicy is GET and PATCH /api/v2/notifications/policy.
func (a *API) notificationPolicy(c echo.Context) error {
	ctx := c.Request().Context()
	pol, err := a.db.GetNotificationPolicy(ctx, viewerID(c))
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodPatch || c.Request().Method == http.MethodPut {
		p, err := a.params(c)
		if err != nil {
			return err
		}
		for name, dst := range map[string]*string{
			"for_not_following": &pol.ForNotFollowing, "for_not_followers": &pol.ForNotFollowers,
			"for_new_accounts": &pol.ForNewAccounts, "for_private_mentions": &pol.ForPrivateMentions,
			"for_limited_accounts": &pol.ForLimitedAccounts,
		} {
			if p.has(name) {
				*dst = p.Get(name)
			}
		}
		if err := a.svc.SetNotificationPolicy(ctx, pol); err != nil {
			return err
		}
	}
	sum, err := a.policySummary(c, pol)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NotificationPolicy{
		ForNotFollowing: pol.ForNotFollowing, ForNotFollowers: pol.ForNotFollowers, ForNewAccounts: pol.ForNewAccounts,
		ForPrivateMentions: pol.ForPrivateMentions, ForLimitedAccounts: pol.ForLimitedAccounts, Summary: sum,
	})
}

// notificationPolicyV1 is GET and PATCH /api/v1/notifications/policy:
// the same policy as booleans (true = filter).
func (a *API) notificationPolicyV1(c echo.Context) error {
	ctx := c.Request().Context()
	pol, err := a.db.GetNotificationPolicy(ctx, viewerID(c))
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodPatch || c.Request().Method == http.MethodPut {
		p, err := a.params(c)
		if err != nil {
			return err
		}
		for name, dst := range map[string]*string{
			"filter_not_following": &pol.ForNotFollowing, "filter_not_followers": &pol.ForNotFollowers,
			"filter_new_accounts": &pol.ForNewAccounts, "filter_private_mentions": &pol.ForPrivateMentions,
		} {
			if p.has(name) {
				*dst = "accept"
				if p.bool(name) {
					*dst = "filter"
				}
			}
		}
		if err := a.svc.SetNotificationPolicy(ctx, pol); err != nil {
			return err
		}
	}
	sum, err := a.policySummary(c, pol)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NotificationPolicyV1{
		FilterNotFollowing: pol.ForNotFollowing != "accept", FilterNotFollowers: pol.ForNotFollowers != "accept",
		FilterNewAccounts: pol.ForNewAccounts != "accept", FilterPrivateMentions: pol.ForPrivateMentions != "accept", Summary: sum,
	})
}

// requestFilter selects the notifications the member's policy filters
// (not those it drops) from senders not dismissed.
func (a *API) requestFilter(c echo.Context) (storage.NotificationFilter, error) {
	pol, err := a.db.GetNotificationPolicy(c.Request().Context(), viewerID(c))
	if err != nil {
		return storage.NotificationFilter{}, err
	}
	cond := *pol
	for _, v := range []*string{&cond.ForNotFollowing, &cond.ForNotFollowers, &cond.ForNewAccounts, &cond.ForPrivateMentions, &cond.ForLimitedAccounts} {
		if *v == "drop" {
			*v = "accept"
		}
	}
	return storage.NotificationFilter{RecipientActorID: pol.ActorID, HideMuted: true, Policy: &cond, Filtered: true,
		FromDismissed: true, Page: storage.Page{Limit: 1000}}, nil
}

// notificationRequests is GET /api/v1/notifications/requests (and, with
// :id, one of them): per sender whose notifications the policy filtered,
// how many and the latest post concerned. A request's id is the sender's
// account id.
func (a *API) notificationRequests(c echo.Context) error {
	ctx := c.Request().Context()
	f, err := a.requestFilter(c)
	if err != nil {
		return err
	}
	one := c.Param("id") != ""
	if one {
		n, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return errNotFound
		}
		f.FromActorID = n
	}
	list, err := a.db.ListNotifications(ctx, f)
	if err != nil {
		return err
	}
	type req struct {
		newest storage.Notification
		count  int64
	}
	reqs := map[int64]*req{}
	var order []int64
	for _, n := range list {
		if n.FromActor == nil {
			continue
		}
		if reqs[n.FromActorID] == nil {
			reqs[n.FromActorID] = &req{newest: n}
			order = append(order, n.FromActorID)
		}
		reqs[n.FromActorID].count++
	}
	r := a.renderer(c)
	out := []map[string]any{}
	for _, from := range order {
		q := reqs[from]
		acc, err := r.account(q.newest.FromActor)
		if err != nil {
			return err
		}
		entry := map[string]any{
			"id": id(from), "created_at": iso(q.newest.CreatedAt), "updated_at": iso(q.newest.CreatedAt),
			"account": acc, "notifications_count": strconv.FormatInt(q.count, 10), "last_status": nil,
		}
		if q.newest.ObjectID > 0 {
			if o, err := a.db.GetObjectByID(ctx, q.newest.ObjectID); err == nil && o.DeletedAt == nil {
				if s, err := r.statusOf(o); err == nil {
					entry["last_status"] = s
				}
			}
		}
		out = append(out, entry)
	}
	if one {
		if len(out) == 0 {
			return errNotFound
		}
		return c.JSON(http.StatusOK, out[0])
	}
	return c.JSON(http.StatusOK, out)
}

// decideRequests is POST /api/v1/notifications/requests/:id/accept and
// /dismiss, and the same for id[] without :id.
func (a *API) decideRequests(accept bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		var ids []int64
		if v := c.Param("id"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return errNotFound
			}
			f, err := a.requestFilter(c)
			if err != nil {
				return err
			}
			f.FromActorID, f.Page.Limit = n, 1
			if list, err := a.db.ListNotifications(c.Request().Context(), f); err != nil {
				return err
			} else if len(list) == 0 {
				return errNotFound
			}
			ids = []int64{n}
		} else {
			p, err := a.params(c)
			if err != nil {
				return err
			}
			for _, v := range p.list("id") {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return errNotFound
				}
				ids = append(ids, n)
			}
		}
		if err := a.svc.DecideSenders(c.Request().Context(), viewer(c), ids, accept); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, struct{}{})
	}
}

// requestsMerged is GET /api/v1/notifications/requests/merged: accepting
// takes effect at once here, so the merge is always done.
func (a *API) requestsMerged(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]bool{"merged": true})
}
