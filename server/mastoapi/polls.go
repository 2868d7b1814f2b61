package mastoapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// Poll is Mastodon's Poll entity. voted and own_votes are there only for
// a signed-in viewer; an option's votes_count is null while the author
// hides the totals.
type Poll struct {
	ID          string       `json:"id"`
	ExpiresAt   *string      `json:"expires_at"`
	Expired     bool         `json:"expired"`
	Multiple    bool         `json:"multiple"`
	VotesCount  int64        `json:"votes_count"`
	VotersCount *int64       `json:"voters_count"`
	Voted       *bool        `json:"voted,omitempty"`
	OwnVotes    *[]int       `json:"own_votes,omitempty"`
	Options     []PollOption `json:"options"`
	Emojis      []Emoji      `json:"emojis"`
}

// PollOption is one option of a Poll.
type PollOption struct {
	Title      string `json:"title"`
	VotesCount *int64 `json:"votes_count"`
}

// pollOf renders post o's poll as the renderer's viewer sees it.
func (r *renderer) pollOf(o *storage.Object, p *storage.PollView) *Poll {
	now := time.Now()
	show := !p.HideTotals || p.Expired(now)
	out := &Poll{
		ID: id(p.ID), Expired: p.Expired(now), Multiple: p.Multiple,
		VotesCount: p.VotesCount, VotersCount: p.VotersCount, Options: []PollOption{}, Emojis: []Emoji{},
	}
	if p.ExpiresAt != nil {
		out.ExpiresAt = ptr(iso(*p.ExpiresAt))
	}
	for i, title := range p.Options {
		opt := PollOption{Title: title}
		if show && i < len(p.Tallies) {
			opt.VotesCount = ptr(p.Tallies[i])
		}
		out.Options = append(out.Options, opt)
	}
	if r.viewer > 0 {
		own := p.OwnVotes
		if own == nil {
			own = []int{}
		}
		out.OwnVotes = &own
		out.Voted = ptr(o.AuthorActorID == r.viewer || len(own) > 0)
	}
	return out
}

// pollParam loads the poll named by :id and its post, if the viewer may
// read the post.
func (a *API) pollParam(c echo.Context) (int64, *storage.Object, error) {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return 0, nil, errNotFound
	}
	p, err := a.db.GetPoll(c.Request().Context(), n)
	if err != nil {
		return 0, nil, err
	}
	o, err := a.objectByID(c.Request().Context(), viewer(c), id(p.ObjectID))
	return p.ID, o, err
}

// renderPoll answers with the poll of post o.
func (a *API) renderPoll(c echo.Context, o *storage.Object) error {
	views, err := a.db.PollsOf(c.Request().Context(), []int64{o.ID}, viewerID(c))
	if err != nil {
		return err
	}
	v := views[o.ID]
	if v == nil {
		return errNotFound
	}
	return c.JSON(http.StatusOK, a.renderer(c).pollOf(o, v))
}

// getPoll is GET /api/v1/polls/:id.
func (a *API) getPoll(c echo.Context) error {
	pollID, o, err := a.pollParam(c)
	if err != nil {
		return err
	}
	if !o.Local && viewer(c) != nil {
		// A member looking at another server's poll: its totals are read
		// again (at most once a minute), as Mastodon does.
		a.svc.RefreshPollLater(pollID)
	}
	return a.renderPoll(c, o)
}

// votePoll is POST /api/v1/polls/:id/votes with choices[] (option
// indexes).
func (a *API) votePoll(c echo.Context) error {
	pollID, o, err := a.pollParam(c)
	if err != nil {
		return err
	}
	p, err := a.params(c)
	if err != nil {
		return err
	}
	raw := p.list("choices")
	if len(raw) == 0 || len(raw) > federation.MaxPollOptions*5 {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: choices are missing")
	}
	choices := make([]int, 0, len(raw))
	for _, s := range raw {
		n, err := strconv.Atoi(s)
		if err != nil {
			return errorf(http.StatusUnprocessableEntity, "Validation failed: choice %q is not an option's index", s)
		}
		choices = append(choices, n)
	}
	if _, _, err := a.svc.Vote(c.Request().Context(), viewer(c), pollID, choices); err != nil {
		return err
	}
	return a.renderPoll(c, o)
}

// pollParams reads the poll of a new status, as apps send it in a form
// (poll[options][]=…&poll[expires_in]=…) or JSON ({"poll":{…}}); nil
// without one.
func pollParams(p params) (*federation.NewPoll, error) {
	options := p.list("poll[options]")
	if len(options) == 0 {
		return nil, nil
	}
	if len(options) > federation.MaxPollOptions*5 {
		return nil, errorf(http.StatusUnprocessableEntity, "Validation failed: Poll options must have at most %d options", federation.MaxPollOptions)
	}
	secs, err := strconv.ParseInt(p.Get("poll[expires_in]"), 10, 64)
	if err != nil {
		return nil, errorf(http.StatusUnprocessableEntity, "Validation failed: Poll expires_in is not a number of seconds")
	}
	if secs < 0 || secs > int64(federation.MaxPollExpiry/time.Second)*2 {
		return nil, errorf(http.StatusUnprocessableEntity, "Validation failed: Poll expires_in is out of range")
	}
	return &federation.NewPoll{
		Options: options, ExpiresIn: time.Duration(secs) * time.Second,
		Multiple: p.bool("poll[multiple]"), HideTotals: p.bool("poll[hide_totals]"),
	}, nil
}
