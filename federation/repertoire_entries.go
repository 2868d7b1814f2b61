package federation

import (
	"context"
	"fmt"
	"html"
	"strconv"
	"strings"

	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Repertoire entries for Mastodon: Mastodon pins to an account only
// statuses the account wrote (ActivityPub::FetchFeaturedCollectionService
// keeps those whose author is the account; Activity::Add the same), so a
// repertoire of members' posts would never show there. Each item therefore
// also has an entry: a short public Note by the community itself, "Start
// here: <title>", linking to the post, served at FEATURED/ID (ID the post's
// id here). The featured collection lists the entries after the posts;
// Lemmy and Commonplace skip them (their author is the Group), Mastodon
// pins them. Mastodon-like member servers get the community's Add and
// Remove of the entry, and its Delete when the post leaves the repertoire.

// EntryURI is the id of the entry for the post with id objectID in a
// community's repertoire.
func EntryURI(g *storage.Actor, objectID int64) string {
	return FeaturedURI(g) + "/" + strconv.FormatInt(objectID, 10)
}

// isEntryOf reports whether ref is one of group's entries (its Note at an
// address under the featured collection), which readers of its repertoire
// skip. Authorship is not the test: every post of an imported community is
// the Group's own, and those are repertoire items, not entries.
func isEntryOf(ref vocab.Ref, group *storage.Actor) bool {
	featured := FeaturedURI(group)
	return featured != "" && strings.HasPrefix(ref.ID(), featured+"/")
}

// entryDocument is the community's Note for one item of its repertoire.
func (s *Service) entryDocument(g *storage.Actor, it storage.RepertoireItem) *vocab.Object {
	o := it.Object
	title := o.Name
	if title == "" {
		title = truncate(sanitize.PlainText(StripKindLead(o.Content, o.Kind, o.Name), 200), 80)
	}
	label := it.Section
	if label == "" {
		label = "In the repertoire"
	}
	link := LinkOrID(o.URL, o.URI)
	content := "<p><strong>" + html.EscapeString(label) + "</strong>: <a href=\"" + html.EscapeString(link) + "\">" +
		html.EscapeString(title) + "</a></p>"
	if o.AuthorActor != nil {
		content += "<p>By " + html.EscapeString(o.AuthorActor.Handle()) + ", kept by " + html.EscapeString(g.Handle()) + " for newcomers.</p>"
	}
	id := EntryURI(g, o.ID)
	return &vocab.Object{
		ID: id, Type: vocab.TypeNote, AttributedTo: vocab.RefsTo(g.URI),
		Content: content, MediaType: "text/html", Published: vocab.At(it.CreatedAt),
		To: vocab.IRIs{vocab.Public}, CC: vocab.IRIs{g.FollowersURI},
		URL: vocab.LinkTo(link), Context: vocab.IRI(id),
	}
}

// EntryDocument is the entry for the post with id objectID in a local
// community's repertoire; storage.ErrNotFound when it is not there.
func (s *Service) EntryDocument(ctx context.Context, g *storage.Actor, objectID int64) (*vocab.Object, *storage.Object, error) {
	items, err := s.DB.ListRepertoire(ctx, g.ID, MaxRepertoire)
	if err != nil {
		return nil, nil, err
	}
	for _, it := range items {
		if it.ObjectID == objectID {
			return s.entryDocument(g, it), it.Object, nil
		}
	}
	return nil, nil, fmt.Errorf("entry %d of %s: %w", objectID, g.URI, storage.ErrNotFound)
}

// tellEntry sends the Mastodon-like servers of a local community's members
// its Add of an entry (added) or its Remove and Delete (removed).
func (s *Service) tellEntry(ctx context.Context, tx *storage.DB, g *storage.Actor, objectID int64, added bool) error {
	servers, err := s.memberServers(ctx, tx, g)
	if err != nil {
		return err
	}
	inboxes := servers.readsObject()
	if len(inboxes) == 0 {
		return nil
	}
	entry := EntryURI(g, objectID)
	typ := vocab.TypeAdd
	if !added {
		typ = vocab.TypeRemove
	}
	body, err := vocab.Marshal(&vocab.Activity{
		ID: s.URLs.NewActivity(), Type: typ, Actor: vocab.IRI(g.URI), Object: vocab.RefsTo(entry),
		Target: vocab.NewRef(FeaturedURI(g)), To: vocab.IRIs{vocab.Public}, CC: vocab.IRIs{g.FollowersURI},
	})
	if err != nil {
		return err
	}
	if _, err := s.send(ctx, tx, g, body, inboxes); err != nil {
		return err
	}
	if added {
		return nil
	}
	del, err := s.activityDoc(vocab.TypeDelete, g, map[string]string{"id": entry, "type": vocab.TypeTombstone},
		[]string{vocab.Public}, []string{g.FollowersURI})
	if err != nil {
		return err
	}
	_, err = s.send(ctx, tx, g, del, inboxes)
	return err
}

// entryGone withdraws the entry of a post leaving a local community's
// repertoire because it is deleted: Mastodon unpins and drops it.
func (s *Service) entryGone(ctx context.Context, tx *storage.DB, objectID int64) error {
	in, err := tx.RepertoireOf(ctx, []int64{objectID})
	if err != nil || !in[objectID] {
		return err
	}
	o, err := tx.GetObjectByID(ctx, objectID)
	if err != nil {
		return ignoreNotFound(err)
	}
	g, err := localCommunityOf(ctx, tx, o)
	if err != nil || g == nil || o.DeletedAt != nil {
		return err
	}
	return s.tellEntry(ctx, tx, g, objectID, false)
}
