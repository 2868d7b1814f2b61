package storage

import (
	"context"
	"time"
)

// Accepted answers (issue 15, item 2): a question's accepted answer is
// one reply in its thread, named by its id.

// SetAcceptedAnswer records answerURI as the accepted answer of the
// question with id questionID; "" leaves the question unanswered.
func (db *DB) SetAcceptedAnswer(ctx context.Context, questionID int64, answerURI string) error {
	var at *time.Time
	if answerURI != "" {
		now := time.Now().UTC()
		at = &now
	}
	res := db.Gorm(ctx).Model(&Object{}).Where("id = ? AND deleted_at IS NULL", questionID).
		Updates(map[string]any{"accepted_answer_uri": answerURI, "answered_at": at})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "accept answer of %d", questionID)
	}
	return wrap(res.Error, "accept answer of %d", questionID)
}

// clearAcceptedAnswer leaves unanswered the question whose accepted
// answer is the object with id answerID: that answer was deleted or
// taken out of its community.
func (db *DB) clearAcceptedAnswer(ctx context.Context, answerID int64) error {
	err := db.Gorm(ctx).Model(&Object{}).
		Where("accepted_answer_uri <> '' AND accepted_answer_uri = (SELECT uri FROM objects WHERE id = ?)", answerID).
		Updates(map[string]any{"accepted_answer_uri": "", "answered_at": nil}).Error
	return wrap(err, "clear answer %d", answerID)
}

// QuestionFilter selects a community's questions.
type QuestionFilter struct {
	CommunityActorID int64
	// Unanswered leaves out questions with an accepted answer.
	Unanswered bool
	// HideLimited leaves out questions by authors on limited domains.
	HideLimited bool
	Offset      int
	Limit       int
}

// ListQuestions returns a community's live public questions, newest
// first.
func (db *DB) ListQuestions(ctx context.Context, f QuestionFilter) ([]Object, error) {
	q := db.Gorm(ctx).Model(&Object{}).
		Where("objects.community_actor_id = ? AND objects.kind = ? AND objects.in_reply_to_uri = '' AND objects.deleted_at IS NULL AND objects.visibility = ?",
			f.CommunityActorID, "question", VisibilityPublic)
	if f.Unanswered {
		q = q.Where("objects.accepted_answer_uri = ''")
	}
	if f.HideLimited {
		q = HideLimited(q)
	}
	var out []Object
	err := q.Preload("AuthorActor").Preload("CommunityActor").Order("objects.id DESC").
		Offset(f.Offset).Limit(f.Limit).Find(&out).Error
	return out, wrap(err, "list questions of %d", f.CommunityActorID)
}
