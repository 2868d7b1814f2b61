package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// PollView is a post's poll on its page: the options with their votes
// (when the author shows them or the poll has ended), and a form for a
// member who has not voted.
type PollView struct {
	ID       int64
	Multiple bool
	Expired  bool
	// EndsAt is when voting ends (zero: not said).
	EndsAt     time.Time
	ShowTotals bool
	Votes      int64
	// Voters is how many voted, when known (VotersKnown).
	Voters      int64
	VotersKnown bool
	Options     []PollOption
	// CanVote: the viewer may vote (a member, not the author, not yet
	// voted, before the end).
	CanVote bool
	Voted   bool
}

// PollOption is one option of a poll.
type PollOption struct {
	Index   int
	Title   string
	Votes   int64
	Percent int
	Mine    bool
}

// pollOf is post o's poll as viewer (nil: a visitor) sees it, or nil.
func (w *Web) pollOf(ctx context.Context, o *storage.Object, viewer *storage.Actor) (*PollView, error) {
	var vid int64
	if viewer != nil {
		vid = viewer.ID
	}
	polls, err := w.db.PollsOf(ctx, []int64{o.ID}, vid)
	if err != nil || polls[o.ID] == nil {
		return nil, err
	}
	p := polls[o.ID]
	now := time.Now()
	v := &PollView{ID: p.ID, Multiple: p.Multiple, Expired: p.Expired(now), ShowTotals: !p.HideTotals || p.Expired(now),
		Votes: p.VotesCount, Voted: len(p.OwnVotes) > 0}
	if p.VotersCount != nil {
		v.Voters, v.VotersKnown = *p.VotersCount, true
	}
	if p.ExpiresAt != nil {
		v.EndsAt = *p.ExpiresAt
	}
	v.CanVote = viewer != nil && viewer.ID != o.AuthorActorID && !v.Voted && !v.Expired
	for i, title := range p.Options {
		opt := PollOption{Index: i, Title: title}
		for _, c := range p.OwnVotes {
			opt.Mine = opt.Mine || c == i
		}
		if i < len(p.Tallies) {
			opt.Votes = p.Tallies[i]
		}
		if p.VotesCount > 0 {
			opt.Percent = int(opt.Votes * 100 / p.VotesCount)
		}
		v.Options = append(v.Options, opt)
	}
	return v, nil
}

// vote is POST /posts/:id/vote with the options chosen (choice).
func (w *Web) vote(c echo.Context) error {
	o, err := w.objectOf(c)
	if err != nil {
		return err
	}
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad form")
	}
	var choices []int
	for i, s := range form["choice"] {
		n, err := strconv.Atoi(s)
		if err != nil || i >= federation.MaxPollOptions*5 {
			return echo.NewHTTPError(http.StatusBadRequest, "bad choice")
		}
		choices = append(choices, n)
	}
	p, err := w.db.GetPollByObject(c.Request().Context(), o.ID)
	if err != nil {
		return err
	}
	if len(choices) == 0 {
		return w.renderThread(c, o, http.StatusUnprocessableEntity, "Choose an option to vote.", "")
	}
	_, _, err = w.svc.Vote(c.Request().Context(), me, p.ID, choices)
	if errors.Is(err, federation.ErrInvalid) || errors.Is(err, federation.ErrForbidden) {
		return w.renderThread(c, o, http.StatusUnprocessableEntity, reason(err), "")
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, w.postPath(o)+"#poll")
}

// pollExpiries are the durations the composer offers, in seconds.
var pollExpiries = map[string]time.Duration{"3600": time.Hour, "86400": 24 * time.Hour, "259200": 72 * time.Hour, "604800": 7 * 24 * time.Hour}

// pollForm reads the composer's poll: nil when no option was filled in.
func pollForm(c echo.Context) (*federation.NewPoll, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "bad form")
	}
	var options []string
	for i, o := range form["poll_option"] {
		if i >= federation.MaxPollOptions {
			break
		}
		if o = strings.TrimSpace(o); o != "" {
			options = append(options, o)
		}
	}
	if len(options) == 0 {
		return nil, nil
	}
	expires, ok := pollExpiries[form.Get("poll_expires")]
	if !ok {
		expires = 24 * time.Hour
	}
	return &federation.NewPoll{Options: options, ExpiresIn: expires,
		Multiple: form.Get("poll_multiple") == "1", HideTotals: form.Get("poll_hide_totals") == "1"}, nil
}
