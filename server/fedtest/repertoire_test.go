package fedtest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// repertoireIs reports whether n's copy of a community's repertoire is
// want, each "section:post id", in order.
func repertoireIs(n *fedtest.Node, groupURI string, want ...string) func() (bool, error) {
	return func() (bool, error) {
		ctx := context.Background()
		g, err := n.DB.GetActorByURI(ctx, groupURI)
		if err != nil {
			return false, nil
		}
		items, err := n.DB.ListRepertoire(ctx, g.ID, 100)
		if err != nil || len(items) != len(want) {
			return false, err
		}
		for i, it := range items {
			if it.Section+":"+it.Object.URI != want[i] {
				return false, nil
			}
		}
		return true, nil
	}
}

// The curated repertoire (issue 15, item 3) across two Commonplace
// instances and a Lemmy stand-in: the owner on A files posts under
// sections, published as the Group's featured collection; B reads it
// back with its sections, a moderator on B changes it through A, the
// owner's new order reaches B by the Group's Update, Lemmy gets the Add it
// reads for sticky posts, and Mastodon the community's own entries, which
// it pins. Nobody else may curate.
func TestRepertoireAcrossInstances(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			a, b := fedtest.Start(t, d), fedtest.Start(t, d)
			olga := a.Member("olga")
			group := a.Community("practice", false, "olga").Actor
			bea, ben := b.Member("bea"), b.Member("ben")
			for _, who := range []*storage.Actor{bea, ben} {
				if _, err := b.Service.Join(ctx, who, a.Handle("practice")); err != nil {
					t.Fatal(err)
				}
				fedtest.Eventually(t, who.Username+"'s join accepted", accepted(b, group.URI, who.URI))
			}
			l := fedtest.NewLemmyGroup(t)
			l.Join(group.URI, group.InboxURI)
			fedtest.Eventually(t, "lem is a member", accepted(a, group.URI, l.UserURI()))
			a.WaitSoftware(l.Domain)
			m := fedtest.NewMastodon(t)
			if _, code := m.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
				t.Fatalf("Follow answered %d", code)
			}
			fedtest.Eventually(t, "alice is a member", accepted(a, group.URI, m.ActorURI()))

			tmpl, err := a.Service.Post(ctx, olga, federation.NewPost{Community: "practice", Kind: federation.KindResource,
				Title: "Handover template", Text: "SBAR, one card per patient."})
			if err != nil {
				t.Fatal(err)
			}
			story, err := b.Service.Post(ctx, bea, federation.NewPost{Community: a.Handle("practice"), Kind: federation.KindCase,
				Title: "The night we lost the chart", Text: "What happened and what we changed."})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A has bea's case", func() (bool, error) { _, err := object(a, story.URI); return err == nil, nil })
			fedtest.Eventually(t, "B has olga's template", func() (bool, error) { _, err := object(b, tmpl.URI); return err == nil, nil })

			// Neither a member nor a remote stranger may curate.
			dan := a.Member("dan")
			if _, err := a.Service.Join(ctx, dan, "practice"); err != nil {
				t.Fatal(err)
			}
			if err := a.Service.Curate(ctx, dan, tmpl.URI, federation.RepertoireChange{Section: "Start here"}); !errors.Is(err, federation.ErrForbidden) {
				t.Fatalf("dan curating on A: %v", err)
			}
			forged := m.NewID("add")
			if code := m.Send(group.InboxURI, map[string]any{
				"@context": "https://www.w3.org/ns/activitystreams", "id": forged, "type": "Add",
				"actor": m.ActorURI(), "object": tmpl.URI, "target": group.URI + "/featured",
			}); code != http.StatusAccepted {
				t.Fatalf("forged Add answered %d", code)
			}
			fedtest.Eventually(t, "A refuses the forged Add", func() (bool, error) {
				act, err := a.DB.GetActivityByURI(ctx, forged)
				return err == nil && act.State == storage.ActivityFailed, nil
			})

			for _, c := range []struct {
				uri, section string
			}{{tmpl.URI, "Start here"}, {story.URI, "Cases"}} {
				if err := a.Service.Curate(ctx, olga, c.uri, federation.RepertoireChange{Section: c.section}); err != nil {
					t.Fatal(err)
				}
			}
			fedtest.Eventually(t, "A's repertoire", repertoireIs(a, group.URI, "Start here:"+tmpl.URI, "Cases:"+story.URI))
			fedtest.Eventually(t, "B reads the repertoire with its sections", repertoireIs(b, group.URI, "Start here:"+tmpl.URI, "Cases:"+story.URI))
			l.WaitFor("Lemmy gets the Add to featured", func(r fedtest.Received) bool {
				inner, ok := r.Doc["object"].(map[string]any)
				return ok && r.Type == "Announce" && inner["type"] == "Add" && inner["object"] == story.URI && inner["target"] == group.URI+"/featured"
			})

			// The featured collection as Lemmy and Mastodon fetch it.
			featured := fetchCollection(t, group.URI+"/featured")
			// The posts, then the community's own entries for Mastodon.
			if got := featured.Members().IDs(); len(got) != 4 || got[0] != tmpl.URI || got[1] != story.URI || !featured.Members().First().IsEmbedded() {
				t.Fatalf("featured items %v", got)
			}
			if len(featured.Sections) != 2 || featured.Sections[0].Name != "Start here" || featured.Sections[1].OrderedItems[0] != story.URI {
				t.Fatalf("featured sections %+v", featured.Sections)
			}

			// Mastodon pins only statuses the account wrote itself: it is
			// sent the community's Add of its own entry for each post, and
			// its fetch of the featured collection keeps those entries.
			for _, p := range []string{tmpl.URI, story.URI} {
				o, _ := object(a, p)
				entry := federation.EntryURI(group, o.ID)
				m.WaitFor("Mastodon gets the Add of the entry", func(r fedtest.Received) bool {
					return r.Type == "Add" && r.Doc["object"] == entry && r.Doc["target"] == group.URI+"/featured" && r.Doc["actor"] == group.URI
				})
				note := servedNote(t, entry)
				if note.AttributedTo.ID() != group.URI || !note.IsPublic() || !strings.Contains(note.Content, o.Name) {
					t.Fatalf("entry %s: %+v", entry, note)
				}
			}
			if pinned := mastodonPins(t, group.URI+"/featured", group.URI); len(pinned) != 2 {
				t.Fatalf("Mastodon would pin %v", pinned)
			}

			// The owner puts Cases first: B follows the Group's Update.
			if err := a.Service.MoveInRepertoire(ctx, olga, story.URI, -1, true); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B reads the new order", repertoireIs(b, group.URI, "Cases:"+story.URI, "Start here:"+tmpl.URI))

			// bea, a moderator on B, takes the template out through A.
			if err := a.Service.SetModerator(ctx, olga, "practice", bea.URI, true); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B knows bea moderates", isModerator(b, group.URI, bea.URI))
			if err := b.Service.Curate(ctx, bea, tmpl.URI, federation.RepertoireChange{Remove: true}); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A applies bea's Remove", repertoireIs(a, group.URI, "Cases:"+story.URI))
			fedtest.Eventually(t, "B follows", repertoireIs(b, group.URI, "Cases:"+story.URI))
			tmplOnA, _ := object(a, tmpl.URI)
			m.WaitFor("Mastodon gets the Remove of the template's entry", func(r fedtest.Received) bool {
				return r.Type == "Remove" && r.Doc["object"] == federation.EntryURI(group, tmplOnA.ID) && r.Doc["actor"] == group.URI
			})
			if pinned := mastodonPins(t, group.URI+"/featured", group.URI); len(pinned) != 1 {
				t.Fatalf("after the Remove Mastodon would pin %v", pinned)
			}

			// A deleted post leaves the repertoire everywhere.
			if err := b.Service.Delete(ctx, bea, story.URI); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A's repertoire is empty", repertoireIs(a, group.URI))
			storyOnA, _ := object(a, story.URI)
			m.WaitFor("Mastodon gets the Delete of the deleted post's entry", func(r fedtest.Received) bool {
				obj, _ := r.Doc["object"].(map[string]any)
				return r.Type == "Delete" && r.Doc["actor"] == group.URI && obj != nil && obj["id"] == federation.EntryURI(group, storyOnA.ID)
			})
			fedtest.Eventually(t, "B's repertoire is empty", repertoireIs(b, group.URI))
		})
	}
}

// mastodonPins is what Mastodon's FetchFeaturedCollectionService pins of
// a featured collection: each item fetched by its id, kept when its author
// is the account.
func mastodonPins(t *testing.T, featured, account string) []string {
	t.Helper()
	var out []string
	for _, id := range fetchCollection(t, featured).Members().IDs() {
		if note := servedNote(t, id); note.AttributedTo.ID() == account {
			out = append(out, id)
		}
	}
	return out
}

// fetchCollection fetches a collection as another server would.
func fetchCollection(t *testing.T, uri string) *vocab.Collection {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, uri, nil)
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	c, err := vocab.ParseCollection(body)
	if err != nil {
		t.Fatalf("%s: %v", uri, err)
	}
	return c
}

// A community's welcome reaches a member who joins from another server as
// a direct message that mentions them: Commonplace stores it for them, and
// the Mastodon stand-in gets a Create addressed to its account.
func TestWelcomeAcrossInstances(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			a, b := fedtest.Start(t, d), fedtest.Start(t, d)
			olga := a.Member("olga")
			group := a.Community("practice", false, "olga").Actor
			if err := a.Service.SetWelcome(ctx, olga, "practice", "Welcome! Start with the repertoire."); err != nil {
				t.Fatal(err)
			}
			bea := b.Member("bea")
			if _, err := b.Service.Join(ctx, bea, a.Handle("practice")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "bea's join accepted", accepted(b, group.URI, bea.URI))
			fedtest.Eventually(t, "B has the welcome for bea", func() (bool, error) {
				g, err := b.DB.GetActorByURI(ctx, group.URI)
				if err != nil {
					return false, nil
				}
				var n int64
				err = b.DB.Gorm(ctx).Model(&storage.Object{}).Where("author_actor_id = ? AND visibility = ? AND content LIKE ?",
					g.ID, storage.VisibilityDirect, "%Start with the repertoire.%").Count(&n).Error
				return n == 1, err
			})
			m := fedtest.NewMastodon(t)
			if _, code := m.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
				t.Fatalf("Follow answered %d", code)
			}
			m.WaitFor("Mastodon gets the welcome", func(r fedtest.Received) bool {
				obj, ok := r.Doc["object"].(map[string]any)
				to, _ := obj["to"].([]any)
				return ok && r.Type == "Create" && r.Doc["actor"] == group.URI && len(to) == 1 && to[0] == m.ActorURI() &&
					strings.Contains(str(obj["content"]), "Start with the repertoire.")
			})
		})
	}
}

func str(v any) string { s, _ := v.(string); return s }
