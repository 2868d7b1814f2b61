package federation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/commonplace/commonplace/federation/events"
	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Polls, federated as Mastodon federates them. A post with a poll is a
// Question whose oneOf (one choice) or anyOf (several) lists the options
// as Notes with a name and replies.totalItems (its votes), with endTime,
// closed once it has ended, and votersCount. A vote is a Create{Note}
// from the voter to the poll's author: name = the option, inReplyTo = the
// Question, one per option chosen. The author's server counts it once per
// voter (per option for anyOf), never shows it as a reply, and sends the
// new totals as an Update{Question} to the poll's participants: the
// voters' servers, the author's followers, the people it names and, for a
// poll in a community, the community's members.

// Limits of a local poll, Mastodon's defaults (the client API advertises
// them in the instance's configuration).
const (
	MaxPollOptions     = 4
	MaxPollOptionChars = 50
	MinPollExpiry      = 5 * time.Minute
	MaxPollExpiry      = 2629746 * time.Second // a month
)

// maxRemotePollOptions bounds the options kept of another server's poll;
// a longer list is kept as a post without a poll. maxRemoteOptionChars
// bounds each option's title.
const (
	maxRemotePollOptions = 20
	maxRemoteOptionChars = 200
)

// NotifyPoll tells a poll's author and its local voters that it ended.
const NotifyPoll = storage.NotifyPoll

// NewPoll is the poll a member attaches to a post.
type NewPoll struct {
	Options    []string
	ExpiresIn  time.Duration
	Multiple   bool
	HideTotals bool
}

// checkPoll validates a new poll as Mastodon's PollValidator does and
// trims its options.
func checkPoll(p *NewPoll) error {
	opts := make([]string, 0, len(p.Options))
	for _, o := range p.Options {
		if o = strings.TrimSpace(o); o != "" {
			opts = append(opts, o)
		}
	}
	switch {
	case len(opts) < 2:
		return fmt.Errorf("%w: a poll needs at least 2 options", ErrInvalid)
	case len(opts) > MaxPollOptions:
		return fmt.Errorf("%w: a poll has at most %d options", ErrInvalid, MaxPollOptions)
	case p.ExpiresIn < MinPollExpiry || p.ExpiresIn > MaxPollExpiry:
		return fmt.Errorf("%w: a poll lasts from %s to %s", ErrInvalid, MinPollExpiry, MaxPollExpiry)
	}
	for i, o := range opts {
		if utf8.RuneCountInString(o) > MaxPollOptionChars {
			return fmt.Errorf("%w: a poll option is at most %d characters", ErrInvalid, MaxPollOptionChars)
		}
		if slices.Contains(opts[:i], o) {
			return fmt.Errorf("%w: a poll's options must differ", ErrInvalid)
		}
	}
	p.Options = opts
	return nil
}

// asQuestion makes note the Question of poll p, as Mastodon serves a new
// poll: every option with no votes yet.
func asQuestion(note *vocab.Object, p *NewPoll, now time.Time) {
	note.Type = vocab.TypeQuestion
	options := make([]vocab.Object, 0, len(p.Options))
	for _, o := range p.Options {
		options = append(options, pollOption(o, 0))
	}
	if p.Multiple {
		note.AnyOf = options
	} else {
		note.OneOf = options
	}
	note.EndTime = vocab.At(now.Add(p.ExpiresIn).Truncate(time.Second))
	note.VotersCount = new(int64)
}

// pollOption is one option of a Question with its votes.
func pollOption(title string, votes int64) vocab.Object {
	replies, _ := vocab.Embed(struct {
		Type       string `json:"type"`
		TotalItems int64  `json:"totalItems"`
	}{vocab.TypeCollection, votes}) // cannot fail: the document is fixed
	return vocab.Object{Type: vocab.TypeNote, Name: title, Replies: replies}
}

// withPoll adds a local post's poll, with its current totals, to its
// document. Totals hidden until the end are sent as zeros.
func (s *Service) withPoll(ctx context.Context, tx *storage.DB, doc *vocab.Object, o *storage.Object) error {
	if o.Type != vocab.TypeQuestion || doc.Type == vocab.TypeTombstone {
		return nil
	}
	p, err := tx.GetPollByObject(ctx, o.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	now := time.Now()
	show := !p.HideTotals || p.Expired(now)
	options := make([]vocab.Object, 0, len(p.Options))
	for i, title := range p.Options {
		var votes int64
		if show && i < len(p.Tallies) {
			votes = p.Tallies[i]
		}
		options = append(options, pollOption(title, votes))
	}
	doc.OneOf, doc.AnyOf = nil, nil
	if p.Multiple {
		doc.AnyOf = options
	} else {
		doc.OneOf = options
	}
	if p.ExpiresAt != nil {
		doc.EndTime = vocab.At(*p.ExpiresAt)
		if p.Expired(now) {
			doc.Closed = vocab.Closed{At: *p.ExpiresAt, Set: true}
		}
	}
	voters := int64(0)
	if show && p.VotersCount != nil {
		voters = *p.VotersCount
	}
	doc.VotersCount = &voters
	return nil
}

// PollDocument is ObjectDocument with the post's poll, as served.
func (s *Service) PollDocument(ctx context.Context, o *storage.Object) (*vocab.Object, error) {
	doc := s.ObjectDocument(o)
	return doc, s.withPoll(ctx, s.DB, doc, o)
}

// storePoll keeps the poll of a Question just stored as o: ours as we
// sent it, another server's as it states it.
func (s *Service) storePoll(ctx context.Context, tx *storage.DB, o *storage.Object, obj *vocab.Object) error {
	if obj.Type != vocab.TypeQuestion {
		return nil
	}
	options, tallies, multiple := pollOptionsOf(obj)
	if len(options) == 0 {
		return nil
	}
	p := &storage.Poll{ObjectID: o.ID, Multiple: multiple, Options: options, Tallies: tallies}
	if obj.VotersCount != nil {
		p.VotersCount = new(max(*obj.VotersCount, 0))
	}
	if o.Local && p.VotersCount == nil {
		p.VotersCount = new(int64)
	}
	if end := pollEnd(obj); !end.IsZero() {
		p.ExpiresAt = &end
	}
	if !o.Local {
		p.FetchedAt = new(time.Now().UTC())
	}
	return tx.CreatePoll(ctx, p)
}

// pollOptionsOf reads a Question's options as Mastodon does (name, else
// content), with their votes; none when it has more than
// maxRemotePollOptions. Empty and repeated titles are left out.
func pollOptionsOf(obj *vocab.Object) (options []string, tallies []int64, multiple bool) {
	items, multiple := obj.Options()
	if len(items) > maxRemotePollOptions {
		return nil, nil, multiple
	}
	for _, it := range items {
		title := it.Name
		if title == "" {
			title = it.Content
		}
		if title = sanitize.PlainText(title, maxRemoteOptionChars); title == "" || slices.Contains(options, title) {
			continue
		}
		options = append(options, title)
		tallies = append(tallies, it.Votes())
	}
	return options, tallies, multiple
}

// pollEnd is when a Question's voting ends, as Mastodon reads it: closed
// (true: now), else endTime.
func pollEnd(obj *vocab.Object) time.Time {
	switch {
	case obj.Closed.Set && !obj.Closed.At.IsZero():
		return obj.Closed.At.UTC()
	case obj.Closed.Set:
		return time.Now().UTC()
	}
	return obj.EndTime.UTC()
}

// pollResults applies the totals of another server's Update{Question} to
// our copy of its poll. It reports whether the update was only that
// (nothing else to edit): Mastodon's poll updates carry no "updated".
func (s *Service) pollResults(ctx context.Context, tx *storage.DB, stored *storage.Object, obj *vocab.Object, author *storage.Actor) (totalsOnly bool, err error) {
	if author.Local || obj.Type != vocab.TypeQuestion {
		return false, nil
	}
	p, err := tx.GetPollByObject(ctx, stored.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	options, tallies, multiple := pollOptionsOf(obj)
	if len(options) == 0 {
		return false, nil
	}
	r := storage.PollResults{Tallies: tallies, VotersCount: obj.VotersCount}
	if r.VotersCount != nil && *r.VotersCount < 0 {
		r.VotersCount = nil
	}
	if end := pollEnd(obj); !end.IsZero() {
		r.ExpiresAt = &end
	}
	if !slices.Equal(options, p.Options) || multiple != p.Multiple {
		if obj.Updated.IsZero() {
			return false, nil // other options, yet no edit: not this poll's totals
		}
		// An edit of the options makes a new poll, as on Mastodon: the
		// votes cast here no longer count.
		if err := tx.ResetPoll(ctx, p.ID, options, multiple, r); err != nil {
			return false, err
		}
		return false, s.Events.Publish(ctx, tx, eventUpdated(stored.ID))
	}
	if err := tx.SetPollResults(ctx, p.ID, r); err != nil {
		return false, err
	}
	sameText := sanitize.HTML(obj.ContentIn()) == stored.Content && sanitize.PlainText(obj.Summary, 500) == stored.Summary
	return obj.Updated.IsZero() && sameText, s.Events.Publish(ctx, tx, eventUpdated(stored.ID))
}

// onVote counts a vote on a local poll: a Note whose name is one of the
// poll's options, in reply to it. It reports whether obj was a vote,
// counted or not (too late, a repeat): a vote is never stored as a reply.
func (s *Service) onVote(ctx context.Context, obj *vocab.Object, voter *storage.Actor) (bool, error) {
	// Local members vote through Vote; their titled replies are replies.
	if voter.Local || obj.Type != vocab.TypeNote || obj.Name == "" || obj.InReplyTo == "" || !s.URLs.IsLocal(string(obj.InReplyTo)) {
		return false, nil
	}
	o, err := s.DB.GetObjectByURI(ctx, string(obj.InReplyTo))
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if !o.Local || o.Type != vocab.TypeQuestion {
		return false, nil
	}
	p, err := s.DB.GetPollByObject(ctx, o.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	choice := slices.Index(p.Options, obj.Name)
	if choice < 0 {
		return false, nil // a reply that happens to have a name
	}
	now := time.Now().UTC()
	if o.DeletedAt != nil || p.Expired(now) {
		return true, nil
	}
	if ok, err := s.DB.CanSee(ctx, voter, o); err != nil || !ok {
		return true, err
	}
	_, err = s.DB.CastVotes(ctx, storage.Ballot{
		PollID: p.ID, ActorID: voter.ID, Choices: []int{choice}, URIs: []string{obj.ID}, Now: now, UpdateDue: s.pollUpdateDue(p, now),
	})
	if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrPollExpired) {
		return true, nil // a repeat, or too late
	}
	if err == nil {
		s.Log.Info("poll vote", "poll", o.URI, "voter", voter.URI, "option", choice)
		err = s.Events.Publish(ctx, nil, eventUpdated(o.ID))
	}
	return true, err
}

// onMoreVotes counts the further votes of a Create that carries several
// (one per option chosen, as some GoToSocial versions send them). Each is
// checked as the first was: embedded, from the sender's host, its own.
func (s *Service) onMoreVotes(ctx context.Context, more vocab.Refs, voter *storage.Actor) error {
	for i, ref := range more {
		if i >= maxRemotePollOptions || !ref.IsEmbedded() {
			break
		}
		obj, err := ref.Object()
		if err != nil {
			return fmt.Errorf("%w: vote: %v", ErrInvalid, err)
		}
		if !sameHost(obj.ID, voter.URI) || obj.AttributedTo.ID() != voter.URI {
			return fmt.Errorf("%w: vote %s is not %s's", ErrForbidden, obj.ID, voter.URI)
		}
		if _, err := s.onVote(ctx, obj, voter); err != nil {
			return err
		}
	}
	return nil
}

// pollUpdateDue is when a local poll's totals are next sent after a vote
// at now: never before the end for a poll that hides them.
func (s *Service) pollUpdateDue(p *storage.Poll, now time.Time) *time.Time {
	if p.HideTotals {
		return nil
	}
	return new(now.Add(s.PollUpdateDelay))
}

// Vote casts a local member's vote on a poll (choices are option indexes)
// and returns the poll and its post. A vote on another server's poll is
// sent to its author, one Create{Note} per option, as Mastodon sends it.
func (s *Service) Vote(ctx context.Context, voter *storage.Actor, pollID int64, choices []int) (*storage.Poll, *storage.Object, error) {
	p, err := s.DB.GetPoll(ctx, pollID)
	if err != nil {
		return nil, nil, err
	}
	o, err := s.DB.GetObjectByID(ctx, p.ObjectID)
	if err != nil {
		return nil, nil, err
	}
	if ok, err := s.DB.CanSee(ctx, voter, o); err != nil {
		return nil, nil, err
	} else if !ok || o.DeletedAt != nil {
		return nil, nil, fmt.Errorf("poll %d: %w", pollID, storage.ErrNotFound)
	}
	now := time.Now().UTC()
	switch {
	case !voter.Local:
		return nil, nil, fmt.Errorf("%w: only local members vote from here", ErrForbidden)
	case o.AuthorActorID == voter.ID:
		return nil, nil, fmt.Errorf("%w: you cannot vote in your own poll", ErrInvalid)
	case p.Expired(now):
		return nil, nil, fmt.Errorf("%w: the poll has already ended", ErrInvalid)
	case len(choices) == 0 || !p.Multiple && len(choices) > 1:
		return nil, nil, fmt.Errorf("%w: choose one option", ErrInvalid)
	}
	for i, c := range choices {
		if c < 0 || c >= len(p.Options) || slices.Contains(choices[:i], c) {
			return nil, nil, fmt.Errorf("%w: no such option %d", ErrInvalid, c)
		}
	}
	var voted *storage.Poll
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		b := storage.Ballot{PollID: p.ID, ActorID: voter.ID, Choices: choices, Now: now}
		var notes []*vocab.Object
		if o.Local {
			b.UpdateDue = s.pollUpdateDue(p, now)
		} else {
			for _, c := range choices {
				n := &vocab.Object{
					ID: voter.URI + "#votes/" + uuid.NewString(), Type: vocab.TypeNote, Name: p.Options[c],
					AttributedTo: vocab.RefsTo(voter.URI), InReplyTo: vocab.IRI(o.URI), To: vocab.IRIs{o.AuthorActor.URI},
				}
				notes = append(notes, n)
				b.URIs = append(b.URIs, n.ID)
			}
		}
		var err error
		if voted, err = tx.CastVotes(ctx, b); err != nil {
			return err
		}
		for _, n := range notes {
			body, err := s.activityDoc(vocab.TypeCreate, voter, n, n.To, nil)
			if err != nil {
				return err
			}
			if _, err := s.send(ctx, tx, voter, body, []string{o.AuthorActor.DeliveryInbox()}); err != nil {
				return err
			}
		}
		return s.Events.Publish(ctx, tx, eventUpdated(o.ID))
	})
	switch {
	case errors.Is(err, storage.ErrConflict):
		return nil, nil, fmt.Errorf("%w: you have already voted on this poll", ErrInvalid)
	case errors.Is(err, storage.ErrPollExpired):
		return nil, nil, fmt.Errorf("%w: the poll has already ended", ErrInvalid)
	case err != nil:
		return nil, nil, err
	}
	s.notifyDeliveries()
	return voted, o, nil
}

// pollRefreshAge is how long a remote poll's totals are trusted before a
// member's look at it reads them again (Mastodon's minute).
const pollRefreshAge = time.Minute

// RefreshPoll reads a remote poll's totals again from its server, if it
// is due (see storage.ClaimPollRefresh), and reports whether it did. The
// document must still be the author's Question.
func (s *Service) RefreshPoll(ctx context.Context, pollID int64) (bool, error) {
	p, err := s.DB.GetPoll(ctx, pollID)
	if err != nil {
		return false, err
	}
	o, err := s.DB.GetObjectByID(ctx, p.ObjectID)
	if err != nil {
		return false, err
	}
	if o.Local || o.DeletedAt != nil || o.AuthorActor == nil {
		return false, nil
	}
	if ok, err := s.DB.ClaimPollRefresh(ctx, p.ID, time.Now().UTC(), pollRefreshAge); err != nil || !ok {
		return false, err
	}
	obj, _, err := s.FetchObject(ctx, o.URI)
	if err != nil {
		return false, err
	}
	if obj.ID != o.URI || obj.AttributedTo.ID() != o.AuthorActor.URI {
		return false, fmt.Errorf("%w: %s no longer is %s's poll", ErrForbidden, o.URI, o.AuthorActor.URI)
	}
	if _, err := s.pollResults(ctx, s.DB, o, obj, o.AuthorActor); err != nil {
		return false, err
	}
	return true, nil
}

// maxPollRefreshes bounds the refreshes in flight in one process.
const maxPollRefreshes = 4

// RefreshPollLater refreshes a remote poll in the background, as
// Mastodon does when a member opens it; when maxPollRefreshes are in
// flight it is skipped (the next look will ask again).
func (s *Service) RefreshPollLater(pollID int64) {
	select {
	case s.pollRefreshes <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-s.pollRefreshes }()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := s.RefreshPoll(ctx, pollID); err != nil {
			s.Log.Info("poll not refreshed", "poll", pollID, "err", err)
		}
	}()
}

// PollOptions tune RunPolls.
type PollOptions struct {
	// Tick is how often ended polls and due updates are looked for
	// (default 1s; the look is one indexed query each).
	Tick time.Duration
}

// pollBatch bounds the polls closed or updated in one transaction.
const pollBatch = 20

// RunPolls closes ended polls and sends due totals until ctx is done.
// Every replica runs it; each poll is claimed by one.
func (s *Service) RunPolls(ctx context.Context, o PollOptions) {
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	t := time.NewTimer(o.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// One look for work of either kind (two indexed reads) before any
		// write.
		due, err := s.DB.PollsDue(ctx, time.Now().UTC())
		if err != nil {
			if ctx.Err() == nil {
				s.Log.Warn("polls", "err", err)
			}
			t.Reset(o.Tick)
			continue
		}
		var steps []func(context.Context, time.Time) (int, error)
		if due.Ended {
			steps = append(steps, s.closePolls)
		}
		if due.Updates {
			steps = append(steps, s.sendPollUpdates)
		}
		for _, step := range steps {
			for ctx.Err() == nil {
				n, err := step(ctx, time.Now().UTC())
				if err != nil {
					s.Log.Warn("polls", "err", err)
				}
				if err != nil || n < pollBatch {
					break
				}
			}
		}
		t.Reset(o.Tick)
	}
}

// closePolls handles polls that ended by now: the final totals go to the
// participants of local ones, and the author and local voters are told.
func (s *Service) closePolls(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.DB.Tx(ctx, func(tx *storage.DB) error {
		polls, err := tx.ClaimEndedPolls(ctx, now, pollBatch)
		if err != nil {
			return err
		}
		n = len(polls)
		for i := range polls {
			if err := s.closePoll(ctx, tx, &polls[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && n > 0 {
		s.notifyDeliveries()
	}
	return n, err
}

func (s *Service) closePoll(ctx context.Context, tx *storage.DB, p *storage.Poll) error {
	o, err := tx.GetObjectByID(ctx, p.ObjectID)
	if err != nil {
		return ignoreNotFound(err)
	}
	if o.DeletedAt != nil {
		return nil
	}
	if o.Local {
		if err := s.sendPollUpdate(ctx, tx, o); err != nil {
			return err
		}
	}
	told, err := tx.LocalPollVoters(ctx, p.ID)
	if err != nil {
		return err
	}
	if o.Local {
		told = append(told, o.AuthorActorID)
	}
	for _, id := range told {
		if err := s.notify(ctx, tx, &storage.Notification{RecipientActorID: id, Type: storage.NotifyPoll, FromActorID: o.AuthorActorID, ObjectID: o.ID}); err != nil {
			return err
		}
	}
	return s.Events.Publish(ctx, tx, eventUpdated(o.ID))
}

// sendPollUpdates sends the totals of local polls whose update is due.
func (s *Service) sendPollUpdates(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.DB.Tx(ctx, func(tx *storage.DB) error {
		polls, err := tx.ClaimPollUpdates(ctx, now, pollBatch)
		if err != nil {
			return err
		}
		n = len(polls)
		for _, p := range polls {
			o, err := tx.GetObjectByID(ctx, p.ObjectID)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if !o.Local || o.DeletedAt != nil {
				continue
			}
			if err := s.sendPollUpdate(ctx, tx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && n > 0 {
		s.notifyDeliveries()
	}
	return n, err
}

// sendPollUpdate sends a local poll's current totals as Update{Question}
// to its participants, as Mastodon's DistributePollUpdateWorker does: the
// voters' servers, the people it names, the author's followers (unless it
// is direct) and the servers of its community's members; a local
// community passes it on like any update of a post.
func (s *Service) sendPollUpdate(ctx context.Context, tx *storage.DB, o *storage.Object) error {
	author := o.AuthorActor
	if author == nil {
		return nil
	}
	doc := s.ObjectDocument(o)
	if err := s.withPoll(ctx, tx, doc, o); err != nil {
		return err
	}
	update, err := s.activityDoc(vocab.TypeUpdate, author, doc, doc.To, doc.CC)
	if err != nil {
		return err
	}
	p, err := tx.GetPollByObject(ctx, o.ID)
	if err != nil {
		return err
	}
	inboxes, err := tx.PollVoterInboxes(ctx, p.ID)
	if err != nil {
		return err
	}
	_, _, named, err := s.sentAudience(ctx, o)
	if err != nil {
		return err
	}
	inboxes = append(inboxes, named...)
	// A members poll goes to its community's members only, as the post
	// did (redistribute below, or the remote community's inbox).
	if o.Visibility != storage.VisibilityDirect && o.Visibility != storage.VisibilityMembers {
		followers, err := tx.MemberInboxes(ctx, author.ID)
		if err != nil {
			return err
		}
		inboxes = append(inboxes, followers...)
	}
	if g := o.CommunityActor; g != nil && !g.Local {
		inboxes = append(inboxes, g.InboxURI)
	} else if g != nil && !limitedVisibility(o.Visibility) {
		copies, err := s.authorCopies(ctx, g)
		if err != nil {
			return err
		}
		inboxes = append(inboxes, copies...)
	}
	slices.Sort(inboxes)
	if _, err := s.send(ctx, tx, author, update, slices.Compact(inboxes)); err != nil {
		return err
	}
	return s.redistribute(ctx, tx, o, update)
}

// eventUpdated tells live clients that a post's poll changed.
func eventUpdated(objectID int64) events.Event {
	return events.Event{Kind: events.StatusUpdated, Object: objectID}
}
