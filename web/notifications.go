package web

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

const homeNotifications = 10

// notifications are the member's latest notifications, worded.
func (w *Web) notifications(c echo.Context, me *storage.Actor) ([]Notification, error) {
	list, err := w.db.ListNotifications(c.Request().Context(), storage.NotificationFilter{
		RecipientActorID: me.ID, Page: storage.Page{Limit: homeNotifications},
	})
	if err != nil {
		return nil, err
	}
	var out []Notification
	for _, n := range list {
		who := "Someone"
		path := ""
		if n.FromActor != nil {
			who = "@" + n.FromActor.Handle()
			path = w.actorPath(n.FromActor)
		}
		if n.ObjectID > 0 {
			path = "/posts/" + strconv.FormatInt(n.ObjectID, 10)
		}
		var text string
		switch n.Type {
		case "mention":
			text = who + " mentioned you or answered you"
		case "favourite":
			text = who + " liked your post"
		case "follow":
			text = who + " followed you"
		case "follow_request":
			text = who + " asked to join"
		case storage.NotifyReport:
			text = who + " filed a report for you to review"
			path = "/admin/reports"
			if n.ReportID != nil {
				if r, err := w.db.GetReport(c.Request().Context(), *n.ReportID); err == nil && r.CommunityActor != nil && r.CommunityActor.Local {
					path = "/c/" + r.CommunityActor.Username + "/moderation"
				}
			}
		case storage.NotifyHeldPost:
			text = "A post in " + who + " waits for a moderator"
			if n.FromActor != nil {
				path = w.actorPath(n.FromActor) + "/moderation"
			}
		case storage.NotifyReportResolved:
			text = "Your report was handled by " + who
		default:
			text = who + ": " + n.Type
		}
		out = append(out, Notification{Text: text, Path: path, At: n.CreatedAt.UTC().Format("2 Jan 2006, 15:04 UTC")})
	}
	return out, nil
}
