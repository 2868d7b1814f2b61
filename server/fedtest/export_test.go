package fedtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// A community exported from A holds everything A knows of it, and
// imported into C as a new community keeps its threads, kinds, tags,
// accepted answer and repertoire, re-published by C's new community with
// their authors named (issue 15 item 7).
func TestCommunityExportImport(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) { communityExportImport(t, d) })
	}
}

func communityExportImport(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	a, b, c := fedtest.Start(t, d), fedtest.Start(t, storage.SQLite), fedtest.Start(t, d)
	olga, ned := a.Member("olga"), a.Member("ned")
	com := a.Community("practice", false, "olga")
	group := com.Actor
	if err := a.Service.SetWelcome(ctx, olga, "practice", "Read the repertoire first."); err != nil {
		t.Fatal(err)
	}
	bea := b.Member("bea")
	if _, err := b.Service.Join(ctx, bea, a.Handle("practice")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.Join(ctx, ned, a.Handle("practice")); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "bea's join accepted", accepted(a, group.URI, bea.URI))
	b.Settled()
	post := func(n *fedtest.Node, who *storage.Actor, in federation.NewPost) *storage.Object {
		t.Helper()
		o, err := n.Service.Post(ctx, who, in)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	question := post(a, ned, federation.NewPost{Community: "practice", Kind: federation.KindQuestion, Title: "Night handover?", Text: "How do you hand over at night? #handover"})
	story := post(a, olga, federation.NewPost{Community: "practice", Kind: federation.KindStory, Title: "The lost chart", Text: "Once we lost a chart <script>alert(1)</script>"})
	fedtest.Eventually(t, "the question on B", func() (bool, error) {
		_, err := object(b, question.URI)
		return err == nil, ignoreMissing(err)
	})
	answer := post(b, bea, federation.NewPost{InReplyTo: question.URI, Text: "A written sheet, read aloud."})
	fedtest.Eventually(t, "bea's answer on A", func() (bool, error) {
		_, err := object(a, answer.URI)
		return err == nil, ignoreMissing(err)
	})
	thanks := post(a, ned, federation.NewPost{InReplyTo: answer.URI, Text: "Thanks, trying it."})
	if _, err := a.Service.AcceptAnswer(ctx, ned, answer.URI); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []struct {
		uri, section string
	}{{story.URI, "Cases"}, {question.URI, "Start here"}} {
		if err := a.Service.Curate(ctx, olga, ch.uri, federation.RepertoireChange{Section: ch.section}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Service.LockPost(ctx, olga, story.URI, true, federation.Reason{Text: "Finished", Private: true}); err != nil {
		t.Fatal(err)
	}
	a.Settled()

	exp, err := a.Service.ExportCommunity(ctx, "practice")
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON, as the file carries it.
	raw, err := json.Marshal(exp)
	if err != nil {
		t.Fatal(err)
	}
	var file federation.CommunityExport
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if file.Format != federation.ExportFormat || file.Community.Name != "practice" || file.Community.Welcome != "Read the repertoire first." {
		t.Errorf("export head: %+v", file.Community)
	}
	var members []string
	for _, m := range file.Members {
		if m.State == storage.StateAccepted {
			members = append(members, m.URI)
		}
	}
	slices.Sort(members)
	want := []string{olga.URI, ned.URI, bea.URI}
	slices.Sort(want)
	if !slices.Equal(members, want) {
		t.Errorf("exported members %v, want %v", members, want)
	}
	if len(file.Moderators) != 1 || file.Moderators[0].URI != olga.URI {
		t.Errorf("exported moderators %+v", file.Moderators)
	}
	var uris []string
	for _, p := range file.Posts {
		uris = append(uris, p.URI)
	}
	if !slices.Equal(uris, []string{question.URI, story.URI, answer.URI, thanks.URI}) {
		t.Errorf("exported posts %v", uris)
	}
	if q := file.Posts[0]; q.AcceptedAnswer != answer.URI || q.Kind != "question" || q.Title != "Night handover?" || !slices.Contains(q.Tags, "handover") {
		t.Errorf("exported question %+v", q)
	}
	if len(file.Repertoire) != 2 || file.Repertoire[0].Post != story.URI || file.Repertoire[0].Section != "Cases" {
		t.Errorf("exported repertoire %+v", file.Repertoire)
	}
	if !slices.ContainsFunc(file.ModLog, func(m federation.ExportedAction) bool {
		return m.Object == story.URI && m.Reason == "Finished" && m.ReasonPrivate
	}) {
		t.Errorf("the lock is not in the exported modlog: %+v", file.ModLog)
	}

	// Into C, under another name.
	c.Member("carla")
	rep, err := c.Service.ImportCommunity(ctx, "test", &file, "practice_archive", "carla")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Posts != 2 || rep.Replies != 2 || rep.Repertoire != 2 || rep.Members != 3 || rep.Skipped != 0 {
		t.Errorf("import report %+v", rep)
	}
	ng := rep.Community.Actor
	if ng.URI != c.URL+"/c/practice_archive" || rep.Community.Title != com.Title {
		t.Errorf("imported community %s %q", ng.URI, rep.Community.Title)
	}
	if w, err := c.DB.Welcome(ctx, ng.ID); err != nil || w != "Read the repertoire first." {
		t.Errorf("imported welcome %q, %v", w, err)
	}
	posts, err := c.DB.ListCommunityPosts(ctx, ng.ID, 0, 10)
	if err != nil || len(posts) != 4 {
		t.Fatalf("imported posts: %d, %v", len(posts), err)
	}
	q, s, ans, th := posts[0], posts[1], posts[2], posts[3]
	for _, p := range posts {
		if p.AuthorActorID != ng.ID || !p.Local || !strings.HasPrefix(p.URI, c.URL+"/o/") {
			t.Errorf("imported post %s by %d, local %v", p.URI, p.AuthorActorID, p.Local)
		}
	}
	if q.Kind != "question" || q.Name != "Night handover?" || q.AcceptedAnswerURI != ans.URI || q.ContextURI != q.URI {
		t.Errorf("imported question %+v", q)
	}
	if ans.InReplyToID == nil || *ans.InReplyToID != q.ID || th.InReplyToID == nil || *th.InReplyToID != ans.ID || th.ContextURI != q.URI || th.ReplyDepth != 2 {
		t.Errorf("imported thread: answer %+v, thanks %+v", ans, th)
	}
	if !strings.Contains(ans.Content, "@"+bea.Handle()) || !strings.Contains(ans.Content, answer.URI) {
		t.Errorf("the imported answer does not name its author and original: %s", ans.Content)
	}
	if strings.Contains(s.Content, "<script") || s.LockedAt == nil {
		t.Errorf("imported story: locked %v, content %s", s.LockedAt, s.Content)
	}
	items, err := c.DB.ListRepertoire(ctx, ng.ID, 10)
	if err != nil || len(items) != 2 || items[0].ObjectID != s.ID || items[0].Section != "Cases" || items[1].ObjectID != q.ID {
		t.Errorf("imported repertoire %+v, %v", items, err)
	}
	hits, err := c.DB.Search(ctx, storage.SearchFilter{Query: "aloud", CommunityActorID: ng.ID, Limit: 5})
	if err != nil || len(hits) != 1 {
		t.Errorf("search of the imported answer: %d hits, %v", len(hits), err)
	}
	if tags, err := c.DB.ObjectTags(ctx, []int64{q.ID}); err != nil || !slices.Contains(tags[q.ID], "handover") {
		t.Errorf("imported tags %v, %v", tags, err)
	}

	// Again under the same name: refused, nothing more made.
	if _, err := c.Service.ImportCommunity(ctx, "test", &file, "practice_archive", ""); !errors.Is(err, storage.ErrConflict) && !errors.Is(err, federation.ErrInvalid) {
		t.Errorf("an import over an existing community: %v", err)
	}
	bad := file
	bad.Format = "mastodon-archive"
	if _, err := c.Service.ImportCommunity(ctx, "test", &bad, "other", ""); !errors.Is(err, federation.ErrInvalid) {
		t.Errorf("an import of another format: %v", err)
	}
	if _, err := c.DB.GetCommunityByName(ctx, "other"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a refused import made a community: %v", err)
	}
}
