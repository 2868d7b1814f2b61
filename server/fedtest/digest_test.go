package fedtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// The weekly digest (issue 15 item 7): a post by the community naming
// the week's repertoire additions, answered questions and busiest
// threads, nothing older; sent to the members' servers, where it is the
// community's own post in the community. A quiet week posts nothing.
func TestWeeklyDigest(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) { weeklyDigest(t, d) })
	}
}

func weeklyDigest(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	a, b := fedtest.Start(t, d), fedtest.Start(t, storage.SQLite)
	olga, ned := a.Member("olga"), a.Member("ned")
	com := a.Community("practice", false, "olga")
	group := com.Actor
	bea := b.Member("bea")
	if _, err := b.Service.Join(ctx, bea, a.Handle("practice")); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "bea's join accepted", accepted(a, group.URI, bea.URI))
	b.Settled()
	if o, err := a.Service.PostDigest(ctx, "practice", time.Now()); err != nil || o != nil {
		t.Fatalf("the digest of a quiet week: %+v, %v", o, err)
	}
	post := func(who *storage.Actor, in federation.NewPost) *storage.Object {
		t.Helper()
		o, err := a.Service.Post(ctx, who, in)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	question := post(ned, federation.NewPost{Community: "practice", Kind: federation.KindQuestion, Title: "Night handover?", Text: "How?"})
	answer := post(olga, federation.NewPost{InReplyTo: question.URI, Text: "A sheet."})
	if _, err := a.Service.AcceptAnswer(ctx, ned, answer.URI); err != nil {
		t.Fatal(err)
	}
	guide := post(olga, federation.NewPost{Community: "practice", Kind: federation.KindResource, Title: "Handover & sheet", Text: "Print it."})
	if err := a.Service.Curate(ctx, olga, guide.URI, federation.RepertoireChange{Section: "Templates"}); err != nil {
		t.Fatal(err)
	}
	busy := post(ned, federation.NewPost{Community: "practice", Title: "Rotas", Text: "Rotas again"})
	for range 3 {
		post(olga, federation.NewPost{InReplyTo: busy.URI, Text: "More on rotas"})
	}
	// Answered two weeks ago: not this week's news.
	old := post(ned, federation.NewPost{Community: "practice", Kind: federation.KindQuestion, Title: "Old question", Text: "Old"})
	oldAnswer := post(olga, federation.NewPost{InReplyTo: old.URI, Text: "Old answer"})
	if _, err := a.Service.AcceptAnswer(ctx, ned, oldAnswer.URI); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.Gorm(ctx).Model(&storage.Object{}).Where("id IN ?", []int64{old.ID, oldAnswer.ID}).
		Updates(map[string]any{"answered_at": time.Now().Add(-14 * 24 * time.Hour), "published_at": time.Now().Add(-14 * 24 * time.Hour)}).Error; err != nil {
		t.Fatal(err)
	}
	a.Settled()

	digest, err := a.Service.PostDigest(ctx, "practice", time.Now())
	if err != nil || digest == nil {
		t.Fatalf("digest: %+v, %v", digest, err)
	}
	if digest.AuthorActorID != group.ID || digest.CommunityActorID == nil || *digest.CommunityActorID != group.ID || digest.Name != "The week in Practice" {
		t.Errorf("digest by %d in %v named %q", digest.AuthorActorID, derefID(digest.CommunityActorID), digest.Name)
	}
	c := digest.Content
	for _, want := range []string{"New in the repertoire", guide.URI, "Handover &amp; sheet", "Questions answered", question.URI,
		"Most active threads", busy.URI, "(3 replies)"} {
		if !strings.Contains(c, want) {
			t.Errorf("digest lacks %q:\n%s", want, c)
		}
	}
	if strings.Contains(c, old.URI) {
		t.Errorf("digest names a question answered two weeks ago:\n%s", c)
	}
	fedtest.Eventually(t, "the digest on B", func() (bool, error) {
		_, err := object(b, digest.URI)
		return err == nil, ignoreMissing(err)
	})
	onB, _ := object(b, digest.URI)
	groupOnB, err := b.DB.GetActorByURI(ctx, group.URI)
	if err != nil {
		t.Fatal(err)
	}
	if onB.AuthorActorID != groupOnB.ID || onB.CommunityActorID == nil || *onB.CommunityActorID != groupOnB.ID {
		t.Errorf("the digest on B: by %d in %v; want the community %d", onB.AuthorActorID, derefID(onB.CommunityActorID), groupOnB.ID)
	}
}
