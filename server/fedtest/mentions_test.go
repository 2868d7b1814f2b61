package fedtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// servedNote fetches a post at its id as another server would.
func servedNote(t *testing.T, uri string) *vocab.Object {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, uri, nil)
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	o, err := vocab.ParseObject(body)
	if err != nil {
		t.Fatalf("%s: %v: %s", uri, err, body)
	}
	return o
}

func tagged(o *vocab.Object, typ, href, name string) bool {
	for _, tg := range o.Tag {
		if tg.Type == typ && (href == "" || tg.Href == href) && (name == "" || strings.EqualFold(tg.Name, name)) {
			return true
		}
	}
	return false
}

// Members mention each other (@olga here, @alice@host anywhere): linked,
// tagged, addressed, delivered and notified; a reply mentions the author
// it answers; hashtags and URLs are linked, the Note served at its id
// carries every tag, and an edit re-indexes hashtags.
func TestMentionsHashtagsLinks(t *testing.T) {
	ctx := context.Background()
	a := fedtest.Start(t, storage.SQLite)
	bea, olga := a.Member("bea"), a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	m := fedtest.NewMastodon(t)
	if _, code := m.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
		t.Fatalf("Follow: %d", code)
	}
	fedtest.Eventually(t, "alice joins", accepted(a, group.URI, m.ActorURI()))

	post, err := a.Service.Post(ctx, bea, federation.NewPost{Community: "practice",
		Text: "Hi @olga and @" + m.Handle() + ", see https://example.org/a?b=1#c and #Sepsis, not me@mail.example"})
	if err != nil {
		t.Fatal(err)
	}
	// (Stored content is sanitised, which reorders attributes.)
	for _, want := range []string{
		`href="` + olga.URI + `"`, `>@<span>olga</span></a></span> and`,
		`>@<span>alice</span></a></span>, see`,
		`href="https://example.org/a?b=1#c"`, `>https://example.org/a?b=1#c</a> and`,
		`href="` + a.URL + `/tags/sepsis"`, `>#<span>Sepsis</span></a>, not me@mail.example`,
	} {
		if !strings.Contains(post.Content, want) {
			t.Errorf("content lacks %s:\n%s", want, post.Content)
		}
	}
	note := servedNote(t, post.URI)
	for _, want := range []struct{ typ, href, name string }{
		{"Mention", group.URI, "@" + a.Handle("practice")},
		{"Mention", olga.URI, "@" + a.Handle("olga")},
		{"Mention", m.ActorURI(), "@" + m.Handle()},
		{"Hashtag", a.URL + "/tags/sepsis", "#sepsis"},
	} {
		if !tagged(note, want.typ, want.href, want.name) {
			t.Errorf("the Note served at its id lacks %+v: %+v", want, note.Tag)
		}
	}
	if !contains(note.CC, m.ActorURI()) || !contains(note.CC, olga.URI) {
		t.Errorf("the Note does not address the people it mentions: cc %v", note.CC)
	}
	create := m.WaitFor("bea's Create delivered to the account she mentions", is("Create", bea.URI, post.URI))
	var sent struct {
		Object vocab.Object `json:"object"`
	}
	json.Unmarshal(create.Raw, &sent)
	if !tagged(&sent.Object, "Mention", m.ActorURI(), "") {
		t.Errorf("the delivered Create has no Mention of alice: %s", create.Raw)
	}
	fedtest.Eventually(t, "olga notified of the mention", notified(a, olga, storage.NotifyMention, post.ID))

	// An edit re-indexes hashtags and re-tags the served Note.
	if _, err := a.Service.Edit(ctx, bea, post.URI, "Now about #Handover, @olga."); err != nil {
		t.Fatal(err)
	}
	tags, err := a.DB.ObjectTags(ctx, []int64{post.ID})
	if err != nil || strings.Join(tags[post.ID], ",") != "handover" {
		t.Errorf("tags after the edit: %v %v", tags, err)
	}
	note = servedNote(t, post.URI)
	if tagged(note, "Hashtag", "", "#sepsis") || !tagged(note, "Hashtag", "", "#handover") || tagged(note, "Mention", m.ActorURI(), "") {
		t.Errorf("tags of the edited Note: %+v", note.Tag)
	}

	// A reply mentions the author it answers, though its text does not.
	reply, err := a.Service.Post(ctx, olga, federation.NewPost{InReplyTo: post.URI, Text: "Thanks!"})
	if err != nil {
		t.Fatal(err)
	}
	note = servedNote(t, reply.URI)
	if !tagged(note, "Mention", bea.URI, "") || !contains(note.CC, bea.URI) ||
		!strings.Contains(reply.Content, `</p><p><span class="h-card"><a class="u-url mention" href="`+bea.URI+`"`) ||
		!strings.Contains(reply.Content, `>@<span>bea</span></a></span> Thanks!</p>`) {
		t.Errorf("the reply does not mention bea: %+v %v\n%s", note.Tag, note.CC, reply.Content)
	}
	fedtest.Eventually(t, "bea notified of the reply", notified(a, bea, storage.NotifyMention, reply.ID))

	// A reply to a Mastodon post mentions and reaches its author.
	noteID, _ := m.PostToGroup(group.URI, a.Handle("practice"), group.InboxURI, "How do you hand over at night?")
	fedtest.Eventually(t, "alice's post stored", func() (bool, error) { _, err := object(a, noteID); return err == nil, nil })
	answer, err := a.Service.Post(ctx, bea, federation.NewPost{InReplyTo: noteID, Text: "With a checklist."})
	if err != nil {
		t.Fatal(err)
	}
	got := m.WaitFor("bea's reply delivered to alice", is("Create", bea.URI, answer.URI))
	json.Unmarshal(got.Raw, &sent)
	if !tagged(&sent.Object, "Mention", m.ActorURI(), "@"+m.Handle()) || !contains(sent.Object.CC, m.ActorURI()) {
		t.Errorf("the reply to alice does not mention her: %s", got.Raw)
	}
}

func contains(list vocab.IRIs, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// notified reports whether who has a notification of typ about object.
func notified(n *fedtest.Node, who *storage.Actor, typ string, objectID int64) func() (bool, error) {
	return func() (bool, error) {
		var count int64
		err := n.DB.Gorm(context.Background()).Model(&storage.Notification{}).
			Where("recipient_actor_id = ? AND type = ? AND object_id = ?", who.ID, typ, objectID).Count(&count).Error
		return count == 1, err
	}
}

// A post's URL pasted into search on another server is fetched from its
// origin and stored there (the lookup behind search with resolve=true).
func TestLookupPost(t *testing.T) {
	ctx := context.Background()
	a, b := fedtest.Start(t, storage.SQLite), fedtest.Start(t, storage.SQLite)
	bea := b.Member("bea")
	b.Community("practice", false, "bea")
	post, err := b.Service.Post(ctx, bea, federation.NewPost{Community: "practice", Text: "Worth a read #sepsis"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Service.LookupPost(ctx, post.URI)
	if err != nil || got.URI != post.URI || !strings.Contains(got.Content, "Worth a read") || got.AuthorActor == nil || got.AuthorActor.URI != bea.URI {
		t.Fatalf("LookupPost = %+v, %v", got, err)
	}
	if again, err := a.Service.LookupPost(ctx, post.URI); err != nil || again.ID != got.ID {
		t.Fatalf("second lookup: %+v, %v", again, err)
	}
	if _, err := a.Service.LookupPost(ctx, b.URL+"/o/00000000-0000-0000-0000-000000000000"); err == nil {
		t.Fatal("a missing post was found")
	}
	if _, err := a.Service.LookupPost(ctx, b.URL+"/u/bea"); err == nil {
		t.Fatal("an actor was taken for a post")
	}
}

// A post written in Markdown (the web composer's) links the people it
// mentions as a plain-text post does; an unknown handle stays text and a
// handle inside a URL is left alone.
func TestMarkdownMentionsLinked(t *testing.T) {
	ctx := context.Background()
	a := fedtest.Start(t, storage.SQLite)
	bea, olga := a.Member("bea"), a.Member("olga")
	a.Community("practice", false, "olga")
	post, err := a.Service.Post(ctx, bea, federation.NewPost{Community: "practice", Markdown: true,
		Text: "**Thanks** @olga, not @nobody; see https://example.org/@olga"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<strong>Thanks</strong> <span class="h-card"`, `href="` + olga.URI + `"`, `>@<span>olga</span></a></span>, not @nobody;`,
		`>https://example.org/@olga</a>`,
	} {
		if !strings.Contains(post.Content, want) {
			t.Errorf("content lacks %s:\n%s", want, post.Content)
		}
	}
	if strings.Count(post.Content, `href="`+olga.URI+`"`) != 1 {
		t.Errorf("olga linked other than once:\n%s", post.Content)
	}
	if !tagged(servedNote(t, post.URI), "Mention", olga.URI, "") {
		t.Error("the Markdown post's Note does not tag olga")
	}
}
