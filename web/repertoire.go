package web

import (
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// The curated repertoire (issue 15, item 3): a community's kept posts in
// sections, on their own page, and the forms curators change it with.

// RepertoirePage is a community's repertoire.
type RepertoirePage struct {
	Page
	Community Community
	Sections  []RepertoireSection
	// CanCurate: the viewer may reorder and remove items.
	CanCurate bool
}

// RepertoireSection is one titled part of a repertoire.
type RepertoireSection struct {
	Title   string
	Entries []RepertoireEntry
}

// RepertoireEntry is a post of the repertoire and, for curators, the
// changes they may make to its place.
type RepertoireEntry struct {
	Post Post
	Ops  []CurateOp
}

// CurateOp is one button of a curator's: the form's op and its label.
type CurateOp struct{ Value, Label string }

// CurateForm is what a post's page offers a curator.
type CurateForm struct {
	// In: the post is in the repertoire, under Section.
	In       bool
	Section  string
	Sections []string
	// Moderator may make the post the introductions thread (Intro: it
	// is).
	Moderator, Intro bool
}

// repertoire is GET /c/:name/repertoire.
func (w *Web) repertoire(c echo.Context) error {
	com, err := w.communityOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	members, err := w.db.CountMembers(ctx, com.ActorID, storage.StateAccepted)
	if err != nil {
		return err
	}
	page := RepertoirePage{Page: w.page(c, "Repertoire of "+com.Title), Community: w.communityView(com, members)}
	viewer, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	page.CanCurate = viewer != nil && w.svc.MayCurate(ctx, viewer, com.Actor)
	if com.Visibility != storage.VisibilityPublic {
		return w.render(c, http.StatusOK, "repertoire", page)
	}
	items, err := w.db.ListRepertoireFor(ctx, com.ActorID, viewer, federation.MaxRepertoire)
	if err != nil {
		return err
	}
	objs := make([]storage.Object, len(items))
	for i := range items {
		objs[i] = *items[i].Object
	}
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
	if page.CanCurate {
		for si := range page.Sections {
			es := page.Sections[si].Entries
			for i := range es {
				var ops []CurateOp
				if i > 0 {
					ops = append(ops, CurateOp{"up", "Move up"})
				}
				if i < len(es)-1 {
					ops = append(ops, CurateOp{"down", "Move down"})
				}
				if i == 0 && si > 0 {
					ops = append(ops, CurateOp{"section_up", "Move this section up"})
				}
				if i == 0 && si < len(page.Sections)-1 {
					ops = append(ops, CurateOp{"section_down", "Move this section down"})
				}
				es[i].Ops = append(ops, CurateOp{"remove", "Remove from the repertoire"})
			}
		}
	}
	return w.render(c, http.StatusOK, "repertoire", page)
}

// curateForm fills what a post's page offers a curator of its community.
func (w *Web) curateForm(c echo.Context, o *storage.Object, viewer *storage.Actor) (*CurateForm, error) {
	g := o.CommunityActor
	if viewer == nil || g == nil || !g.Local || o.InReplyToURI != "" || !w.svc.MayCurate(c.Request().Context(), viewer, g) {
		return nil, nil
	}
	items, err := w.db.ListRepertoire(c.Request().Context(), g.ID, federation.MaxRepertoire)
	if err != nil {
		return nil, err
	}
	f := &CurateForm{}
	if ok, err := w.db.IsModerator(c.Request().Context(), g.ID, viewer.ID); err != nil {
		return nil, err
	} else if ok {
		f.Moderator = true
		intro, err := w.db.Introductions(c.Request().Context(), g.ID)
		if err != nil {
			return nil, err
		}
		f.Intro = intro != nil && intro.ID == o.ID
	}
	for _, it := range items {
		if !slices.Contains(f.Sections, it.Section) && it.Section != "" {
			f.Sections = append(f.Sections, it.Section)
		}
		if it.ObjectID == o.ID {
			f.In, f.Section = true, it.Section
		}
	}
	return f, nil
}

// curate is POST /posts/:id/repertoire: a curator adds the post to its
// community's repertoire under a section, removes it, or moves it (op
// add, remove, up, down, section_up, section_down).
func (w *Web) curate(c echo.Context) error {
	o, err := w.objectOf(c)
	if err != nil {
		return err
	}
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	switch c.FormValue("op") {
	case "introductions", "not_introductions":
		err = w.svc.SetIntroductions(ctx, me, o.URI, c.FormValue("op") == "introductions")
	case "add":
		err = w.svc.Curate(ctx, me, o.URI, federation.RepertoireChange{Section: c.FormValue("section")})
	case "remove":
		err = w.svc.Curate(ctx, me, o.URI, federation.RepertoireChange{Remove: true})
	case "up":
		err = w.svc.MoveInRepertoire(ctx, me, o.URI, -1, false)
	case "down":
		err = w.svc.MoveInRepertoire(ctx, me, o.URI, 1, false)
	case "section_up":
		err = w.svc.MoveInRepertoire(ctx, me, o.URI, -1, true)
	case "section_down":
		err = w.svc.MoveInRepertoire(ctx, me, o.URI, 1, true)
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "no such change to the repertoire")
	}
	if errors.Is(err, federation.ErrInvalid) {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, reason(err))
	} else if err != nil {
		return err
	}
	back := localPath(c.FormValue("return_to"))
	if back == "" {
		back = w.postPath(o)
	}
	return c.Redirect(http.StatusSeeOther, back)
}
