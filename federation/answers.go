package federation

import (
	"context"
	"errors"
	"fmt"

	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Accepted answers (issue 15, item 2; docs/federation.md). The asker or a
// moderator of the question's community accepts a reply in the question's
// thread as its answer: Accept{object: answer, target: question} from the
// one who accepts, sent to the community, which applies it and announces
// it to its members' servers as it announces a lock. Undo{Accept} withdraws
// it. Servers that do not know it see an Accept they match to no Follow and
// drop. The question's Note names its answer as acceptedAnswer.

// AcceptAnswer accepts answerURI, a reply in a question's thread, as the
// question's answer, by its asker or a moderator of its community. It
// returns the question.
func (s *Service) AcceptAnswer(ctx context.Context, by *storage.Actor, answerURI string) (*storage.Object, error) {
	if !by.Local {
		return nil, fmt.Errorf("%w: only local members act from here", ErrForbidden)
	}
	answer, err := s.DB.GetObjectByURI(ctx, answerURI)
	if err != nil {
		return nil, err
	}
	question, err := s.questionOf(ctx, answer)
	if err != nil {
		return nil, err
	}
	g := question.CommunityActor
	if err := s.mayAccept(ctx, by, question); err != nil {
		return nil, err
	}
	if question.AcceptedAnswerURI == answer.URI {
		return question, nil
	}
	body, err := s.modActivity(vocab.TypeAccept, by, g, vocab.RefsTo(answer.URI), func(a *vocab.Activity) {
		a.Target = vocab.NewRef(question.URI)
	})
	if err != nil {
		return nil, err
	}
	if err := s.moderate(ctx, by, g, body, Reason{}, s.askerInbox(question)); err != nil {
		return nil, err
	}
	if !g.Local {
		// The community announces it back only when other members live
		// here: our copy follows at once, as for a lock.
		if err := s.DB.SetAcceptedAnswer(ctx, question.ID, answer.URI); err != nil {
			return nil, err
		}
	}
	return s.DB.GetObjectByURI(ctx, question.URI)
}

// UnacceptAnswer withdraws the accepted answer of a question, by its asker
// or a moderator of its community. objectURI is the question or a reply
// in its thread. It returns the question.
func (s *Service) UnacceptAnswer(ctx context.Context, by *storage.Actor, objectURI string) (*storage.Object, error) {
	if !by.Local {
		return nil, fmt.Errorf("%w: only local members act from here", ErrForbidden)
	}
	o, err := s.DB.GetObjectByURI(ctx, objectURI)
	if err != nil {
		return nil, err
	}
	question := o
	if o.InReplyToID != nil {
		if question, err = s.questionOf(ctx, o); err != nil {
			return nil, err
		}
	} else if err := checkQuestion(question); err != nil {
		return nil, err
	}
	if err := s.mayAccept(ctx, by, question); err != nil {
		return nil, err
	}
	if question.AcceptedAnswerURI == "" {
		return question, nil
	}
	g := question.CommunityActor
	inner, err := s.modActivity(vocab.TypeAccept, by, g, vocab.RefsTo(question.AcceptedAnswerURI), func(a *vocab.Activity) {
		a.Target = vocab.NewRef(question.URI)
	})
	if err != nil {
		return nil, err
	}
	if prev, err := s.DB.FindLocalActivity(ctx, vocab.TypeAccept, by.URI, question.AcceptedAnswerURI); err == nil {
		inner = []byte(prev.Raw)
	}
	body, err := s.undoOf(by, g, inner, "")
	if err != nil {
		return nil, err
	}
	if err := s.moderate(ctx, by, g, body, Reason{}, s.askerInbox(question)); err != nil {
		return nil, err
	}
	if !g.Local {
		if err := s.DB.SetAcceptedAnswer(ctx, question.ID, ""); err != nil {
			return nil, err
		}
	}
	return s.DB.GetObjectByURI(ctx, question.URI)
}

// askerInbox is the question's author's inbox when their server is not
// ours: it serves the question, with its accepted answer, and hears of
// it even when no member of the community lives there.
func (s *Service) askerInbox(question *storage.Object) []string {
	if a := question.AuthorActor; a != nil && !a.Local && a.InboxURI != "" {
		return []string{a.InboxURI}
	}
	return nil
}

// checkQuestion refuses a post that cannot have an accepted answer: only a
// live question in a community can.
func checkQuestion(q *storage.Object) error {
	if q.DeletedAt != nil || q.Kind != KindQuestion || q.InReplyToURI != "" || q.CommunityActor == nil {
		return fmt.Errorf("%w: %s is not a live question in a community", ErrInvalid, q.URI)
	}
	return nil
}

// questionOf returns the question whose thread answer is in: the first
// post up its chain of replies, which must be a live question in a
// community. The answer must be live and in the same community.
func (s *Service) questionOf(ctx context.Context, answer *storage.Object) (*storage.Object, error) {
	if answer.DeletedAt != nil || answer.InReplyToID == nil {
		return nil, fmt.Errorf("%w: %s is not a live reply", ErrInvalid, answer.URI)
	}
	up, err := s.DB.ListAncestors(ctx, answer.ID, nil, MaxReplyDepth)
	if err != nil {
		return nil, err
	}
	if len(up) == 0 || up[len(up)-1].InReplyToID != nil {
		return nil, fmt.Errorf("%w: the thread of %s does not start here", ErrInvalid, answer.URI)
	}
	q := &up[len(up)-1]
	if err := checkQuestion(q); err != nil {
		return nil, err
	}
	if answer.CommunityActorID == nil || *answer.CommunityActorID != *q.CommunityActorID {
		return nil, fmt.Errorf("%w: %s is not in the question's community", ErrInvalid, answer.URI)
	}
	return q, nil
}

// mayAccept refuses an actor who is neither the question's author nor a
// moderator of its community.
func (s *Service) mayAccept(ctx context.Context, actor *storage.Actor, question *storage.Object) error {
	if actor.ID == question.AuthorActorID {
		return nil
	}
	ok, err := s.mayModerate(ctx, actor, question.CommunityActor)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: only the asker or a moderator accepts an answer to %s", ErrForbidden, question.URI)
	}
	return nil
}

// isAnswerAccept reports whether an Accept (or the Accept an Undo undoes)
// is of an answer: it has a target. An Accept of a Follow has none.
func isAnswerAccept(act *vocab.Activity) bool {
	return act != nil && act.Type == vocab.TypeAccept && act.Target.ID() != ""
}

// answerOf loads the question and answer an Accept names, checking the
// answer is a reply in the question's thread; nil when either is not here
// (nothing to apply).
func (s *Service) answerOf(ctx context.Context, act *vocab.Activity) (question, answer *storage.Object, err error) {
	question, err = s.DB.GetObjectByURI(ctx, act.Target.ID())
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	if err := checkQuestion(question); err != nil {
		return nil, nil, err
	}
	answer, err = s.DB.GetObjectByURI(ctx, act.Object.ID())
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	q, err := s.questionOf(ctx, answer)
	if err != nil {
		return nil, nil, err
	}
	if q.ID != question.ID {
		return nil, nil, fmt.Errorf("%w: %s does not answer %s", ErrInvalid, answer.URI, question.URI)
	}
	return question, answer, nil
}

// onAcceptAnswer applies an Accept of an answer (on undo: its Undo) sent
// to us. In a local community, by the asker or one of its moderators:
// applied and announced to the members' servers. In a remote community
// (the asker's server hears of it directly): applied when it comes from the
// asker or a moderator we know of; the community's own Announce is
// announcedAccept.
func (s *Service) onAcceptAnswer(ctx context.Context, inner *vocab.Activity, raw []byte, actor *storage.Actor, undo bool) error {
	question, answer, err := s.answerOf(ctx, inner)
	if err != nil || question == nil {
		return err
	}
	if err := s.mayAccept(ctx, actor, question); err != nil {
		return err
	}
	uri := answer.URI
	if undo {
		if question.AcceptedAnswerURI != answer.URI {
			return nil // another answer was accepted since
		}
		uri = ""
	}
	community, err := localCommunityOf(ctx, s.DB, question)
	if err != nil {
		return err
	}
	if community == nil {
		return s.DB.SetAcceptedAnswer(ctx, question.ID, uri)
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.SetAcceptedAnswer(ctx, question.ID, uri); err != nil {
			return err
		}
		return s.announceToMembers(ctx, tx, community, raw)
	})
	if err == nil {
		s.notifyDeliveries()
		s.Log.Info("answer accepted", "question", question.URI, "answer", answer.URI, "by", actor.URI, "undo", undo)
	}
	return err
}

// announcedAccept applies a remote community's Announce of an Accept of an
// answer (or its Undo) to a question in that community, when the Accept is
// the asker's, a moderator's we know of, or the community's own.
func (s *Service) announcedAccept(ctx context.Context, inner *vocab.Activity, group *storage.Actor, undo bool) error {
	question, answer, err := s.answerOf(ctx, inner)
	if err != nil || question == nil {
		return err
	}
	if question.CommunityActorID == nil || *question.CommunityActorID != group.ID {
		return nil
	}
	by, err := s.DB.GetActorByURI(ctx, string(inner.Actor))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if err := s.mayAccept(ctx, by, question); err != nil {
		s.Log.Info("announced accept ignored", "question", question.URI, "by", by.URI, "err", err)
		return nil
	}
	uri := answer.URI
	if undo {
		if question.AcceptedAnswerURI != answer.URI {
			return nil
		}
		uri = ""
	}
	return s.DB.SetAcceptedAnswer(ctx, question.ID, uri)
}

// MayAccept reports whether actor may accept an answer to question (for
// pages deciding whether to offer it).
func (s *Service) MayAccept(ctx context.Context, actor *storage.Actor, question *storage.Object) bool {
	return checkQuestion(question) == nil && s.mayAccept(ctx, actor, question) == nil
}
