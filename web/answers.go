package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// Questions and their accepted answers (issue 15, item 2): the answer
// first on a question's page, "answered" wherever the question is
// listed, and each community's unanswered questions.

// answerOf fills a question's page: its accepted answer, shown first and
// marked in the tree, and whether the viewer may accept one. objs and
// views are the posts the page shows, the question first.
func (w *Web) answerOf(c echo.Context, q *storage.Object, viewer *storage.Actor, objs []storage.Object, views []Post, page *ThreadPage) error {
	if q.Kind != federation.KindQuestion || q.InReplyToID != nil || q.CommunityActor == nil {
		return nil
	}
	ctx := c.Request().Context()
	page.Question = true
	page.CanAccept = viewer != nil && w.svc.MayAccept(ctx, viewer, q)
	var mark func([]*Reply)
	mark = func(rs []*Reply) {
		for _, r := range rs {
			r.Accepted = page.Answer != nil && r.ID == page.Answer.ID
			r.CanAccept, r.CSRF = page.CanAccept && !r.Deleted, page.CSRF
			mark(r.Children)
		}
	}
	defer func() { mark(page.Replies) }()
	if q.AcceptedAnswerURI == "" {
		return nil
	}
	for i := range objs {
		if objs[i].URI == q.AcceptedAnswerURI {
			v := views[i]
			page.Answer = &v
		}
	}
	if page.Answer == nil {
		// Deeper in the thread than the page reads.
		a, err := w.db.GetObjectByURI(ctx, q.AcceptedAnswerURI)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		vs, err := w.postViews(ctx, []storage.Object{*a}, viewer)
		if err != nil {
			return err
		}
		page.Answer = &vs[0]
	}
	page.Answer.Accepted = true
	return nil
}

// accept is POST /posts/:id/accept: the asker or a moderator accepts a
// reply as its question's answer; with undo=1, withdraws the answer.
func (w *Web) accept(c echo.Context) error {
	o, err := w.objectOf(c)
	if err != nil {
		return err
	}
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	var q *storage.Object
	if c.FormValue("undo") == "1" {
		q, err = w.svc.UnacceptAnswer(c.Request().Context(), me, o.URI)
	} else {
		q, err = w.svc.AcceptAnswer(c.Request().Context(), me, o.URI)
	}
	if errors.Is(err, federation.ErrInvalid) {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, reason(err))
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, w.postPath(q))
}

// QuestionsPage lists a community's unanswered questions.
type QuestionsPage struct {
	Page
	Community  Community
	Posts      []Post
	Prev, Next string
}

// questionsPerPage is how many questions a page lists.
const questionsPerPage = 20

// questions is GET /c/:name/questions: the questions nobody has answered
// yet, newest first, for members who can help.
func (w *Web) questions(c echo.Context) error {
	com, err := w.communityOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	members, err := w.db.CountMembers(ctx, com.ActorID, storage.StateAccepted)
	if err != nil {
		return err
	}
	view := w.communityView(com, members)
	page := QuestionsPage{Page: w.page(c, "Unanswered questions in "+com.Title), Community: view}
	viewer, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	if com.Visibility == storage.VisibilityPublic {
		n, _ := strconv.Atoi(c.QueryParam("page"))
		n = max(1, min(n, 500))
		objs, err := w.db.ListQuestions(ctx, storage.QuestionFilter{
			CommunityActorID: com.ActorID, Unanswered: true, HideLimited: true,
			Offset: (n - 1) * questionsPerPage, Limit: questionsPerPage + 1,
		})
		if err != nil {
			return err
		}
		if len(objs) > questionsPerPage {
			objs = objs[:questionsPerPage]
			page.Next = view.Path + "/questions?page=" + strconv.Itoa(n+1)
		}
		if n > 1 {
			page.Prev = view.Path + "/questions?page=" + strconv.Itoa(n-1)
		}
		if page.Posts, err = w.postViews(ctx, objs, viewer); err != nil {
			return err
		}
	}
	return w.render(c, http.StatusOK, "questions", page)
}
