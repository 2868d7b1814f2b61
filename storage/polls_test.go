package storage_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

func TestPolls(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		author := localActor("alice", storage.TypePerson)
		bob := localActor("bob", storage.TypePerson)
		remote := &storage.Actor{URI: "http://remote.test/u/carol", Type: storage.TypePerson, Username: "carol", Domain: "remote.test",
			InboxURI: "http://remote.test/u/carol/inbox", SharedInboxURI: "http://remote.test/inbox", KeyID: "http://remote.test/u/carol#k", PublicKeyPEM: "pem"}
		for _, a := range []*storage.Actor{author, bob, remote} {
			if err := db.CreateActor(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now().UTC().Truncate(time.Second)
		newPoll := func(uri string, multiple bool, expires time.Time) *storage.Poll {
			o := &storage.Object{URI: uri, Type: "Question", AuthorActorID: author.ID, PublishedAt: now, Visibility: storage.VisibilityPublic}
			if err := db.CreateObject(ctx, o); err != nil {
				t.Fatal(err)
			}
			zero := int64(0)
			p := &storage.Poll{ObjectID: o.ID, Options: []string{"yes", "no", "maybe"}, Multiple: multiple, VotersCount: &zero, ExpiresAt: &expires}
			if err := db.CreatePoll(ctx, p); err != nil {
				t.Fatal(err)
			}
			return p
		}

		one := newPoll("http://example.test/o/one", false, now.Add(time.Hour))
		due := now.Add(time.Minute)
		if _, err := db.CastVotes(ctx, storage.Ballot{PollID: one.ID, ActorID: bob.ID, Choices: []int{0, 1}, Now: now}); err == nil {
			t.Fatal("two choices on a single-choice poll were accepted")
		}
		p, err := db.CastVotes(ctx, storage.Ballot{PollID: one.ID, ActorID: bob.ID, Choices: []int{1}, Now: now, UpdateDue: &due})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.Tallies, []int64{0, 1, 0}) || p.VotesCount != 1 || *p.VotersCount != 1 || p.UpdateDueAt == nil {
			t.Fatalf("after one vote: %+v", p)
		}
		if _, err := db.CastVotes(ctx, storage.Ballot{PollID: one.ID, ActorID: bob.ID, Choices: []int{2}, Now: now}); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("second vote on a single-choice poll: %v, want ErrConflict", err)
		}
		uri := "http://remote.test/u/carol#votes/1"
		if _, err := db.CastVotes(ctx, storage.Ballot{PollID: one.ID, ActorID: remote.ID, Choices: []int{1}, URIs: []string{uri}, Now: now}); err != nil {
			t.Fatal(err)
		}

		many := newPoll("http://example.test/o/many", true, now.Add(time.Hour))
		if _, err := db.CastVotes(ctx, storage.Ballot{PollID: many.ID, ActorID: bob.ID, Choices: []int{0, 2}, Now: now}); err != nil {
			t.Fatal(err)
		}
		// Once per voter and option: a repeat of option 2 counts only 1.
		p, err = db.CastVotes(ctx, storage.Ballot{PollID: many.ID, ActorID: bob.ID, Choices: []int{2, 1}, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.Tallies, []int64{1, 1, 1}) || p.VotesCount != 3 || *p.VotersCount != 1 {
			t.Fatalf("multiple choice: %+v", p)
		}
		if _, err := db.CastVotes(ctx, storage.Ballot{PollID: many.ID, ActorID: bob.ID, Choices: []int{0}, Now: now}); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("repeated option: %v, want ErrConflict", err)
		}

		views, err := db.PollsOf(ctx, []int64{one.ObjectID, many.ObjectID}, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := views[many.ObjectID].OwnVotes; !slices.Equal(got, []int{0, 1, 2}) {
			t.Fatalf("own votes %v", got)
		}
		if got := views[one.ObjectID]; !slices.Equal(got.OwnVotes, []int{1}) || *got.VotersCount != 2 || got.Tallies[1] != 2 {
			t.Fatalf("single-choice poll as bob sees it: %+v", got)
		}
		if anon, err := db.PollsOf(ctx, []int64{one.ObjectID}, 0); err != nil || len(anon[one.ObjectID].OwnVotes) != 0 {
			t.Fatalf("anonymous view %+v %v", anon, err)
		}
		inboxes, err := db.PollVoterInboxes(ctx, one.ID)
		if err != nil || !slices.Equal(inboxes, []string{"http://remote.test/inbox"}) {
			t.Fatalf("voter inboxes %v %v", inboxes, err)
		}
		local, err := db.LocalPollVoters(ctx, one.ID)
		if err != nil || !slices.Equal(local, []int64{bob.ID}) {
			t.Fatalf("local voters %v %v", local, err)
		}

		// Updates due are claimed once.
		got, err := db.ClaimPollUpdates(ctx, now.Add(2*time.Minute), 10)
		if err != nil || len(got) != 1 || got[0].ID != one.ID || len(got[0].Options) != 3 {
			t.Fatalf("claimed updates %+v %v", got, err)
		}
		if again, err := db.ClaimPollUpdates(ctx, now.Add(2*time.Minute), 10); err != nil || len(again) != 0 {
			t.Fatalf("claimed again %+v %v", again, err)
		}

		// Ended polls refuse votes and are claimed for closing once.
		ended := newPoll("http://example.test/o/ended", false, now.Add(-time.Second))
		if _, err := db.CastVotes(ctx, storage.Ballot{PollID: ended.ID, ActorID: bob.ID, Choices: []int{0}, Now: now}); !errors.Is(err, storage.ErrPollExpired) {
			t.Fatalf("vote on an ended poll: %v", err)
		}
		closed, err := db.ClaimEndedPolls(ctx, now, 10)
		if err != nil || len(closed) != 1 || closed[0].ID != ended.ID || closed[0].ClosedAt == nil {
			t.Fatalf("claimed ended %+v %v", closed, err)
		}
		if again, err := db.ClaimEndedPolls(ctx, now, 10); err != nil || len(again) != 0 {
			t.Fatalf("claimed ended again %+v %v", again, err)
		}

		// A refresh is claimed once a minute, and not after the end once
		// read after it.
		if ok, err := db.ClaimPollRefresh(ctx, one.ID, now, time.Minute); err != nil || !ok {
			t.Fatalf("first refresh %v %v", ok, err)
		}
		if ok, err := db.ClaimPollRefresh(ctx, one.ID, now.Add(30*time.Second), time.Minute); err != nil || ok {
			t.Fatalf("refresh within a minute %v %v", ok, err)
		}
		if ok, err := db.ClaimPollRefresh(ctx, one.ID, now.Add(2*time.Minute), time.Minute); err != nil || !ok {
			t.Fatalf("refresh after a minute %v %v", ok, err)
		}
		if ok, err := db.ClaimPollRefresh(ctx, one.ID, now.Add(3*time.Hour), time.Minute); err != nil || !ok {
			t.Fatalf("refresh after the end, read before it %v %v", ok, err)
		}
		if ok, err := db.ClaimPollRefresh(ctx, one.ID, now.Add(5*time.Hour), time.Minute); err != nil || ok {
			t.Fatalf("refresh of an ended poll read after its end %v %v", ok, err)
		}

		// A remote server's totals replace ours.
		voters := int64(7)
		if err := db.SetPollResults(ctx, one.ID, storage.PollResults{Tallies: []int64{3, 4, 5}, VotersCount: &voters}); err != nil {
			t.Fatal(err)
		}
		if p, err := db.GetPoll(ctx, one.ID); err != nil || p.VotesCount != 12 || *p.VotersCount != 7 || p.ExpiresAt != nil {
			t.Fatalf("after results: %+v %v", p, err)
		}

		// Edited options: a new poll, the votes cast here gone.
		if err := db.ResetPoll(ctx, one.ID, []string{"soon", "later"}, true, storage.PollResults{Tallies: []int64{2, 1}}); err != nil {
			t.Fatal(err)
		}
		p, err = db.GetPoll(ctx, one.ID)
		if err != nil || !slices.Equal(p.Options, []string{"soon", "later"}) || !p.Multiple || p.VotesCount != 3 || p.ClosedAt != nil {
			t.Fatalf("after the reset: %+v %v", p, err)
		}
		if views, err := db.PollsOf(ctx, []int64{one.ObjectID}, bob.ID); err != nil || len(views[one.ObjectID].OwnVotes) != 0 {
			t.Fatalf("bob's votes after the reset: %+v %v", views[one.ObjectID], err)
		}
	})
}
