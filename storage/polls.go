package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm/clause"
)

// Poll is a post's poll, local or remote (see migration 01102). For a
// local poll Tallies are counted from PollVotes; for a remote one they
// are what its author's server last said, plus the votes cast here since.
type Poll struct {
	ID         int64
	ObjectID   int64
	Options    []string `gorm:"serializer:json"`
	Tallies    []int64  `gorm:"serializer:json"`
	Multiple   bool
	HideTotals bool
	VotesCount int64
	// VotersCount is nil where a remote server did not say.
	VotersCount *int64
	ExpiresAt   *time.Time
	// ClosedAt is when the poll's end was handled (final totals sent,
	// voters told); a poll may have expired before.
	ClosedAt *time.Time
	// UpdateDueAt is when changed totals are next sent to participants.
	UpdateDueAt *time.Time
	// FetchedAt is when a remote poll was last read from its server.
	FetchedAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Expired reports whether voting has ended at now.
func (p *Poll) Expired(now time.Time) bool {
	return p.ClosedAt != nil || p.ExpiresAt != nil && !now.Before(*p.ExpiresAt)
}

// PollVote is one voter's vote for one option.
type PollVote struct {
	ID      int64
	PollID  int64
	ActorID int64
	Choice  int
	// URI is the vote's Note id; nil for a local vote on a local poll.
	URI       *string `gorm:"column:uri"`
	CreatedAt time.Time
}

// ErrPollExpired refuses a vote on a poll that has ended.
var ErrPollExpired = errors.New("the poll has ended")

// CreatePoll records a post's poll. Tallies default to zeros.
func (db *DB) CreatePoll(ctx context.Context, p *Poll) error {
	if len(p.Tallies) != len(p.Options) {
		p.Tallies = make([]int64, len(p.Options))
	}
	p.VotesCount = 0
	for _, n := range p.Tallies {
		p.VotesCount += n
	}
	return wrap(db.Gorm(ctx).Create(p).Error, "create poll of %d", p.ObjectID)
}

// GetPoll returns a poll by id.
func (db *DB) GetPoll(ctx context.Context, id int64) (*Poll, error) {
	var p Poll
	err := db.Gorm(ctx).Take(&p, id).Error
	return &p, wrap(err, "poll %d", id)
}

// GetPollByObject returns the poll of a post.
func (db *DB) GetPollByObject(ctx context.Context, objectID int64) (*Poll, error) {
	var p Poll
	err := db.Gorm(ctx).Where("object_id = ?", objectID).Take(&p).Error
	return &p, wrap(err, "poll of %d", objectID)
}

// PollView is a poll as one viewer sees it: with the options they chose.
type PollView struct {
	Poll
	OwnVotes []int
}

// PollsOf returns the polls of a page of posts by post id, with the
// votes of viewer (0: anonymous).
func (db *DB) PollsOf(ctx context.Context, objectIDs []int64, viewer int64) (map[int64]*PollView, error) {
	out := map[int64]*PollView{}
	if len(objectIDs) == 0 {
		return out, nil
	}
	var polls []Poll
	if err := db.Gorm(ctx).Where("object_id IN ?", objectIDs).Find(&polls).Error; err != nil {
		return nil, wrap(err, "polls of %d posts", len(objectIDs))
	}
	byID := map[int64]*PollView{}
	ids := make([]int64, 0, len(polls))
	for _, p := range polls {
		v := &PollView{Poll: p, OwnVotes: []int{}}
		out[p.ObjectID], byID[p.ID] = v, v
		ids = append(ids, p.ID)
	}
	if viewer == 0 || len(ids) == 0 {
		return out, nil
	}
	var votes []PollVote
	err := db.Gorm(ctx).Where("actor_id = ? AND poll_id IN ?", viewer, ids).Order("choice").Find(&votes).Error
	if err != nil {
		return nil, wrap(err, "votes of %d", viewer)
	}
	for _, v := range votes {
		byID[v.PollID].OwnVotes = append(byID[v.PollID].OwnVotes, v.Choice)
	}
	return out, nil
}

// Ballot is one voter's vote on a poll: the options chosen (indexes) and,
// per option, the vote's Note id ("" for none).
type Ballot struct {
	PollID  int64
	ActorID int64
	Choices []int
	URIs    []string
	Now     time.Time
	// UpdateDue, when set, is when the new totals are to be sent to the
	// participants (kept if an earlier update is already due).
	UpdateDue *time.Time
}

// CastVotes records a ballot and counts it, once per voter (per option
// for a multiple-choice poll). It fails with ErrPollExpired if voting has
// ended, ErrConflict if the voter already voted (for those options), and
// ErrInvalid-like errors for a choice out of range.
func (db *DB) CastVotes(ctx context.Context, b Ballot) (*Poll, error) {
	var out *Poll
	err := db.Tx(ctx, func(tx *DB) error {
		g := tx.Gorm(ctx)
		// Taking the poll's row first makes concurrent ballots on one poll
		// queue (PostgreSQL's row lock; SQLite has one writer anyway).
		res := g.Model(&Poll{}).Where("id = ?", b.PollID).Update("updated_at", b.Now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		var p Poll
		if err := g.Take(&p, b.PollID).Error; err != nil {
			return err
		}
		if p.Expired(b.Now) {
			return ErrPollExpired
		}
		if len(b.Choices) == 0 || !p.Multiple && len(b.Choices) > 1 {
			return fmt.Errorf("%w: %d choices on a poll of multiple=%v", ErrConflict, len(b.Choices), p.Multiple)
		}
		var had []int
		if err := g.Model(&PollVote{}).Where("poll_id = ? AND actor_id = ?", p.ID, b.ActorID).Pluck("choice", &had).Error; err != nil {
			return err
		}
		if !p.Multiple && len(had) > 0 {
			return ErrConflict
		}
		fresh := 0
		for i, c := range b.Choices {
			if c < 0 || c >= len(p.Options) {
				return fmt.Errorf("%w: choice %d of %d options", ErrNotFound, c, len(p.Options))
			}
			if slices.Contains(had, c) {
				continue
			}
			v := &PollVote{PollID: p.ID, ActorID: b.ActorID, Choice: c, CreatedAt: b.Now}
			if i < len(b.URIs) && b.URIs[i] != "" {
				v.URI = &b.URIs[i]
			}
			if err := g.Create(v).Error; err != nil {
				return err
			}
			had = append(had, c)
			p.Tallies[c]++
			p.VotesCount++
			fresh++
		}
		if fresh == 0 {
			return ErrConflict
		}
		if len(had) == fresh && p.VotersCount != nil {
			*p.VotersCount++ // a new voter
		}
		if b.UpdateDue != nil && (p.UpdateDueAt == nil || b.UpdateDue.Before(*p.UpdateDueAt)) {
			p.UpdateDueAt = b.UpdateDue
		}
		out = &p
		return g.Model(&Poll{}).Where("id = ?", p.ID).Updates(map[string]any{
			"tallies": jsonInts(p.Tallies), "votes_count": p.VotesCount, "voters_count": p.VotersCount, "update_due_at": p.UpdateDueAt,
		}).Error
	})
	return out, wrap(err, "vote of %d on poll %d", b.ActorID, b.PollID)
}

// PollResults are a remote poll's totals as its author's server states
// them.
type PollResults struct {
	Tallies     []int64
	VotersCount *int64
	ExpiresAt   *time.Time
}

// SetPollResults replaces a remote poll's totals. Results for other
// options than the poll has are ignored (an edit of the options is a new
// poll on Mastodon; here it keeps the old one).
func (db *DB) SetPollResults(ctx context.Context, pollID int64, r PollResults) error {
	p, err := db.GetPoll(ctx, pollID)
	if err != nil {
		return err
	}
	if len(r.Tallies) != len(p.Options) {
		return nil
	}
	var sum int64
	for _, n := range r.Tallies {
		sum += max(n, 0)
	}
	err = db.Gorm(ctx).Model(&Poll{}).Where("id = ?", pollID).Updates(map[string]any{
		"tallies": jsonInts(r.Tallies), "votes_count": sum, "voters_count": r.VotersCount,
		"expires_at": r.ExpiresAt, "updated_at": time.Now().UTC(),
	}).Error
	return wrap(err, "results of poll %d", pollID)
}

// ResetPoll replaces a remote poll's options after its author edited
// them: the votes cast here are removed, the totals are the author's.
func (db *DB) ResetPoll(ctx context.Context, pollID int64, options []string, multiple bool, r PollResults) error {
	if len(r.Tallies) != len(options) {
		r.Tallies = make([]int64, len(options))
	}
	var sum int64
	for _, n := range r.Tallies {
		sum += max(n, 0)
	}
	return db.Tx(ctx, func(tx *DB) error {
		if err := tx.Gorm(ctx).Where("poll_id = ?", pollID).Delete(&PollVote{}).Error; err != nil {
			return wrap(err, "votes of poll %d", pollID)
		}
		opts, err := json.Marshal(options)
		if err != nil {
			return err
		}
		err = tx.Gorm(ctx).Model(&Poll{}).Where("id = ?", pollID).Updates(map[string]any{
			"options": string(opts), "multiple": multiple, "tallies": jsonInts(r.Tallies), "votes_count": sum,
			"voters_count": r.VotersCount, "expires_at": r.ExpiresAt, "closed_at": nil, "updated_at": time.Now().UTC(),
		}).Error
		return wrap(err, "reset poll %d", pollID)
	})
}

// ClaimEndedPolls marks up to limit polls that have expired by now as
// closed and returns them; a poll is claimed once, whichever replica asks.
func (db *DB) ClaimEndedPolls(ctx context.Context, now time.Time, limit int) ([]Poll, error) {
	var out []Poll
	err := db.Gorm(ctx).Raw(`UPDATE polls SET closed_at = ?
		WHERE closed_at IS NULL AND expires_at <= ? AND id IN (
			SELECT id FROM polls WHERE closed_at IS NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?)
		RETURNING *`, now, now, now, limit).Scan(&out).Error
	return out, wrap(err, "claim ended polls")
}

// ClaimPollUpdates clears the due update of up to limit polls whose
// totals are to be sent by now and returns them, once across replicas.
func (db *DB) ClaimPollUpdates(ctx context.Context, now time.Time, limit int) ([]Poll, error) {
	var out []Poll
	err := db.Gorm(ctx).Raw(`UPDATE polls SET update_due_at = NULL
		WHERE update_due_at <= ? AND id IN (
			SELECT id FROM polls WHERE update_due_at <= ? ORDER BY update_due_at LIMIT ?)
		RETURNING *`, now, now, limit).Scan(&out).Error
	return out, wrap(err, "claim poll updates")
}

// maxPollParticipants bounds the voters one query returns.
const maxPollParticipants = 100000

// PollVoterInboxes are the delivery inboxes of a poll's remote voters,
// one per server.
func (db *DB) PollVoterInboxes(ctx context.Context, pollID int64) ([]string, error) {
	var out []string
	err := db.Gorm(ctx).Model(&PollVote{}).
		Joins("JOIN actors ON actors.id = poll_votes.actor_id").
		Where("poll_votes.poll_id = ? AND actors.local = ?", pollID, false).
		Distinct("COALESCE(NULLIF(actors.shared_inbox_uri, ''), actors.inbox_uri)").
		Limit(maxPollParticipants).Pluck("COALESCE(NULLIF(actors.shared_inbox_uri, ''), actors.inbox_uri)", &out).Error
	return out, wrap(err, "voter inboxes of poll %d", pollID)
}

// LocalPollVoters are the ids of a poll's local voters.
func (db *DB) LocalPollVoters(ctx context.Context, pollID int64) ([]int64, error) {
	var out []int64
	err := db.Gorm(ctx).Model(&PollVote{}).
		Joins("JOIN actors ON actors.id = poll_votes.actor_id").
		Where("poll_votes.poll_id = ? AND actors.local = ?", pollID, true).
		Distinct("poll_votes.actor_id").Limit(maxPollParticipants).Pluck("poll_votes.actor_id", &out).Error
	return out, wrap(err, "local voters of poll %d", pollID)
}

// jsonInts is a tally list as its column holds it.
func jsonInts(v []int64) clause.Expr {
	b := []byte{'['}
	for i, n := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%d", n)
	}
	return clause.Expr{SQL: "?", Vars: []any{string(append(b, ']'))}}
}

// NotifyPoll is the notification that a poll one voted in or wrote ended.
const NotifyPoll = "poll"

// PollsDue says whether any poll ended by now is not yet closed, and
// whether any poll's totals are due to be sent: two indexed reads, so that
// the poll worker writes only when there is work.
type PollsDue struct{ Ended, Updates bool }

// PollsDue looks for due poll work at now.
func (db *DB) PollsDue(ctx context.Context, now time.Time) (PollsDue, error) {
	var d PollsDue
	var ids []int64
	if err := db.Gorm(ctx).Model(&Poll{}).Where("closed_at IS NULL AND expires_at <= ?", now).Limit(1).Pluck("id", &ids).Error; err != nil {
		return d, wrap(err, "ended polls")
	}
	d.Ended = len(ids) > 0
	ids = nil
	if err := db.Gorm(ctx).Model(&Poll{}).Where("update_due_at <= ?", now).Limit(1).Pluck("id", &ids).Error; err != nil {
		return d, wrap(err, "poll updates due")
	}
	d.Updates = len(ids) > 0
	return d, nil
}

// HidePollTotals keeps a poll's totals from voters until it ends.
func (db *DB) HidePollTotals(ctx context.Context, objectID int64) error {
	err := db.Gorm(ctx).Model(&Poll{}).Where("object_id = ?", objectID).Update("hide_totals", true).Error
	return wrap(err, "hide totals of poll of %d", objectID)
}

// ClaimPollRefresh reports whether a remote poll is to be read again from
// its server at now, and marks it read: not within minAge of the last
// reading, and not again once it was read after its end. One caller gets
// true for concurrent claims.
func (db *DB) ClaimPollRefresh(ctx context.Context, pollID int64, now time.Time, minAge time.Duration) (bool, error) {
	res := db.Gorm(ctx).Model(&Poll{}).
		Where("id = ? AND (fetched_at IS NULL OR (fetched_at < ? AND (expires_at IS NULL OR fetched_at < expires_at)))", pollID, now.Add(-minAge)).
		Update("fetched_at", now)
	return res.RowsAffected == 1, wrap(res.Error, "claim refresh of poll %d", pollID)
}
