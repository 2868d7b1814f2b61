package federation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// The curated repertoire (issue 15, item 3; docs/federation.md): posts a
// community keeps for newcomers, in ordered sections. It is the Group's
// featured collection, changed as Lemmy changes its featured (sticky)
// posts: Add (Remove){object: post, target: featured} from a moderator
// (or a member the community trusts to curate) to the community, which
// applies it and announces it to its members' servers. Commonplace adds
// the section (repertoireSection on the Add, sections on the collection).
// Servers that follow a remote community re-read its featured collection
// when it announces a change, or updates itself (a new order).

// MaxRepertoire bounds a community's repertoire, and MaxSectionLen a
// section's title.
const (
	MaxRepertoire = 100
	MaxSectionLen = 80
	// maxFeaturedFetches bounds the posts one reading of a remote featured
	// collection fetches from their servers.
	maxFeaturedFetches = 20
)

// RepertoireChange is what a curator does to a post in the repertoire.
type RepertoireChange struct {
	// Remove takes the post out; otherwise it is added (or, when there,
	// filed under Section).
	Remove  bool
	Section string
}

// FeaturedURI is a community's featured collection, its repertoire.
func FeaturedURI(g *storage.Actor) string {
	if g.FeaturedURI != "" {
		return g.FeaturedURI
	}
	if g.Local {
		return g.URI + "/featured"
	}
	return ""
}

// mayCurate reports whether actor may change community's repertoire: a
// moderator, or, where the community lets them, a member it trusts.
func (s *Service) mayCurate(ctx context.Context, actor, community *storage.Actor) (bool, error) {
	if ok, err := s.mayModerate(ctx, actor, community); err != nil || ok {
		return ok, err
	}
	return s.DB.IsCurator(ctx, community.ID, actor.ID)
}

// MayCurate is mayCurate for pages deciding what to offer.
func (s *Service) MayCurate(ctx context.Context, actor, community *storage.Actor) bool {
	ok, err := s.mayCurate(ctx, actor, community)
	return err == nil && ok
}

// checkSection cleans a section's title.
func checkSection(section string) (string, error) {
	section = strings.Join(strings.Fields(section), " ")
	if utf8.RuneCountInString(section) > MaxSectionLen {
		return "", fmt.Errorf("%w: a section's title is at most %d characters", ErrInvalid, MaxSectionLen)
	}
	return section, nil
}

// Curate adds a post of a community to its repertoire (under a section)
// or takes it out, as a curator of the community. A remote community
// decides itself whether the curator may; its Announce brings the change
// back.
func (s *Service) Curate(ctx context.Context, by *storage.Actor, postURI string, ch RepertoireChange) error {
	if !by.Local {
		return fmt.Errorf("%w: only local members act from here", ErrForbidden)
	}
	section, err := checkSection(ch.Section)
	if err != nil {
		return err
	}
	o, err := s.DB.GetObjectByURI(ctx, postURI)
	if err != nil {
		return err
	}
	if o.DeletedAt != nil || o.InReplyToURI != "" || o.CommunityActor == nil {
		return fmt.Errorf("%w: %s is not a live post in a community", ErrInvalid, postURI)
	}
	g := o.CommunityActor
	if g.Local {
		if ok, err := s.mayCurate(ctx, by, g); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%w: %s may not curate %s", ErrForbidden, by.Handle(), g.Handle())
		}
	}
	featured := FeaturedURI(g)
	if featured == "" {
		return fmt.Errorf("%w: %s has no featured collection", ErrInvalid, g.Handle())
	}
	typ := vocab.TypeAdd
	if ch.Remove {
		typ = vocab.TypeRemove
	}
	body, err := s.modActivity(typ, by, g, vocab.RefsTo(o.URI), func(a *vocab.Activity) {
		a.Target = vocab.NewRef(featured)
		if !ch.Remove {
			a.RepertoireSection = section
		}
	})
	if err != nil {
		return err
	}
	return s.moderate(ctx, by, g, body, Reason{}, nil)
}

// MoveInRepertoire moves a post of a local community's repertoire one
// place up (delta -1) or down (+1) within its section, or, with
// wholeSection, its section one place among the sections. Members'
// servers re-read the collection at the community's Update.
func (s *Service) MoveInRepertoire(ctx context.Context, by *storage.Actor, postURI string, delta int, wholeSection bool) error {
	o, err := s.DB.GetObjectByURI(ctx, postURI)
	if err != nil {
		return err
	}
	g := o.CommunityActor
	if g == nil || !g.Local {
		return fmt.Errorf("%w: a repertoire is ordered on its community's server", ErrInvalid)
	}
	if ok, err := s.mayCurate(ctx, by, g); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: %s may not curate %s", ErrForbidden, by.Handle(), g.Handle())
	}
	items, err := s.DB.ListRepertoire(ctx, g.ID, MaxRepertoire)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(items, func(it storage.RepertoireItem) bool { return it.ObjectID == o.ID })
	if i < 0 {
		return fmt.Errorf("%w: %s is not in the repertoire", ErrInvalid, postURI)
	}
	if wholeSection {
		items = moveSection(items, items[i].Section, delta)
	} else if j := i + delta; j >= 0 && j < len(items) && items[j].Section == items[i].Section {
		items[i], items[j] = items[j], items[i]
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.SetRepertoire(ctx, g.ID, items); err != nil {
			return err
		}
		return s.tellGroupChanged(ctx, tx, g)
	})
	if err == nil {
		s.notifyDeliveries()
	}
	return err
}

// moveSection moves the items of section one place (delta) among the
// sections, which come in the order of their first items.
func moveSection(items []storage.RepertoireItem, section string, delta int) []storage.RepertoireItem {
	groups := sections(items)
	i := slices.IndexFunc(groups, func(g []storage.RepertoireItem) bool { return g[0].Section == section })
	if j := i + delta; i >= 0 && j >= 0 && j < len(groups) {
		groups[i], groups[j] = groups[j], groups[i]
	}
	return slices.Concat(groups...)
}

// sections groups items by section, in the order of each section's first
// item.
func sections(items []storage.RepertoireItem) [][]storage.RepertoireItem {
	var out [][]storage.RepertoireItem
	at := map[string]int{}
	for _, it := range items {
		i, ok := at[it.Section]
		if !ok {
			i = len(out)
			at[it.Section] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], it)
	}
	return out
}

// tellGroupChanged sends a local community's Update of itself to its
// members' servers, which re-read it (and its featured collection).
func (s *Service) tellGroupChanged(ctx context.Context, tx *storage.DB, g *storage.Actor) error {
	body, err := s.activityDoc(vocab.TypeUpdate, g, g.URI, []string{vocab.Public}, []string{g.FollowersURI})
	if err != nil {
		return err
	}
	servers, err := s.memberServers(ctx, tx, g)
	if err != nil {
		return err
	}
	_, err = s.sendInOrder(ctx, tx, g, body, servers.activity, servers.unknown)
	return err
}

// localFeatured returns the local community whose featured collection is
// uri, or nil.
func (s *Service) localFeatured(ctx context.Context, uri string) *storage.Actor {
	base, ok := strings.CutSuffix(uri, "/featured")
	if !ok || !s.URLs.IsLocal(uri) {
		return nil
	}
	g, err := s.DB.GetActorByURI(ctx, base)
	if err != nil || !g.Local || g.Type != storage.TypeGroup || FeaturedURI(g) != uri {
		return nil
	}
	return g
}

// onCurate applies an Add or Remove to a local community's featured
// collection from one who may curate it, and announces it to the
// members' servers.
func (s *Service) onCurate(ctx context.Context, act *vocab.Activity, raw []byte, actor, g *storage.Actor) error {
	if ok, err := s.mayCurate(ctx, actor, g); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: %s may not curate %s", ErrForbidden, actor.URI, g.URI)
	}
	o, err := s.DB.GetObjectByURI(ctx, act.Object.ID())
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: %s is not a post here", ErrInvalid, act.Object.ID())
	} else if err != nil {
		return err
	}
	if o.DeletedAt != nil || o.InReplyToURI != "" || o.CommunityActorID == nil || *o.CommunityActorID != g.ID {
		return fmt.Errorf("%w: %s is not a post of %s", ErrInvalid, o.URI, g.URI)
	}
	section, err := checkSection(act.RepertoireSection)
	if err != nil {
		return err
	}
	items, err := s.DB.ListRepertoire(ctx, g.ID, MaxRepertoire)
	if err != nil {
		return err
	}
	before := len(items)
	items = slices.DeleteFunc(items, func(it storage.RepertoireItem) bool { return it.ObjectID == o.ID })
	was := len(items) < before
	if act.Type == vocab.TypeAdd {
		if len(items) >= MaxRepertoire {
			return fmt.Errorf("%w: a repertoire holds at most %d posts", ErrInvalid, MaxRepertoire)
		}
		items = insertInSection(items, storage.RepertoireItem{ObjectID: o.ID, Section: section, AddedByActorID: &actor.ID})
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.SetRepertoire(ctx, g.ID, items); err != nil {
			return err
		}
		if err := s.announceToMembers(ctx, tx, g, raw); err != nil {
			return err
		}
		if added := act.Type == vocab.TypeAdd; added != was {
			return s.tellEntry(ctx, tx, g, o.ID, added)
		}
		return nil
	})
	if err == nil {
		s.notifyDeliveries()
		s.Log.Info("repertoire changed", "community", g.URI, "object", o.URI, "type", act.Type, "by", actor.URI)
	}
	return err
}

// insertInSection puts it after the last item of its section, or at the
// end in a new section.
func insertInSection(items []storage.RepertoireItem, it storage.RepertoireItem) []storage.RepertoireItem {
	at := len(items)
	for i := len(items) - 1; i >= 0; i-- {
		if items[i].Section == it.Section {
			at = i + 1
			break
		}
	}
	return slices.Insert(items, at, it)
}

// FeaturedCollection is a local community's featured collection: its
// repertoire, the posts embedded in order (as Lemmy reads them), and its
// sections.
func (s *Service) FeaturedCollection(ctx context.Context, g *storage.Actor) (*vocab.Featured, error) {
	items, err := s.DB.ListRepertoire(ctx, g.ID, MaxRepertoire)
	if err != nil {
		return nil, err
	}
	doc := &vocab.Featured{ID: FeaturedURI(g), Type: vocab.TypeOrderedCollection, TotalItems: 2 * len(items), OrderedItems: []vocab.Ref{}}
	for _, part := range sections(items) {
		sec := vocab.Section{Type: vocab.TypeOrderedCollection, Name: part[0].Section}
		for _, it := range part {
			// A poll is embedded with its options, as it is served.
			obj, err := s.PollDocument(ctx, it.Object)
			if err != nil {
				return nil, err
			}
			ref, err := vocab.Embed(obj)
			if err != nil {
				return nil, err
			}
			doc.OrderedItems = append(doc.OrderedItems, ref)
			sec.OrderedItems = append(sec.OrderedItems, it.Object.URI)
		}
		doc.Sections = append(doc.Sections, sec)
	}
	// Then the community's own entries, which Mastodon pins.
	for _, part := range sections(items) {
		for _, it := range part {
			ref, err := vocab.Embed(s.entryDocument(g, it))
			if err != nil {
				return nil, err
			}
			doc.OrderedItems = append(doc.OrderedItems, ref)
		}
	}
	return doc, nil
}

// syncFeatured reads a remote community's featured collection into our
// copy of its repertoire: the posts we have of it (fetching a bounded
// number we lack), in order, under their sections.
func (s *Service) syncFeatured(ctx context.Context, group *storage.Actor) error {
	uri := FeaturedURI(group)
	if uri == "" || group.Local || !sameHost(uri, group.URI) {
		return nil
	}
	body, _, err := s.fetch(ctx, uri)
	if err != nil {
		return err
	}
	coll, err := vocab.ParseCollection(body)
	if err != nil {
		return fmt.Errorf("%w: featured of %s: %v", ErrInvalid, group.URI, err)
	}
	sectionOf := map[string]string{}
	for i, sec := range coll.Sections {
		if i >= MaxRepertoire {
			break
		}
		name, err := checkSection(sec.Name)
		if err != nil {
			name = ""
		}
		for j, id := range sec.OrderedItems {
			if j >= MaxRepertoire {
				break
			}
			sectionOf[id] = name
		}
	}
	var items []storage.RepertoireItem
	fetched := 0
	for i, ref := range coll.Members() {
		if i >= 2*MaxRepertoire {
			break
		}
		if isEntryOf(ref, group) {
			continue // the community's own note for Mastodon
		}
		o, err := s.DB.GetObjectByURI(ctx, ref.ID())
		if errors.Is(err, storage.ErrNotFound) && fetched < maxFeaturedFetches {
			fetched++
			if err := s.syncRemoteObject(ctx, ref.ID(), group, ref); err != nil {
				s.Log.Info("featured post not read", "community", group.URI, "object", ref.ID(), "err", err)
				continue
			}
			o, err = s.DB.GetObjectByURI(ctx, ref.ID())
		}
		if err != nil {
			continue
		}
		// Only the community's own posts: its word is no good for others.
		if o.DeletedAt != nil || o.CommunityActorID == nil || *o.CommunityActorID != group.ID || o.InReplyToURI != "" {
			continue
		}
		items = append(items, storage.RepertoireItem{ObjectID: o.ID, Section: sectionOf[o.URI]})
	}
	return s.DB.SetRepertoire(ctx, group.ID, items)
}

// isFeaturedOf reports whether an Add or Remove targets group's featured
// collection.
func isFeaturedOf(act *vocab.Activity, group *storage.Actor) bool {
	t := act.Target.ID()
	return t != "" && t == FeaturedURI(group)
}

// syncFeaturedOfFollowed re-reads a remote community's repertoire when
// local members belong to it; a failure to read it is logged, not retried.
func (s *Service) syncFeaturedOfFollowed(ctx context.Context, group *storage.Actor) error {
	if ok, err := s.DB.HasLocalMember(ctx, group.ID); err != nil || !ok {
		return err
	}
	if err := s.syncFeatured(ctx, group); err != nil {
		s.Log.Info("repertoire not read", "community", group.URI, "err", err)
	}
	return nil
}

// SetCuration sets whether the members a local community's moderators
// trust may curate its repertoire, as one of its moderators.
func (s *Service) SetCuration(ctx context.Context, by *storage.Actor, community string, trusted bool) error {
	g, err := s.moderated(ctx, by, community)
	if err != nil {
		return err
	}
	if !g.Local {
		return fmt.Errorf("%w: %s is set on its own server", ErrInvalid, g.Handle())
	}
	return s.DB.SetTrustedCurate(ctx, g.ID, trusted)
}

// TrustCurator trusts (on false: no longer trusts) a member of a local
// community to curate its repertoire, as one of its moderators.
func (s *Service) TrustCurator(ctx context.Context, by *storage.Actor, community, member string, on bool) error {
	g, err := s.moderated(ctx, by, community)
	if err != nil {
		return err
	}
	if !g.Local {
		return fmt.Errorf("%w: %s's curators are trusted on its own server", ErrInvalid, g.Handle())
	}
	who, err := s.resolvePerson(ctx, member)
	if err != nil {
		return err
	}
	if on {
		m, err := s.DB.GetMembership(ctx, g.ID, who.ID)
		if err != nil || m.State != storage.StateAccepted {
			return fmt.Errorf("%w: %s is not a member of %s", ErrInvalid, who.Handle(), g.Handle())
		}
	}
	return s.DB.SetCurator(ctx, g.ID, who.ID, on)
}
