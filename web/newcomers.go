package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// The newcomer's view of a community (issue 15, item 5): its welcome, its
// repertoire first, then the questions nobody has answered, then what is
// being talked about, and the people who answer there.

// NewcomerPage is /c/NAME/start.
type NewcomerPage struct {
	Page
	Community Community
	// Welcome is the moderators' message, as paragraphs; Joined: the
	// viewer has just joined.
	Welcome  []string
	Joined   bool
	Sections []RepertoireSection
	// Introductions is the thread where newcomers introduce themselves.
	Introductions *Post
	Questions     []Post
	Active        []Post
	Answerers     []Answerer
	// CanModerate shows the welcome form, with its text in WelcomeText.
	CanModerate bool
	WelcomeText string
	// Listed: the viewer is listed among the people who answer (when
	// they do); Member: the viewer is a member.
	Listed, Member bool
	Error          string
}

// Answerer is one of the people who answer in a community.
type Answerer struct {
	Person
	Accepted, Replies int64
}

const (
	newcomerQuestions = 5
	newcomerActive    = 10
	newcomerAnswerers = 5
)

// start is GET /c/:name/start.
func (w *Web) start(c echo.Context) error {
	return w.renderStart(c, http.StatusOK, "")
}

func (w *Web) renderStart(c echo.Context, status int, errMsg string) error {
	com, err := w.communityOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	members, err := w.db.CountMembers(ctx, com.ActorID, storage.StateAccepted)
	if err != nil {
		return err
	}
	page := NewcomerPage{Page: w.page(c, "Start here: "+com.Title), Community: w.communityView(com, members),
		Joined: c.QueryParam("joined") == "1", Error: errMsg}
	welcome, err := w.db.Welcome(ctx, com.ActorID)
	if err != nil {
		return err
	}
	page.Welcome, page.WelcomeText = paragraphs(welcome), welcome
	viewer, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	if viewer != nil {
		ok, err := w.db.IsModerator(ctx, com.ActorID, viewer.ID)
		if err != nil {
			return err
		}
		page.CanModerate = ok
		out, err := w.db.IsAnswererOptedOut(ctx, viewer.ID)
		if err != nil {
			return err
		}
		page.Listed = !out
		if m, err := w.db.GetMembership(ctx, com.ActorID, viewer.ID); err == nil {
			page.Member = m.State == storage.StateAccepted
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
	}
	if com.Visibility != storage.VisibilityPublic {
		if !page.Member {
			// How many are in a members-only community is its members'.
			page.Community.Members, page.Community.MembersHidden = 0, true
		}
		return w.render(c, status, "start", page)
	}
	if intro, err := w.db.Introductions(ctx, com.ActorID); err != nil {
		return err
	} else if intro != nil {
		if ok, err := w.db.CanSee(ctx, viewer, intro); err != nil {
			return err
		} else if ok {
			vs, err := w.postViews(ctx, []storage.Object{*intro}, viewer)
			if err != nil {
				return err
			}
			page.Introductions = &vs[0]
		}
	}
	items, err := w.db.ListRepertoireFor(ctx, com.ActorID, viewer, federation.MaxRepertoire)
	if err != nil {
		return err
	}
	questions, err := w.db.ListQuestions(ctx, storage.QuestionFilter{CommunityActorID: com.ActorID, Unanswered: true, HideLimited: true, Limit: newcomerQuestions})
	if err != nil {
		return err
	}
	active, err := w.db.ListActiveTopLevel(ctx, com.ActorID, true, false, 0, newcomerActive)
	if err != nil {
		return err
	}
	objs := make([]storage.Object, 0, len(items)+len(questions)+len(active))
	for i := range items {
		objs = append(objs, *items[i].Object)
	}
	objs = append(append(objs, questions...), active...)
	views, err := w.postViews(ctx, objs, viewer)
	if err != nil {
		return err
	}
	for i, it := range items {
		if n := len(page.Sections); n == 0 || page.Sections[n-1].Title != it.Section {
			page.Sections = append(page.Sections, RepertoireSection{Title: it.Section})
		}
		s := &page.Sections[len(page.Sections)-1]
		s.Entries = append(s.Entries, RepertoireEntry{Post: views[i]})
	}
	page.Questions = views[len(items) : len(items)+len(questions)]
	page.Active = views[len(items)+len(questions):]
	helpers, err := w.db.TopAnswerers(ctx, com.ActorID, newcomerAnswerers)
	if err != nil {
		return err
	}
	for i := range helpers {
		page.Answerers = append(page.Answerers, Answerer{Person: w.person(&helpers[i].Actor), Accepted: helpers[i].Accepted, Replies: helpers[i].Replies})
	}
	return w.render(c, status, "start", page)
}

// setWelcome is POST /c/:name/welcome, by a moderator.
func (w *Web) setWelcome(c echo.Context) error {
	com, err := w.communityOf(c)
	if err != nil {
		return err
	}
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	err = w.svc.SetWelcome(c.Request().Context(), me, com.Actor.URI, c.FormValue("welcome"))
	if errors.Is(err, federation.ErrInvalid) {
		return w.renderStart(c, http.StatusUnprocessableEntity, reason(err))
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/c/"+com.Actor.Username+"/start")
}

// listAsAnswerer is POST /c/:name/answerers: the viewer chooses whether
// they are listed among the people who answer (listed=1 or 0).
func (w *Web) listAsAnswerer(c echo.Context) error {
	com, err := w.communityOf(c)
	if err != nil {
		return err
	}
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	if err := w.svc.ListAsAnswerer(c.Request().Context(), me, c.FormValue("listed") == "1"); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/c/"+com.Actor.Username+"/start#answerers")
}
