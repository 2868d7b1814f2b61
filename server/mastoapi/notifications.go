package mastoapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// notificationTypes are the types Commonplace creates; others that apps
// ask to include or exclude are simply never there.
var notificationTypes = map[string]bool{
	storage.NotifyFollow: true, storage.NotifyFollowRequest: true,
	storage.NotifyMention: true, storage.NotifyFavourite: true, storage.NotifyReblog: true,
	storage.NotifyPoll: true,
}

// notifications is GET /api/v1/notifications.
func (a *API) notifications(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	pg, err := a.pageOf(c)
	if err != nil {
		return err
	}
	f, err := a.notificationFilter(c, p, pg)
	if err != nil {
		return err
	}
	list, err := a.db.ListNotifications(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out, err := a.renderNotifications(c, list)
	if err != nil {
		return err
	}
	if n := len(list); n > 0 {
		a.setLink(c, pg, list[0].ID, list[n-1].ID, n)
	}
	return c.JSON(http.StatusOK, out)
}

// renderNotifications renders notifications, leaving out those whose
// post has been deleted since, as Mastodon does.
func (a *API) renderNotifications(c echo.Context, list []storage.Notification) ([]Notification, error) {
	return a.renderer(c).notifications(list)
}

func (r *renderer) notifications(list []storage.Notification) ([]Notification, error) {
	r.filterContext = "notifications"
	var objIDs []int64
	for _, n := range list {
		if n.ObjectID > 0 {
			objIDs = append(objIDs, n.ObjectID)
		}
	}
	objs, err := r.a.db.ListObjectsByIDs(r.ctx, objIDs)
	if err != nil {
		return nil, err
	}
	var live []storage.Object
	for _, o := range objs {
		if o.DeletedAt == nil {
			live = append(live, o)
		}
	}
	statuses, err := r.statusesOf(live, nil)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*Status{}
	for i, o := range live {
		byID[o.ID] = statuses[i]
	}
	out := []Notification{}
	for _, n := range list {
		if n.FromActor == nil || n.Type == storage.NotifyHeldPost {
			continue // (held posts: see notificationFilter)
		}
		account, err := r.account(n.FromActor)
		if err != nil {
			return nil, err
		}
		nt := Notification{ID: id(n.ID), Type: n.Type, CreatedAt: iso(n.CreatedAt), GroupKey: groupKey(&n, defaultGrouped), Account: account}
		if n.ObjectID > 0 {
			s := byID[n.ObjectID]
			if s == nil || s.hidden {
				continue
			}
			nt.Status = s
		}
		if n.ReportID != nil {
			rep, err := r.a.db.GetReport(r.ctx, *n.ReportID)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			if nt.Report, err = r.report(rep, true); err != nil {
				return nil, err
			}
		}
		out = append(out, nt)
	}
	return out, nil
}

// notification is GET /api/v1/notifications/:id.
func (a *API) notification(c echo.Context) error {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	got, err := a.db.GetNotification(c.Request().Context(), viewer(c).ID, n)
	if err != nil {
		return err
	}
	out, err := a.renderNotifications(c, []storage.Notification{*got})
	if err != nil {
		return err
	}
	if len(out) == 0 {
		return errNotFound
	}
	return c.JSON(http.StatusOK, out[0])
}

// clearNotifications is POST /api/v1/notifications/clear.
func (a *API) clearNotifications(c echo.Context) error {
	if err := a.db.DeleteNotifications(c.Request().Context(), viewer(c).ID, 0); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct{}{})
}

// dismissNotification is POST /api/v1/notifications/:id/dismiss.
func (a *API) dismissNotification(c echo.Context) error {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	if err := a.db.DeleteNotifications(c.Request().Context(), viewer(c).ID, n); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct{}{})
}
