package federation

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// InboxOptions tunes the inbound processing workers.
type InboxOptions struct {
	Workers int           // concurrent activities (default 4; the server's setting defaults to 16)
	Poll    time.Duration // how often to look for work without a wake-up (default 1s)
	Lease   time.Duration // how long a claimed activity is ours (default 2m)
	// RetryBase is the delay before the first retry of an activity that
	// failed for a passing reason, doubled per attempt (default 30s).
	RetryBase time.Duration
}

// maxProcessAttempts bounds retries of an activity that fails for a
// passing reason (a remote server down while we fetch from it).
const maxProcessAttempts = 8

func (s *Service) wakeInbox() {
	select {
	case s.inboxWake <- struct{}{}:
	default:
	}
}

// RunInbox processes queued inbound activities until ctx is done, then
// waits for the ones in progress. Every replica runs it; claims keep them
// from doing the same work twice.
func (s *Service) RunInbox(ctx context.Context, o InboxOptions) error {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 30 * time.Second
	}
	fin := &finisher{db: s.DB, log: s.Log}
	slots := make(chan struct{}, o.Workers)
	var wg sync.WaitGroup
	defer fin.flush() // after the workers (deferred calls run last first)
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	// Claims are made for several activities at once: a claim is a write
	// transaction, and making one for each activity as its slot freed
	// cost as much as the activity's own. A claim waits until a quarter
	// of the slots are free, unless nothing is in progress.
	minClaim := max(1, o.Workers/4)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-s.inboxWake:
		}
		for {
			free := o.Workers - len(slots)
			if free == 0 || free < minClaim && free < o.Workers {
				break
			}
			batch, err := s.DB.ClaimInboundActivities(ctx, time.Now().UTC(), o.Lease, free)
			if err != nil {
				if ctx.Err() == nil {
					s.Log.Error("claim inbound activities", "err", err)
				}
				break
			}
			for i := range batch {
				slots <- struct{}{}
				wg.Add(1)
				go func(a storage.Activity) {
					defer wg.Done()
					// A free slot claims the next activities at once, not at
					// the next poll: a backlog drains at full speed.
					defer func() { <-slots; s.wakeInbox() }()
					// Finish the work even if shutdown begins meanwhile.
					s.processOne(context.WithoutCancel(ctx), &a, o.RetryBase, fin)
				}(batch[i])
			}
			if len(batch) < free {
				break
			}
		}
		timer.Reset(o.Poll)
	}
}

// processOne handles one claimed activity and records the outcome; a
// success is recorded by fin, in a batch.
func (s *Service) processOne(ctx context.Context, row *storage.Activity, retryBase time.Duration, fin *finisher) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// An activity that changed nothing keeps only its id, type, actor
	// and object, not its body (storage.FinishUnchangedActivities).
	ctx, writes := storage.TrackWrites(ctx)
	err := s.Process(ctx, row)
	fail := s.DB.FailActivity
	if !writes.Changed() {
		fail = s.DB.FailUnchangedActivity
	}
	log := s.Log.With("activity", row.URI, "type", row.Type, "attempt", row.Attempts+1)
	switch {
	case err == nil:
		if writes.Changed() {
			fin.add(row.ID)
		} else {
			fin.addUnchanged(row.ID)
		}
	case permanent(err) || row.Attempts+1 >= maxProcessAttempts:
		log.Info("activity refused", "err", err)
		if err := fail(ctx, row.ID, err.Error()); err != nil {
			log.Error("fail activity", "err", err)
		}
	default:
		delay := time.Duration(float64(retryBase<<row.Attempts) * (0.5 + rand.Float64()))
		log.Warn("activity will be retried", "err", err, "in", delay)
		if err := s.DB.RetryActivity(ctx, row.ID, err.Error(), time.Now().Add(delay)); err != nil {
			log.Error("retry activity", "err", err)
		}
	}
}

// permanent reports whether retrying cannot help.
func permanent(err error) bool {
	var se *transport.StatusError
	if errors.As(err, &se) {
		return !se.Temporary()
	}
	return errors.Is(err, ErrInvalid) || errors.Is(err, ErrForbidden) || errors.Is(err, ErrUnauthorized) ||
		errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) ||
		errors.Is(err, vocab.ErrInvalid) || errors.Is(err, vocab.ErrTooDeep) ||
		errors.Is(err, transport.ErrForbiddenAddress) || errors.Is(err, transport.ErrBadURL) ||
		errors.Is(err, transport.ErrTooLarge)
}

// Process applies one accepted inbound activity. Its signature and origin
// were checked when it was accepted.
func (s *Service) Process(ctx context.Context, row *storage.Activity) error {
	raw := []byte(row.Raw)
	act, err := vocab.ParseActivity(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	// The policy may have changed since the activity was accepted.
	if err := s.refuse(ctx, string(act.Actor)); err != nil {
		return err
	}
	actor, err := s.Actor(ctx, string(act.Actor))
	if err != nil {
		return fmt.Errorf("actor %s: %w", act.Actor, err)
	}
	return s.dispatch(ctx, act, raw, actor)
}

// dispatch is the one door: inbox activities and local members' actions on
// local communities both arrive here.
func (s *Service) dispatch(ctx context.Context, act *vocab.Activity, raw []byte, actor *storage.Actor) error {
	switch act.Type {
	case vocab.TypeFollow:
		return s.onFollow(ctx, act, raw, actor)
	case vocab.TypeUndo:
		return s.onUndo(ctx, act, raw, actor)
	case vocab.TypeAccept, vocab.TypeReject:
		if isAnswerAccept(act) {
			return s.onAcceptAnswer(ctx, act, raw, actor, false)
		}
		return s.onFollowAnswer(ctx, act, actor)
	case vocab.TypeCreate:
		return s.onCreate(ctx, act, raw, actor)
	case vocab.TypeUpdate:
		return s.onUpdate(ctx, act, raw, actor)
	case vocab.TypeDelete:
		return s.onDelete(ctx, act, raw, actor)
	case vocab.TypeLike:
		return s.onLike(ctx, act, raw, actor)
	case vocab.TypeAnnounce:
		return s.onAnnounce(ctx, act, actor)
	case vocab.TypeLock:
		return s.onLock(ctx, act, raw, actor, act.Object.ID(), true)
	case vocab.TypeFlag:
		return s.onFlag(ctx, act, actor)
	case vocab.TypeBlock:
		return s.onBlock(ctx, act, raw, actor)
	case vocab.TypeAdd, vocab.TypeRemove:
		// Moderators, and a community's featured posts (its repertoire);
		// people's pins are not followed here.
		if s.isModeratorsTarget(ctx, act) {
			return s.onModerators(ctx, act, actor)
		}
		if g := s.localFeatured(ctx, act.Target.ID()); g != nil {
			return s.onCurate(ctx, act, raw, actor, g)
		}
		if actor.Type == storage.TypeGroup && !actor.Local && isFeaturedOf(act, actor) {
			return s.syncFeaturedOfFollowed(ctx, actor)
		}
	}
	return nil
}
