package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// A question's accepted answer is recorded and listed; deleting the
// answer, or taking it out of the community, leaves the question
// unanswered again.
func TestAcceptedAnswers(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newClientAPIFixture(t, db)
		question := func(uri string) *storage.Object {
			o := post(t, db, uri, f.member, f.group, nil)
			if err := db.Gorm(ctx).Model(o).Update("kind", "question").Error; err != nil {
				t.Fatal(err)
			}
			return o
		}
		q1, q2 := question("http://example.test/o/q1"), question("http://example.test/o/q2")
		post(t, db, "http://example.test/o/story", f.member, f.group, nil) // a discussion: never listed
		a1 := post(t, db, "http://example.test/o/a1", f.member, f.group, q1)
		a2 := post(t, db, "http://example.test/o/a2", f.member, f.group, q2)

		unanswered := func(want ...string) {
			t.Helper()
			list, err := db.ListQuestions(ctx, storage.QuestionFilter{CommunityActorID: f.group.ID, Unanswered: true, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range list {
				got = append(got, o.URI)
			}
			if len(got) != len(want) {
				t.Fatalf("unanswered %v, want %v", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("unanswered %v, want %v", got, want)
				}
			}
		}
		unanswered(q2.URI, q1.URI)
		if err := db.SetAcceptedAnswer(ctx, q1.ID, a1.URI); err != nil {
			t.Fatal(err)
		}
		if err := db.SetAcceptedAnswer(ctx, q2.ID, a2.URI); err != nil {
			t.Fatal(err)
		}
		unanswered()
		got, err := db.GetObjectByURI(ctx, q1.URI)
		if err != nil || got.AcceptedAnswerURI != a1.URI || got.AnsweredAt == nil {
			t.Fatalf("q1 answer %q at %v (%v)", got.AcceptedAnswerURI, got.AnsweredAt, err)
		}
		all, err := db.ListQuestions(ctx, storage.QuestionFilter{CommunityActorID: f.group.ID, Limit: 10})
		if err != nil || len(all) != 2 {
			t.Fatalf("questions %d (%v)", len(all), err)
		}

		// The answer goes: the question is open again.
		if err := db.TombstoneObject(ctx, a1.ID, a1.PublishedAt); err != nil {
			t.Fatal(err)
		}
		unanswered(q1.URI)
		if err := db.DetachObject(ctx, a2.ID); err != nil {
			t.Fatal(err)
		}
		unanswered(q2.URI, q1.URI)
		got, err = db.GetObjectByURI(ctx, q2.URI)
		if err != nil || got.AcceptedAnswerURI != "" || got.AnsweredAt != nil {
			t.Fatalf("q2 after its answer's removal: %q at %v (%v)", got.AcceptedAnswerURI, got.AnsweredAt, err)
		}

		// Unaccepting, and a deleted question.
		if err := db.SetAcceptedAnswer(ctx, q1.ID, "http://example.test/o/other"); err != nil {
			t.Fatal(err)
		}
		if err := db.SetAcceptedAnswer(ctx, q1.ID, ""); err != nil {
			t.Fatal(err)
		}
		unanswered(q2.URI, q1.URI)
		if err := db.TombstoneObject(ctx, q2.ID, q2.PublishedAt); err != nil {
			t.Fatal(err)
		}
		unanswered(q1.URI)
		if err := db.SetAcceptedAnswer(ctx, q2.ID, a2.URI); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("answering a deleted question: %v", err)
		}
	})
}
