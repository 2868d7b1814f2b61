package federation

import (
	"context"
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Local members' actions. Each builds the activity a remote server would
// send and, when it concerns a local community, passes it through the same
// dispatch as the inbox: one door for local and remote members.

// MaxPostLen bounds a post's text, as Mastodon's 500 does, but roomier for
// the long answers communities of practice write.
const MaxPostLen = 10000

// NewPost is what a member writes.
type NewPost struct {
	// Community is a handle (name@domain) or actor id. Empty for a reply,
	// which goes to the community of the post it answers.
	Community string
	// InReplyTo is the id of the post answered, if any.
	InReplyTo string
	Title     string
	Text      string
	Summary   string
	Sensitive bool
	// Language is the post's ISO 639 language code, if known.
	Language string
	// Markdown says Text is Markdown (the web's composer), rendered to
	// sanitised HTML; otherwise it is plain text.
	Markdown bool
	// Visibility is public (""), unlisted, private (followers-only) or
	// direct. Private and direct posts go to no community.
	Visibility string
	// Kind is the kind of post (KindQuestion, ...), "" for a discussion
	// or to read it from Text by the client API's convention (a leading
	// kind hashtag, then the first line as title: ParseKindConvention).
	Kind string
	// Poll, if set, makes the post a poll (polls.go).
	Poll *NewPoll
	// Media are the ids of the author's uploads to attach, in order.
	Media []int64
}

// Post publishes a member's post or reply to a community, local or remote.
func (s *Service) Post(ctx context.Context, author *storage.Actor, in NewPost) (*storage.Object, error) {
	text := strings.TrimSpace(in.Text)
	// body is what is rendered: the text without a leading kind tag and
	// title line; the source keeps the text as written, so that editing
	// it from an app reads the same way.
	body, kind, title := text, in.Kind, strings.TrimSpace(in.Title)
	if k, ok := NormalizeKind(kind); !ok {
		return nil, fmt.Errorf("%w: no kind of post %q", ErrInvalid, in.Kind)
	} else {
		kind = k
	}
	if kind == KindDiscussion {
		if k, t, b, ok := ParseKindConvention(text); ok {
			kind, body = k, b
			if title == "" {
				title = t
			}
		}
	}
	if in.InReplyTo != "" {
		kind = KindDiscussion // a reply is part of its thread, of no kind
	}
	switch {
	case !author.Local:
		return nil, fmt.Errorf("%w: only local members post here", ErrForbidden)
	case (text == "" || body == "") && len(in.Media) == 0:
		return nil, fmt.Errorf("%w: a post needs text or an attachment", ErrInvalid)
	case utf8.RuneCountInString(text) > MaxPostLen:
		return nil, fmt.Errorf("%w: a post is at most %d characters", ErrInvalid, MaxPostLen)
	case utf8.RuneCountInString(title) > 300 || utf8.RuneCountInString(in.Summary) > 500:
		return nil, fmt.Errorf("%w: title or summary too long", ErrInvalid)
	}
	if in.Poll != nil {
		if err := checkPoll(in.Poll); err != nil {
			return nil, err
		}
	}
	var parent *storage.Object
	if in.InReplyTo != "" {
		p, err := s.DB.GetObjectByURI(ctx, in.InReplyTo)
		if err != nil {
			return nil, fmt.Errorf("post answered: %w", err)
		}
		if p.DeletedAt != nil {
			return nil, fmt.Errorf("%w: the post answered was deleted", ErrInvalid)
		}
		if ok, err := s.CanSee(ctx, author, p); err != nil {
			return nil, err
		} else if !ok {
			return nil, fmt.Errorf("post answered %s: %w", in.InReplyTo, storage.ErrNotFound)
		}
		parent = p
	}
	visibility := in.Visibility
	if visibility == "" {
		visibility = storage.VisibilityPublic
		if parent != nil && limitedVisibility(parent.Visibility) {
			// A reply keeps a private thread private unless asked.
			visibility = parent.Visibility
		}
	}
	var community *storage.Actor
	if in.Community != "" {
		c, err := s.resolveCommunity(ctx, in.Community)
		if err != nil {
			return nil, err
		}
		community = c
	}
	// Everything posted in a members-only community, and every reply in
	// one of its threads but a direct message, is for its members only,
	// whatever visibility the app asked for.
	members := membersOnly(community) ||
		community == nil && parent != nil && parent.Visibility == storage.VisibilityMembers && membersOnly(parent.CommunityActor) &&
			visibility != storage.VisibilityDirect
	if members {
		if community == nil {
			community = parent.CommunityActor
		}
		visibility = storage.VisibilityMembers
	} else if !slices.Contains(postVisibilities, visibility) {
		return nil, fmt.Errorf("%w: visibility %q is not public, unlisted, private or direct", ErrInvalid, in.Visibility)
	}
	limited := limitedVisibility(visibility) && !members
	if limited && in.Community != "" {
		return nil, errPrivateInCommunity
	}
	switch {
	case community != nil:
	case limited:
		// A followers-only or direct post, or reply, goes to its readers
		// only, never to the community of the post it answers.
	case parent != nil && parent.CommunityActor != nil:
		community = parent.CommunityActor
	case parent != nil:
		// A reply to a followed person's post outside any community goes
		// to its author and our followers, as on Mastodon.
	default:
		return nil, fmt.Errorf("%w: a post needs a community", ErrInvalid)
	}

	if community != nil && !community.Local {
		// A remote community would refuse it: say so now.
		if err := s.checkMayPost(ctx, community, author, parent); err != nil {
			return nil, err
		}
	}
	atts, err := s.postMedia(ctx, author, in.Media, 0)
	if err != nil {
		return nil, err
	}
	// Whole seconds, as Mastodon writes them: a database may keep less
	// than nanoseconds, and the post must be served and updated with the
	// published it was sent with (GoToSocial refuses an Update whose
	// published changed).
	now := time.Now().UTC().Truncate(time.Second)
	id := s.URLs.NewObject()
	c := s.compose(ctx, author, community, parent, body)
	if limited && slices.ContainsFunc(c.tags, func(t vocab.Tag) bool { return s.isCommunity(ctx, t.Href) }) {
		return nil, errPrivateInCommunity
	}
	if in.Markdown {
		c.content = s.markdownContent(community, body, c.mentioned)
	}
	c.content = withLead(c.content, community, kindLead(kind, title))
	c.tags = s.withKindTag(c.tags, kind)
	note := &vocab.Object{
		ID: id, Type: vocab.TypeNote,
		AttributedTo: vocab.RefsTo(author.URI),
		Name:         title,
		PostKind:     kind,
		Summary:      strings.TrimSpace(in.Summary),
		Sensitive:    in.Sensitive || in.Summary != "",
		Content:      c.content,
		MediaType:    "text/html",
		Source:       &vocab.Source{Content: text, MediaType: sourceType(in.Markdown)},
		Published:    vocab.At(now),
		Tag:          c.tags,
		URL:          vocab.LinkTo(id),
		Replies:      repliesOf(id),
		Context:      vocab.IRI(id + contextSuffix),
	}
	for i := range atts {
		note.Attachment = append(note.Attachment, s.attachmentDoc(&atts[i]))
	}
	var inboxes []string
	if community != nil {
		note.Audience = vocab.IRI(community.URI)
		inboxes = append(inboxes, community.InboxURI)
	}
	if in.Language != "" {
		note.ContentMap = vocab.LangMap{in.Language: note.Content}
	}
	if in.Poll != nil {
		asQuestion(note, in.Poll, now)
	}
	// The people mentioned, the author answered among them, are addressed
	// and delivered to; followers as the visibility says (act adds their
	// servers).
	note.To, note.CC = addressing(visibility, author, community, c.cc)
	if !members {
		inboxes = append(inboxes, c.inboxes...)
	}
	if parent != nil {
		note.InReplyTo = vocab.IRI(parent.URI)
		note.Context = vocab.IRI(s.sentContext(ctx, parent))
	}
	doc, err := s.activityDoc(vocab.TypeCreate, author, note, note.To, note.CC)
	if err != nil {
		return nil, err
	}
	if err := s.act(ctx, author, community, doc, inboxes); err != nil {
		return nil, err
	}
	o, err := s.DB.GetObjectByURI(ctx, id)
	if err == nil && in.Poll != nil && in.Poll.HideTotals {
		// Not federated (Mastodon keeps it to itself): the author's
		// server sends zeros until the end.
		err = s.DB.HidePollTotals(ctx, o.ID)
	}
	if err != nil || len(atts) == 0 {
		return o, err
	}
	return o, s.DB.SetObjectMedia(ctx, o.ID, mediaIDs(atts))
}

func mediaIDs(ms []storage.MediaAttachment) []int64 {
	out := make([]int64, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

// act records a local member's activity and delivers it: to a local
// community through dispatch, to a remote one through its inbox (keeping
// our own copy of what was posted). community is nil for an activity about
// a post in no community (a followed person's): then it is dispatched here
// when it concerns only this instance, and sent otherwise.
func (s *Service) act(ctx context.Context, actor, community *storage.Actor, body []byte, inboxes []string) error {
	act, err := vocab.ParseActivity(body)
	if err != nil {
		return err
	}
	here := community != nil && community.Local
	if community == nil {
		here = true
		for _, in := range inboxes {
			here = here && s.URLs.IsLocal(in)
		}
	}
	switch act.Type {
	case vocab.TypeCreate, vocab.TypeUpdate, vocab.TypeDelete:
		if !addressesFollowers(act, actor) {
			break // a direct post: its readers only
		}
		// People who follow the member (from Mastodon, say) get their
		// posts from the member's server too, as from any account.
		followers, err := s.DB.MemberInboxes(ctx, actor.ID)
		if err != nil {
			return err
		}
		inboxes = append(inboxes, followers...)
	}
	// A partner community's posts, and the replies in its threads, reach
	// its partners only: not the servers of the author's followers or of
	// the people named elsewhere.
	if thread, err := s.threadCommunity(ctx, community, act); err != nil {
		return err
	} else if thread != nil && thread.Local {
		if inboxes, err = s.partnerInboxes(ctx, s.DB, thread, inboxes); err != nil {
			return err
		}
	}
	if here {
		// The community's own logic first: it may refuse the activity.
		// Then the record, and delivery to any remote inbox named
		// besides the community (a remote author answered or liked).
		if err := s.dispatch(ctx, act, body, actor); err != nil {
			return err
		}
		err := s.DB.Tx(ctx, func(tx *storage.DB) error {
			_, err := s.send(ctx, tx, actor, body, inboxes)
			return err
		})
		if err == nil {
			s.notifyDeliveries()
		}
		return err
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if _, err := s.send(ctx, tx, actor, body, inboxes); err != nil {
			return err
		}
		return s.applyOwn(ctx, tx, act, actor, community)
	})
	if err == nil {
		s.notifyDeliveries()
	}
	return err
}

// threadCommunity is the community an activity of a member's belongs to:
// the one it is posted to, or else that of the thread its post answers
// (a followers-only reply goes to no community but is in its thread).
func (s *Service) threadCommunity(ctx context.Context, community *storage.Actor, act *vocab.Activity) (*storage.Actor, error) {
	if community != nil {
		return community, nil
	}
	var parentURI string
	switch act.Type {
	case vocab.TypeCreate, vocab.TypeUpdate:
		obj, err := act.Object.Object()
		if err != nil {
			return nil, nil // not a post: no thread
		}
		parentURI = string(obj.InReplyTo)
	case vocab.TypeDelete:
		stored, err := s.DB.GetObjectByURI(ctx, act.Object.ID())
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		parentURI = stored.InReplyToURI
	}
	if parentURI == "" {
		return nil, nil
	}
	parent, err := s.DB.GetObjectByURI(ctx, parentURI)
	if err != nil {
		return nil, ignoreNotFound(err)
	}
	return parent.CommunityActor, nil
}

// applyOwn applies a local member's activity sent to a remote community to
// our own copy, as the community will not send it back to its author's
// server unless other members live here.
func (s *Service) applyOwn(ctx context.Context, tx *storage.DB, act *vocab.Activity, actor, community *storage.Actor) error {
	switch act.Type {
	case vocab.TypeCreate:
		obj, err := act.Object.Object()
		if err != nil {
			return err
		}
		var parent *storage.Object
		if obj.InReplyTo != "" {
			parent, _ = tx.GetObjectByURI(ctx, string(obj.InReplyTo))
		}
		_, err = s.storeObject(ctx, tx, obj, act.Object.First().Raw(), actor, community, parent)
		return err
	case vocab.TypeUpdate:
		obj, err := act.Object.Object()
		if err != nil {
			return err
		}
		stored, err := tx.GetObjectByURI(ctx, obj.ID)
		if err != nil {
			return err
		}
		return s.applyEdit(ctx, tx, stored, obj, act.Object.First().Raw(), actor)
	case vocab.TypeDelete:
		stored, err := tx.GetObjectByURI(ctx, act.Object.ID())
		if err != nil {
			return err
		}
		return s.tombstone(ctx, tx, stored.ID)
	case vocab.TypeLike:
		stored, err := tx.GetObjectByURI(ctx, act.Object.ID())
		if err != nil {
			return err
		}
		_, err = tx.PutLike(ctx, &storage.Like{URI: act.ID, ActorID: actor.ID, ObjectID: stored.ID})
		return err
	case vocab.TypeUndo:
		if act.Object.Type() != vocab.TypeLike {
			return nil
		}
		like, err := tx.GetLikeByURI(ctx, act.Object.ID())
		if err != nil {
			return ignoreNotFound(err)
		}
		return ignoreNotFound(tx.DeleteLike(ctx, actor.ID, like.ObjectID))
	}
	return nil
}

// ownPost loads a post of author's for editing or deleting.
func (s *Service) ownPost(ctx context.Context, actor *storage.Actor, objectURI string) (*storage.Object, error) {
	o, err := s.DB.GetObjectByURI(ctx, objectURI)
	if err != nil {
		return nil, err
	}
	if o.DeletedAt != nil {
		return nil, fmt.Errorf("post %s was deleted: %w", objectURI, storage.ErrNotFound)
	}
	ok, err := s.mayModify(ctx, actor, o)
	if err != nil {
		return nil, err
	}
	if !ok || !actor.Local {
		return nil, fmt.Errorf("%w: %s may not change %s", ErrForbidden, actor.Handle(), objectURI)
	}
	if o.CommunityActor == nil && (!o.Local || o.AuthorActorID != actor.ID) {
		return nil, fmt.Errorf("%w: post %s is in no community", ErrInvalid, objectURI)
	}
	return o, nil
}

// Edit replaces the text of a member's post with plain text.
func (s *Service) Edit(ctx context.Context, author *storage.Actor, objectURI, text string) (*storage.Object, error) {
	return s.EditPost(ctx, author, objectURI, text, false)
}

// EditPost replaces the text of a member's post, Markdown or plain text.
func (s *Service) EditPost(ctx context.Context, author *storage.Actor, objectURI, text string, isMarkdown bool) (*storage.Object, error) {
	return s.EditPostMedia(ctx, author, objectURI, text, isMarkdown, nil)
}

// EditPostMedia edits a post's text and, when media is not nil, makes
// the uploads it names the post's attachments (none for an empty list).
func (s *Service) EditPostMedia(ctx context.Context, author *storage.Actor, objectURI, text string, isMarkdown bool, media []int64) (*storage.Object, error) {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > MaxPostLen {
		return nil, fmt.Errorf("%w: a post needs 1 to %d characters", ErrInvalid, MaxPostLen)
	}
	o, err := s.ownPost(ctx, author, objectURI)
	if err != nil {
		return nil, err
	}
	if o.AuthorActorID != author.ID {
		return nil, fmt.Errorf("%w: only the author edits a post", ErrForbidden)
	}
	var parent *storage.Object
	if o.InReplyToID != nil {
		if parent, err = s.DB.GetObjectByID(ctx, *o.InReplyToID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
	}
	doc := s.ObjectDocument(o)
	// A poll is sent with its options: Mastodon drops the poll of a
	// Question updated without them.
	if err := s.withPoll(ctx, s.DB, doc, o); err != nil {
		return nil, err
	}
	var atts []storage.MediaAttachment
	if media != nil {
		if atts, err = s.postMedia(ctx, author, media, o.ID); err != nil {
			return nil, err
		}
		doc.Attachment = nil
		for i := range atts {
			doc.Attachment = append(doc.Attachment, s.attachmentDoc(&atts[i]))
		}
	}
	body := text
	if k, t, b, ok := ParseKindConvention(text); ok && parent == nil {
		// An edit from an app re-reads the convention the post was
		// written in: kind, title and body may all change.
		doc.PostKind, doc.Name, body = k, t, b
	}
	c := s.compose(ctx, author, o.CommunityActor, parent, body)
	members := o.Visibility == storage.VisibilityMembers
	if limitedVisibility(o.Visibility) && !members && slices.ContainsFunc(c.tags, func(t vocab.Tag) bool { return s.isCommunity(ctx, t.Href) }) {
		return nil, errPrivateInCommunity
	}
	if isMarkdown {
		c.content = s.markdownContent(o.CommunityActor, body, c.mentioned)
	}
	c.content = withLead(c.content, o.CommunityActor, kindLead(doc.PostKind, doc.Name))
	c.tags = s.withKindTag(c.tags, doc.PostKind)
	doc.Content, doc.Tag = c.content, c.tags
	// The people named before stay addressed: an edit never takes a
	// private post away from its readers' servers.
	_, _, before, err := s.sentAudience(ctx, o)
	if err != nil {
		return nil, err
	}
	doc.To, doc.CC = addressing(o.Visibility, author, o.CommunityActor, c.cc)
	doc.Source = &vocab.Source{Content: text, MediaType: sourceType(isMarkdown)}
	doc.Updated = vocab.At(time.Now().UTC())
	// Servers that read only boosts learn of the edit from the author,
	// and the people mentioned from it too.
	copies, err := s.authorCopies(ctx, o.CommunityActor)
	if err != nil {
		return nil, err
	}
	var inboxes []string
	if o.CommunityActor != nil {
		inboxes = append(inboxes, o.CommunityActor.InboxURI)
	}
	inboxes = append(inboxes, copies...)
	if !members {
		inboxes = append(inboxes, before...)
		inboxes = append(inboxes, c.inboxes...)
	}
	update, err := s.activityDoc(vocab.TypeUpdate, author, doc, doc.To, doc.CC)
	if err != nil {
		return nil, err
	}
	if err := s.act(ctx, author, o.CommunityActor, update, inboxes); err != nil {
		return nil, err
	}
	if media != nil {
		if err := s.DB.SetObjectMedia(ctx, o.ID, mediaIDs(atts)); err != nil {
			return nil, err
		}
	}
	return s.DB.GetObjectByURI(ctx, objectURI)
}

// Delete deletes a post, by its author or a moderator of its community.
func (s *Service) Delete(ctx context.Context, actor *storage.Actor, objectURI string) error {
	o, err := s.ownPost(ctx, actor, objectURI)
	if err != nil {
		return err
	}
	if o.AuthorActorID != actor.ID {
		// A moderator removes the post from the community; its author
		// keeps their own copy.
		return s.RemovePost(ctx, actor, objectURI, Reason{})
	}
	tomb := &vocab.Object{ID: o.URI, Type: vocab.TypeTombstone}
	if o.CommunityActor == nil {
		// A post outside any community (a reply to a person, a
		// followers-only or direct post): its Delete goes where the
		// post went.
		to, cc, inboxes, err := s.sentAudience(ctx, o)
		if err != nil {
			return err
		}
		body, err := s.activityDoc(vocab.TypeDelete, actor, tomb, to, cc)
		if err != nil {
			return err
		}
		return s.act(ctx, actor, nil, body, inboxes)
	}
	to, cc := []string{vocab.Public}, []string{o.CommunityActor.URI}
	if o.Visibility == storage.VisibilityMembers {
		// Where the post went: the community's members only.
		to = []string{o.CommunityActor.FollowersURI}
	} else if actor.FollowersURI != "" {
		cc = append(cc, actor.FollowersURI)
	}
	body, err := s.activityDoc(vocab.TypeDelete, actor, tomb, to, cc)
	if err != nil {
		return err
	}
	inboxes := []string{o.CommunityActor.InboxURI}
	if o.AuthorActorID == actor.ID {
		// Servers that read only boosts accept a Delete from the author
		// alone (a moderator's deletion undoes the community's boost).
		copies, err := s.authorCopies(ctx, o.CommunityActor)
		if err != nil {
			return err
		}
		inboxes = append(inboxes, copies...)
	}
	return s.act(ctx, actor, o.CommunityActor, body, inboxes)
}

// Like records a member's like of a post: sent to its community and its
// author; a like of one's own post outside a community is kept here (as
// Mastodon lets an author favourite their own post).
func (s *Service) Like(ctx context.Context, actor *storage.Actor, objectURI string) error {
	o, err := s.DB.GetObjectByURI(ctx, objectURI)
	if err != nil {
		return err
	}
	if o.DeletedAt != nil {
		return fmt.Errorf("%w: %s is not a live post", ErrInvalid, objectURI)
	}
	var to, inboxes []string
	if o.CommunityActor != nil {
		to, inboxes = []string{o.CommunityActor.URI}, []string{o.CommunityActor.InboxURI}
	}
	if o.AuthorActor != nil && o.AuthorActor.ID != actor.ID {
		// The author hears of it directly, as from Mastodon: an Announce
		// of a Like from another host is not something servers trust.
		to = append(to, o.AuthorActor.URI)
		inboxes = append(inboxes, o.AuthorActor.InboxURI)
	}
	body, err := s.activityDoc(vocab.TypeLike, actor, o.URI, to, nil)
	if err != nil {
		return err
	}
	return s.act(ctx, actor, o.CommunityActor, body, inboxes)
}

// Unlike withdraws a member's like of a post: an Undo of the Like as it
// was sent, so that the community matches it by id. ErrNotFound if the
// member had not liked the post.
func (s *Service) Unlike(ctx context.Context, actor *storage.Actor, objectURI string) error {
	o, err := s.DB.GetObjectByURI(ctx, objectURI)
	if err != nil {
		return err
	}
	like, err := s.DB.GetLike(ctx, actor.ID, o.ID)
	if err != nil {
		return err
	}
	if o.CommunityActor == nil && (o.AuthorActor == nil || o.AuthorActor.ID == actor.ID) {
		return s.DB.DeleteLike(ctx, actor.ID, o.ID)
	}
	inner := &vocab.Activity{ID: like.URI, Type: vocab.TypeLike, Actor: vocab.IRI(actor.URI), Object: vocab.RefsTo(o.URI)}
	var to, inboxes []string
	if o.CommunityActor != nil {
		to, inboxes = []string{o.CommunityActor.URI}, []string{o.CommunityActor.InboxURI}
	}
	if o.AuthorActor != nil && o.AuthorActor.ID != actor.ID {
		to = append(to, o.AuthorActor.URI)
		inboxes = append(inboxes, o.AuthorActor.InboxURI)
	}
	body, err := s.activityDoc(vocab.TypeUndo, actor, inner, to, nil)
	if err != nil {
		return err
	}
	return s.act(ctx, actor, o.CommunityActor, body, inboxes)
}

// Join makes a local member follow a community: locally at once (or
// pending approval), remotely by sending Follow.
func (s *Service) Join(ctx context.Context, member *storage.Actor, community string) (*storage.Membership, error) {
	g, err := s.resolveCommunity(ctx, community)
	if err != nil {
		return nil, err
	}
	return s.follow(ctx, member, g)
}

// Follow makes a local member follow an actor (a handle, a local name or
// an actor id): a community, which is joining it, or a person. A local
// person is followed at once; a remote actor is sent a Follow, and the
// follow stays pending until it answers.
func (s *Service) Follow(ctx context.Context, member *storage.Actor, ref string) (*storage.Membership, error) {
	target, err := s.resolveFollowable(ctx, ref)
	if err != nil {
		return nil, err
	}
	return s.follow(ctx, member, target)
}

func (s *Service) follow(ctx context.Context, member, g *storage.Actor) (*storage.Membership, error) {
	switch {
	case !member.Local:
		return nil, fmt.Errorf("%w: only local members follow from here", ErrForbidden)
	case g.ID == member.ID:
		return nil, fmt.Errorf("%w: you cannot follow yourself", ErrInvalid)
	}
	if m, err := s.DB.GetMembership(ctx, g.ID, member.ID); err == nil {
		return m, nil // already following or waiting
	}
	body, err := s.activityDoc(vocab.TypeFollow, member, g.URI, []string{g.URI}, nil)
	if err != nil {
		return nil, err
	}
	act, err := vocab.ParseActivity(body)
	if err != nil {
		return nil, err
	}
	if g.Local {
		if err := s.onFollow(ctx, act, body, member); err != nil {
			return nil, err
		}
		return s.DB.GetMembership(ctx, g.ID, member.ID)
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if _, err := s.send(ctx, tx, member, body, []string{g.InboxURI}); err != nil {
			return err
		}
		return tx.PutMembership(ctx, &storage.Membership{
			CommunityActorID: g.ID, MemberActorID: member.ID, State: storage.StatePending, FollowURI: act.ID,
		})
	})
	if err != nil {
		return nil, err
	}
	s.notifyDeliveries()
	return s.DB.GetMembership(ctx, g.ID, member.ID)
}

// Leave ends a local member's membership, telling a remote community.
func (s *Service) Leave(ctx context.Context, member *storage.Actor, community string) error {
	g, err := s.resolveCommunity(ctx, community)
	if err != nil {
		return err
	}
	return s.unfollow(ctx, member, g)
}

// Unfollow ends a local member's follow of an actor, community or person,
// sending Undo{Follow} to a remote one. ErrNotFound if there was none.
func (s *Service) Unfollow(ctx context.Context, member *storage.Actor, ref string) error {
	target, err := s.resolveFollowable(ctx, ref)
	if err != nil {
		return err
	}
	return s.unfollow(ctx, member, target)
}

func (s *Service) unfollow(ctx context.Context, member, g *storage.Actor) error {
	m, err := s.DB.GetMembership(ctx, g.ID, member.ID)
	if err != nil {
		return err
	}
	if g.Local {
		return s.DB.DeleteMembership(ctx, g.ID, member.ID)
	}
	follow := &vocab.Activity{ID: m.FollowURI, Type: vocab.TypeFollow, Actor: vocab.IRI(member.URI), Object: vocab.RefsTo(g.URI)}
	body, err := s.activityDoc(vocab.TypeUndo, member, follow, []string{g.URI}, nil)
	if err != nil {
		return err
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if _, err := s.send(ctx, tx, member, body, []string{g.InboxURI}); err != nil {
			return err
		}
		return tx.DeleteMembership(ctx, g.ID, member.ID)
	})
	if err == nil {
		s.notifyDeliveries()
	}
	return err
}

// Decide approves or rejects a pending request to join a local closed
// community, as its owner or a moderator would.
func (s *Service) Decide(ctx context.Context, communityName, member string, approve bool) (*storage.Membership, error) {
	c, err := s.DB.GetCommunityByName(ctx, communityName)
	if err != nil {
		return nil, err
	}
	var who *storage.Actor
	if strings.HasPrefix(member, "http://") || strings.HasPrefix(member, "https://") {
		who, err = s.DB.GetActorByURI(ctx, member)
	} else {
		who, err = s.ResolveHandle(ctx, member)
	}
	if err != nil {
		return nil, fmt.Errorf("member %q: %w", member, err)
	}
	m, err := s.DB.GetMembership(ctx, c.ActorID, who.ID)
	if err != nil {
		return nil, fmt.Errorf("no request from %s to join %s: %w", member, communityName, err)
	}
	if m.State != storage.StatePending {
		return nil, fmt.Errorf("%w: %s is already a member of %s", ErrInvalid, member, communityName)
	}
	var followRaw []byte
	if f, err := s.DB.GetActivityByURI(ctx, m.FollowURI); err == nil {
		followRaw = []byte(f.Raw)
	}
	typ := vocab.TypeReject
	if approve {
		typ = vocab.TypeAccept
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if approve {
			if err := tx.AcceptMembership(ctx, m.ID); err != nil {
				return err
			}
		} else if err := tx.DeleteMembership(ctx, c.ActorID, who.ID); err != nil {
			return err
		}
		return s.answerFollow(ctx, tx, typ, c.Actor, who, m.FollowURI, followRaw)
	})
	if err != nil {
		return nil, err
	}
	s.notifyDeliveries()
	if approve {
		m.State = storage.StateAccepted
		s.welcomeMember(ctx, c.Actor, who)
	}
	return m, nil
}

// resolveCommunity finds a community by handle or actor id.
func (s *Service) resolveCommunity(ctx context.Context, ref string) (*storage.Actor, error) {
	var (
		g   *storage.Actor
		err error
	)
	switch {
	case strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://"):
		g, err = s.Actor(ctx, ref)
	case !strings.Contains(strings.TrimPrefix(ref, "@"), "@"):
		g, err = s.DB.GetLocalActorByType(ctx, strings.TrimPrefix(ref, "@"), storage.TypeGroup)
	default:
		g, err = s.ResolveHandle(ctx, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("community %q: %w", ref, err)
	}
	if g.Type != storage.TypeGroup {
		return nil, fmt.Errorf("%w: %s is not a community", ErrInvalid, ref)
	}
	if !g.Local {
		if err := s.refuse(ctx, g.URI); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// resolveFollowable finds an actor a member may follow, a community or a
// person, by handle, local name or actor id.
func (s *Service) resolveFollowable(ctx context.Context, ref string) (*storage.Actor, error) {
	var (
		a   *storage.Actor
		err error
	)
	switch {
	case strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://"):
		a, err = s.Actor(ctx, ref)
	case !strings.Contains(strings.TrimPrefix(ref, "@"), "@"):
		a, err = s.DB.GetLocalActor(ctx, strings.TrimPrefix(ref, "@"))
	default:
		a, err = s.ResolveHandle(ctx, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("account %q: %w", ref, err)
	}
	if a.Type != storage.TypeGroup && a.Type != storage.TypePerson {
		return nil, fmt.Errorf("%w: %s is neither a person nor a community", ErrInvalid, ref)
	}
	if !a.Local {
		if err := s.refuse(ctx, a.URI); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// mentionLink is the Mastodon-style mention of the community that opens a
// post, so that Mastodon readers see where it was posted.
func mentionLink(g *storage.Actor) string {
	href := LinkOrID(g.URL, g.URI)
	return `<p><span class="h-card"><a href="` + html.EscapeString(href) + `" class="u-url mention">@<span>` +
		html.EscapeString(g.Username) + `</span></a></span></p>`
}
