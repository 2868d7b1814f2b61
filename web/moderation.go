package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/storage"
)

// The moderators' pages: a community's queue (requests to join, reports,
// bans, the posting rule) at /c/NAME/moderation, the actions on a post in
// place on its thread page, and the public modlog at /c/NAME/modlog. Every
// action goes through the service, which checks again that the viewer
// moderates the community and federates what it does.

const (
	maxQueueShown  = 100
	maxReportPosts = 5
	modlogPage     = 50
)

// ModerationPage is a community's queue for its moderators.
type ModerationPage struct {
	Page
	Community  Community
	Requests   []JoinRequest
	Reports    []ReportView
	Bans       []BanView
	Restricted bool
	Notice     string
	Error      string
	// Held are posts waiting for a moderator's approval (pre-moderation),
	// and Rules the community's pre-moderation and hourly limits.
	Held  []HeldView
	Rules storage.PostingRules
	// Settings fill the community's settings form.
	Settings CommunityForm
	// Moderators are its owners and moderators; Owner says the viewer
	// owns it, and so appoints them.
	Moderators []ModeratorView
	Owner      bool
	// Members are the first members, each with a link that fills the
	// ban form; MoreMembers says there are more.
	Members     []BanLink
	MoreMembers bool
	// Member pre-fills the ban form (from a thread's "ban the author").
	Member string
}

// BanLink is a member with the link that fills the ban form with them.
type BanLink struct {
	Person
	Ban string
}

// ModeratorView is an owner or moderator on the queue page.
type ModeratorView struct {
	Person
	Ref   string
	Owner bool
}

// CommunityForm is a community's settings as its form shows them.
type CommunityForm struct {
	Title, Summary, Tags string
	Closed, MembersOnly  bool
	// Icon and Header are the addresses of its images, if it has them.
	Icon, Header string
}

// HeldView is a post held for a moderator: who wrote it, why it waits.
type HeldView struct {
	ID      int64
	Author  Person
	Title   string
	Content template.HTML
	Reply   bool
	// Why is the reason it was held, in words.
	Why     string
	Created time.Time
}

var heldReasons = map[string]string{
	storage.HoldNewMember:   "first post of a member",
	storage.HoldNewInstance: "first post from their server",
}

// JoinRequest is a request to join a closed community.
type JoinRequest struct {
	Person
	// Ref names the requester to the form: their actor id.
	Ref   string
	Since time.Time
}

// ReportView is an open report in a moderator's queue.
type ReportView struct {
	ID                 int64
	Reporter, Target   *Person
	Comment, Category  string
	Posts              []ReportedPost
	More               int
	Created            time.Time
	Remote, Forwarded  bool
	Community, Handled string
}

// ReportedPost is a post a report names: its page here when stored.
type ReportedPost struct {
	Path, URI, Excerpt string
}

// BanView is a ban in force.
type BanView struct {
	Person
	Ref     string
	Reason  string
	Until   *time.Time
	Created time.Time
}

// moderatedCommunity reads :name and checks that the viewer moderates it;
// anyone else is told there is no such page.
func (w *Web) moderatedCommunity(c echo.Context) (*storage.Community, *storage.Actor, error) {
	com, err := w.communityOf(c)
	if err != nil {
		return nil, nil, err
	}
	me, err := w.viewerActor(c)
	if err != nil {
		return nil, nil, err
	}
	if ok, err := w.moderates(c.Request().Context(), me, com.ActorID); err != nil {
		return nil, nil, err
	} else if !ok {
		return nil, nil, echo.NewHTTPError(http.StatusNotFound, "no such page")
	}
	return com, me, nil
}

// moderates reports whether viewer (nil: a visitor) moderates the community.
func (w *Web) moderates(ctx context.Context, viewer *storage.Actor, communityActorID int64) (bool, error) {
	if viewer == nil {
		return false, nil
	}
	return w.db.IsModerator(ctx, communityActorID, viewer.ID)
}

// moderation is GET /c/:name/moderation.
func (w *Web) moderation(c echo.Context) error {
	com, _, err := w.moderatedCommunity(c)
	if err != nil {
		return err
	}
	return w.renderModeration(c, com, http.StatusOK, "")
}

func (w *Web) renderModeration(c echo.Context, com *storage.Community, status int, errMsg string) error {
	ctx := c.Request().Context()
	members, err := w.db.CountMembers(ctx, com.ActorID, storage.StateAccepted)
	if err != nil {
		return err
	}
	page := ModerationPage{
		Page: w.page(c, "Moderation of "+com.Title), Community: w.communityView(com, members),
		Restricted: com.Actor.PostingRestrictedToMods, Error: errMsg, Notice: moderationNotices[c.QueryParam("done")],
		Member: c.QueryParam("member"),
	}
	pending, err := w.db.PendingMembers(ctx, com.ActorID, maxQueueShown)
	if err != nil {
		return err
	}
	for _, m := range pending {
		if m.MemberActor == nil {
			continue
		}
		page.Requests = append(page.Requests, JoinRequest{Person: w.person(m.MemberActor), Ref: m.MemberActor.URI, Since: m.CreatedAt})
	}
	page.Rules = com.PostingRules
	if err := w.fillModerators(c, com, &page); err != nil {
		return err
	}
	list, err := w.db.MemberPage(ctx, com.ActorID, storage.StateAccepted, 0, maxQueueShown+1)
	if err != nil {
		return err
	}
	if len(list) > maxQueueShown {
		list, page.MoreMembers = list[:maxQueueShown], true
	}
	for _, m := range list {
		if m.MemberActor == nil {
			continue
		}
		page.Members = append(page.Members, BanLink{Person: w.person(m.MemberActor),
			Ban: "/c/" + com.Actor.Username + "/moderation?member=" + url.QueryEscape(m.MemberActor.Handle()) + "#ban"})
	}
	page.Settings = CommunityForm{Title: com.Title, Summary: com.Summary, Tags: strings.Join(com.TagNames(), ", "),
		Closed: com.Closed, MembersOnly: com.Visibility == storage.VisibilityMembers}
	page.Settings.Icon, page.Settings.Header = w.iconURL(com.Actor.AvatarKey), w.iconURL(com.Actor.HeaderKey)
	held, err := w.db.HeldPosts(ctx, com.ActorID, storage.HeldWaiting, 0, maxQueueShown)
	if err != nil {
		return err
	}
	for _, h := range held {
		v := HeldView{ID: h.ID, Title: h.Name, Reply: h.InReplyToURI != "", Why: cmp.Or(heldReasons[h.Reason], h.Reason), Created: h.CreatedAt,
			// Held content was sanitised when it was held; again here, as
			// for stored posts.
			Content: template.HTML(sanitize.HTML(h.Content))}
		if h.AuthorActor != nil {
			v.Author = w.person(h.AuthorActor)
		}
		page.Held = append(page.Held, v)
	}
	reports, err := w.db.Reports(ctx, storage.ReportFilter{CommunityActorIDs: []int64{com.ActorID}, State: storage.ReportOpen, Limit: maxQueueShown})
	if err != nil {
		return err
	}
	for i := range reports {
		v, err := w.reportView(ctx, &reports[i])
		if err != nil {
			return err
		}
		page.Reports = append(page.Reports, v)
	}
	bans, err := w.db.Bans(ctx, com.ActorID, maxQueueShown)
	if err != nil {
		return err
	}
	for _, b := range bans {
		if b.Actor == nil {
			continue
		}
		page.Bans = append(page.Bans, BanView{Person: w.person(b.Actor), Ref: b.Actor.URI, Reason: b.Reason, Until: b.ExpiresAt, Created: b.CreatedAt})
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return w.render(c, status, "moderation", page)
}

var moderationNotices = map[string]string{
	"approved":      "Approved: they are a member now.",
	"rejected":      "Request refused.",
	"resolved":      "Report resolved; the reporter is told.",
	"dismissed":     "Report dismissed; the reporter is told.",
	"banned":        "Banned. Their server and every member's are told.",
	"unbanned":      "Ban lifted.",
	"restricted":    "Only moderators can start threads now.",
	"approved_post": "Post approved: it is in the community now.",
	"rejected_post": "Post rejected.",
	"rules":         "Posting rules saved.",
	"settings":      "Settings saved; the members' servers are told.",
	"images":        "Icon and header saved; the members' servers are told.",
	"appointed":     "Appointed: they moderate this community now.",
	"dismissed_mod": "They no longer moderate this community.",
	"open":          "Every member can start threads again.",
}

// reportView shows a report with links to the posts it names.
func (w *Web) reportView(ctx context.Context, r *storage.Report) (ReportView, error) {
	v := ReportView{ID: r.ID, Comment: r.Comment, Category: r.Category, Created: r.CreatedAt, Remote: !r.Local, Forwarded: r.Forwarded}
	if r.ReporterActor != nil {
		p := w.person(r.ReporterActor)
		v.Reporter = &p
	}
	if r.TargetActor != nil {
		p := w.person(r.TargetActor)
		v.Target = &p
	}
	objs := r.Objects()
	if len(objs) > maxReportPosts {
		v.More = len(objs) - maxReportPosts
		objs = objs[:maxReportPosts]
	}
	for _, uri := range objs {
		rp := ReportedPost{URI: uri}
		o, err := w.db.GetObjectByURI(ctx, uri)
		switch {
		case err == nil:
			rp.Path = w.postPath(o)
			rp.Excerpt = cmp.Or(o.Name, sanitize.PlainText(federation.StripKindLead(o.Content, o.Kind, o.Name), 140))
		case !errors.Is(err, storage.ErrNotFound):
			return v, err
		}
		v.Posts = append(v.Posts, rp)
	}
	return v, nil
}

// modBack sends the moderator back to the queue with a notice.
func modBack(c echo.Context, com *storage.Community, done string) error {
	return c.Redirect(http.StatusSeeOther, "/c/"+com.Actor.Username+"/moderation?done="+done)
}

// modFailed shows the queue again with what went wrong, for mistakes the
// moderator can fix (a bad handle, a reason too long).
func (w *Web) modFailed(c echo.Context, com *storage.Community, err error) error {
	if errors.Is(err, federation.ErrInvalid) || errors.Is(err, federation.ErrForbidden) || errors.Is(err, storage.ErrNotFound) {
		return w.renderModeration(c, com, http.StatusUnprocessableEntity, reason(err))
	}
	return err
}

// decideRequest is POST /c/:name/moderation/requests.
func (w *Web) decideRequest(c echo.Context) error {
	com, _, err := w.moderatedCommunity(c)
	if err != nil {
		return err
	}
	approve := c.FormValue("decision") == "approve"
	if _, err := w.svc.Decide(c.Request().Context(), com.Actor.Username, c.FormValue("member"), approve); err != nil {
		return w.modFailed(c, com, err)
	}
	if approve {
		return modBack(c, com, "approved")
	}
	return modBack(c, com, "rejected")
}

// fillModerators lists the owners and moderators and whether the viewer
// owns the community.
func (w *Web) fillModerators(c echo.Context, com *storage.Community, page *ModerationPage) error {
	ctx := c.Request().Context()
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	mods, err := w.db.Moderators(ctx, com.ActorID)
	if err != nil {
		return err
	}
	for i := range mods {
		v := ModeratorView{Person: w.person(&mods[i]), Ref: mods[i].URI}
		if m, err := w.db.GetMembership(ctx, com.ActorID, mods[i].ID); err == nil && m.Role == storage.RoleOwner {
			v.Owner = true
			if me != nil && me.ID == mods[i].ID {
				page.Owner = true
			}
		}
		page.Moderators = append(page.Moderators, v)
	}
	return nil
}

// appoint is POST /c/:name/moderation/moderators: member and, to remove
// them, remove=1; for owners (the service checks).
func (w *Web) appoint(c echo.Context) error {
	com, me, err := w.moderatedCommunity(c)
	if err != nil {
		return err
	}
	member := strings.TrimPrefix(strings.TrimSpace(c.FormValue("member")), "@")
	if member == "" {
		return w.renderModeration(c, com, http.StatusUnprocessableEntity, "Say whom to appoint: their address, like name@their.server.")
	}
	on := c.FormValue("remove") != "1"
	if err := w.svc.SetModerator(c.Request().Context(), me, com.Actor.URI, member, on); err != nil {
		return w.modFailed(c, com, err)
	}
	if on {
		return modBack(c, com, "appointed")
	}
	return modBack(c, com, "dismissed_mod")
}

// decideHeld is POST /c/:name/moderation/held/:id: decision approve or
// reject, with a reason for the modlog.
func (w *Web) decideHeld(c echo.Context) error {
	com, me, err := w.moderatedCommunity(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "no such post")
	}
	h, err := w.db.GetHeldPost(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if h.CommunityActorID != com.ActorID {
		return echo.NewHTTPError(http.StatusNotFound, "no such post")
	}
	approve := c.FormValue("decision") == "approve"
	if err := w.svc.DecideHeldPost(c.Request().Context(), me, id, approve, modReason(c)); err != nil {
		return w.modFailed(c, com, err)
	}
	if approve {
		return modBack(c, com, "approved_post")
	}
	return modBack(c, com, "rejected_post")
}

// postingRules is POST /c/:name/moderation/rules: hold_members,
// hold_instances, member_per_hour, instance_per_hour.
func (w *Web) postingRules(c echo.Context) error {
	com, me, err := w.moderatedCommunity(c)
	if err != nil {
		return err
	}
	perHour := func(field string) int {
		n, _ := strconv.Atoi(strings.TrimSpace(c.FormValue(field)))
		return n
	}
	r := storage.PostingRules{HoldNewMembers: c.FormValue("hold_members") == "1", HoldNewInstances: c.FormValue("hold_instances") == "1",
		MemberPostsPerHour: perHour("member_per_hour"), InstancePostsPerHour: perHour("instance_per_hour")}
	if err := w.svc.SetPostingRules(c.Request().Context(), me, com.Actor.URI, r); err != nil {
		return w.modFailed(c, com, err)
	}
	return modBack(c, com, "rules")
}

// communitySettings is POST /c/:name/moderation/settings: title,
// summary, tags (separated by commas), closed.
func (w *Web) communitySettings(c echo.Context) error {
	com, me, err := w.moderatedCommunity(c)
	if err != nil {
		return err
	}
	in := federation.CommunitySettings{Title: c.FormValue("title"), Summary: c.FormValue("summary"), Closed: c.FormValue("closed") == "1"}
	for _, t := range strings.Split(c.FormValue("tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			in.Tags = append(in.Tags, t)
		}
	}
	if _, err := w.svc.UpdateCommunity(c.Request().Context(), me, com.Actor.URI, in); err != nil {
		return w.modFailed(c, com, err)
	}
	return modBack(c, com, "settings")
}

// communityImages is POST /c/:name/moderation/images, a multipart form:
// an icon and a header, each a file or remove_icon/remove_header. The
// service processes them as uploads and tells the members' servers, as
// "commonplace community image" does.
func (w *Web) communityImages(c echo.Context) error {
	com, _, err := w.moderatedCommunity(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	actor, did := com.Actor, false
	for _, x := range []struct{ field, purpose string }{{"icon", storage.MediaAvatar}, {"header", storage.MediaHeader}} {
		var up *federation.Upload
		fh, err := c.FormFile(x.field)
		switch {
		case err == nil && fh.Size > 0:
			f, err := fh.Open()
			if err != nil {
				return fmt.Errorf("open uploaded %s: %w", x.field, err)
			}
			defer f.Close()
			up = &federation.Upload{Name: fh.Filename, File: f, Size: fh.Size}
		case err != nil && !errors.Is(err, http.ErrMissingFile) && !errors.Is(err, http.ErrNotMultipart):
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return w.renderModeration(c, com, http.StatusRequestEntityTooLarge, "The files are too large.")
			}
			return fmt.Errorf("read uploaded %s: %w", x.field, err)
		case c.FormValue("remove_"+x.field) != "1":
			continue
		}
		if actor, err = w.svc.SetActorImage(ctx, actor, x.purpose, up); err != nil {
			if errors.Is(err, federation.ErrNoMediaStore) {
				return w.renderModeration(c, com, http.StatusServiceUnavailable, "This server stores no media: ask its administrator.")
			}
			return w.modFailed(c, com, err)
		}
		did = true
	}
	if !did {
		return w.renderModeration(c, com, http.StatusUnprocessableEntity, "Choose an image, or tick remove.")
	}
	return modBack(c, com, "images")
}

// imagesRoute is the images form's route, whose body may hold two images.
const imagesRoute = "/c/:name/moderation/images"

// BodyLimits are the routes ("METHOD /path") whose bodies may be larger
// than server's default: the images form, bounded by the media limits.
func (w *Web) BodyLimits() map[string]int64 {
	return map[string]int64{http.MethodPost + " " + imagesRoute: 2*w.svc.MediaLimitsInForce().MaxImageBytes + 64<<10}
}

// closeReport is POST /c/:name/moderation/reports/:id.
func (w *Web) closeReport(c echo.Context) error {
	com, me, err := w.moderatedCommunity(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "no such report")
	}
	// The report must be this community's: the service would let an
	// admin close any, but this page is the community's.
	r, err := w.db.GetReport(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if r.CommunityActorID == nil || *r.CommunityActorID != com.ActorID {
		return echo.NewHTTPError(http.StatusNotFound, "no such report")
	}
	dismiss := c.FormValue("decision") == "dismiss"
	if _, err := w.svc.CloseReport(c.Request().Context(), me, id, dismiss, c.FormValue("note")); err != nil {
		return w.modFailed(c, com, err)
	}
	if dismiss {
		return modBack(c, com, "dismissed")
	}
	return modBack(c, com, "resolved")
}

// modReason reads a form's reason and whether it stays private.
func modReason(c echo.Context) federation.Reason {
	return federation.Reason{Text: strings.TrimSpace(c.FormValue("reason")), Private: c.FormValue("private") == "1"}
}

// ban is POST /c/:name/moderation/bans: member (a handle or actor id),
// reason, private, days (none: for good), remove_posts.
func (w *Web) ban(c echo.Context) error {
	com, me, err := w.moderatedCommunity(c)
	if err != nil {
		return err
	}
	member := strings.TrimPrefix(strings.TrimSpace(c.FormValue("member")), "@")
	if member == "" {
		return w.renderModeration(c, com, http.StatusUnprocessableEntity, "Say whom to ban: their address, like name@their.server.")
	}
	b := federation.Ban{Reason: modReason(c), RemovePosts: c.FormValue("remove_posts") == "1"}
	if days, _ := strconv.Atoi(c.FormValue("days")); days > 0 {
		b.Until = w.now().Add(time.Duration(min(days, 3650)) * 24 * time.Hour)
	}
	if err := w.svc.BanMember(c.Request().Context(), me, com.Actor.URI, member, b); err != nil {
		return w.modFailed(c, com, err)
	}
	return modBack(c, com, "banned")
}

// unban is POST /c/:name/moderation/unban.
func (w *Web) unban(c echo.Context) error {
	com, me, err := w.moderatedCommunity(c)
	if err != nil {
		return err
	}
	if err := w.svc.UnbanMember(c.Request().Context(), me, com.Actor.URI, c.FormValue("member"), modReason(c)); err != nil {
		return w.modFailed(c, com, err)
	}
	return modBack(c, com, "unbanned")
}

// restrictPosting is POST /c/:name/moderation/posting.
func (w *Web) restrictPosting(c echo.Context) error {
	com, me, err := w.moderatedCommunity(c)
	if err != nil {
		return err
	}
	on := c.FormValue("restricted") == "1"
	if err := w.svc.RestrictPosting(c.Request().Context(), me, com.Actor.URI, on); err != nil {
		return w.modFailed(c, com, err)
	}
	if on {
		return modBack(c, com, "restricted")
	}
	return modBack(c, com, "open")
}

// PostModeration is what a moderator of a post's community can do on the
// post's page.
type PostModeration struct {
	Locked bool
	// Queue is the community's moderation page; BanAuthor pre-fills its
	// ban form with the author.
	Queue, BanAuthor string
	// TopLevel: only a thread's first post can be locked.
	TopLevel bool
}

// postModeration is the moderator's part of a thread page, nil for anyone
// who does not moderate the post's community.
func (w *Web) postModeration(ctx context.Context, o *storage.Object, viewer *storage.Actor) (*PostModeration, error) {
	if o.CommunityActorID == nil || o.CommunityActor == nil || !o.CommunityActor.Local {
		return nil, nil
	}
	if ok, err := w.moderates(ctx, viewer, *o.CommunityActorID); err != nil || !ok {
		return nil, err
	}
	queue := w.actorPath(o.CommunityActor) + "/moderation"
	m := &PostModeration{Locked: o.LockedAt != nil, Queue: queue, TopLevel: o.InReplyToID == nil}
	if a := o.AuthorActor; a != nil && a.ID != viewer.ID {
		m.BanAuthor = queue + "?member=" + url.QueryEscape(a.Handle()) + "#ban"
	}
	return m, nil
}

// moderatePost is POST /posts/:id/moderate: action remove, lock or unlock,
// with a reason.
func (w *Web) moderatePost(c echo.Context) error {
	o, err := w.objectOf(c)
	if err != nil {
		return err
	}
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	r := modReason(c)
	switch c.FormValue("action") {
	case "remove":
		err = w.svc.RemovePost(ctx, me, o.URI, r)
	case "lock", "unlock":
		err = w.svc.LockPost(ctx, me, o.URI, c.FormValue("action") == "lock", r)
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "Choose remove, lock or unlock.")
	}
	if errors.Is(err, federation.ErrInvalid) {
		return w.renderThread(c, o, http.StatusUnprocessableEntity, reason(err), "")
	} else if err != nil {
		return err
	}
	if c.FormValue("action") != "remove" {
		return c.Redirect(http.StatusSeeOther, w.postPath(o))
	}
	back := "/"
	if o.InReplyToID != nil {
		back = "/posts/" + strconv.FormatInt(*o.InReplyToID, 10)
	} else if o.CommunityActor != nil {
		back = w.actorPath(o.CommunityActor)
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// ModlogPage is a community's public modlog.
type ModlogPage struct {
	Page
	Community Community
	Entries   []ModlogEntry
	Next      string
}

// ModlogEntry is one action as the public sees it: a private reason is
// left out, and says so.
type ModlogEntry struct {
	At                time.Time
	Action            string
	Moderator, Target *Person
	PostPath, PostURI string
	Reason            string
	ReasonPrivate     bool
	Until             *time.Time
}

var modlogActions = map[string]string{
	storage.ModRemovePost:       "removed a post",
	storage.ModLock:             "locked a thread",
	storage.ModUnlock:           "reopened a thread",
	storage.ModBan:              "banned",
	storage.ModUnban:            "lifted the ban of",
	storage.ModAddModerator:     "made a moderator:",
	storage.ModRemoveModerator:  "removed as moderator:",
	storage.ModRestrictPosting:  "let only moderators start threads",
	storage.ModOpenPosting:      "let every member start threads",
	storage.ModApprovePost:      "approved a held post by",
	storage.ModRejectPost:       "rejected a held post by",
	storage.ModPostingRules:     "changed the posting rules",
	federation.ModEditCommunity: "changed the community's title, statement, tags or joining",
}

// modlog is GET /c/:name/modlog: every moderation action of a local
// community, newest first, for anyone who may read the community. Private
// reasons are never on this page, not even for moderators: it is the
// public record (the moderators' own view is the client API's).
func (w *Web) modlog(c echo.Context) error {
	com, err := w.communityOf(c)
	if err != nil {
		return err
	}
	if com.Visibility != storage.VisibilityPublic {
		return echo.NewHTTPError(http.StatusNotFound, "no such page")
	}
	ctx := c.Request().Context()
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	log, err := w.db.ModLog(ctx, com.ActorID, before, modlogPage+1)
	if err != nil {
		return err
	}
	members, err := w.db.CountMembers(ctx, com.ActorID, storage.StateAccepted)
	if err != nil {
		return err
	}
	page := ModlogPage{Page: w.page(c, "Moderation log of "+com.Title), Community: w.communityView(com, members)}
	if len(log) > modlogPage {
		log = log[:modlogPage]
		page.Next = "/c/" + com.Actor.Username + "/modlog?before=" + strconv.FormatInt(log[len(log)-1].ID, 10)
	}
	for _, m := range log {
		// Reports are private to moderators and the reporter, and so is
		// what became of them.
		if m.Action == storage.ModResolveReport || m.Action == storage.ModDismissReport {
			continue
		}
		e := ModlogEntry{At: m.CreatedAt, Action: modlogActions[m.Action], Until: m.ExpiresAt, PostURI: m.ObjectURI}
		if e.Action == "" {
			e.Action = m.Action
		}
		if m.ModeratorActor != nil {
			p := w.person(m.ModeratorActor)
			e.Moderator = &p
		}
		if m.TargetActor != nil {
			p := w.person(m.TargetActor)
			e.Target = &p
		}
		if m.ReasonPrivate {
			e.ReasonPrivate = true
		} else {
			e.Reason = m.Reason
		}
		// A post still in its community is linked; a removed one is not.
		if e.PostURI != "" {
			if o, err := w.db.GetObjectByURI(ctx, e.PostURI); err == nil && o.DeletedAt == nil && o.RemovedAt == nil {
				e.PostPath = w.postPath(o)
			}
		}
		page.Entries = append(page.Entries, e)
	}
	return w.render(c, http.StatusOK, "modlog", page)
}

// mountModeration adds the moderators' routes.
func (w *Web) mountModeration(get, post func(access, string, echo.HandlerFunc, ...echo.MiddlewareFunc), form echo.MiddlewareFunc) {
	get(members, "/c/:name/modlog", w.modlog, form)
	get(members, "/c/:name/moderation", w.moderation, form, w.signedIn)
	get(members, "/c/:name/export.json", w.exportCommunity, form, w.signedIn)
	post(members, "/c/:name/moderation/requests", w.decideRequest, form, w.signedIn)
	post(members, "/c/:name/moderation/reports/:id", w.closeReport, form, w.signedIn)
	post(members, "/c/:name/moderation/bans", w.ban, form, w.signedIn)
	post(members, "/c/:name/moderation/unban", w.unban, form, w.signedIn)
	post(members, "/c/:name/moderation/posting", w.restrictPosting, form, w.signedIn)
	post(members, "/c/:name/moderation/held/:id", w.decideHeld, form, w.signedIn)
	post(members, "/c/:name/moderation/rules", w.postingRules, form, w.signedIn)
	post(members, "/c/:name/moderation/settings", w.communitySettings, form, w.signedIn)
	post(members, imagesRoute, w.communityImages, form, w.signedIn)
	post(members, "/c/:name/moderation/moderators", w.appoint, form, w.signedIn)
	post(members, "/posts/:id/moderate", w.moderatePost, form, w.signedIn)
}
