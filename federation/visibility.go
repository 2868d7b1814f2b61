package federation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/commonplace/commonplace/federation/httpsig"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Visibility of posts, as Mastodon addresses and reads it. Who may then
// read a stored post is decided in one place, storage/visibility.go; this
// file turns addressing into a visibility and back.
//
//	public:   to Public;    cc followers, (community,) people mentioned
//	unlisted: to followers; cc Public, (community,) people mentioned
//	private:  to followers; cc people mentioned
//	direct:   to people mentioned
//
//	members:  to the community's followers; cc the community
//
// A community is public talk: followers-only and direct posts never enter
// one, and a member's private post that mentions one is refused. A
// members-only community is the exception: every post in it, whatever its
// author's server chose, is a members post (VisibilityMembers), read by
// its members only and addressed to them only.

// Visibilities a member may choose.
var postVisibilities = []string{storage.VisibilityPublic, storage.VisibilityUnlisted, storage.VisibilityPrivate, storage.VisibilityDirect}

// limitedVisibility reports whether v keeps a post from the public:
// followers-only or direct.
func limitedVisibility(v string) bool {
	return v != storage.VisibilityPublic && v != storage.VisibilityUnlisted
}

// audienceOf reads a post's visibility from its addressing as Mastodon
// does (ActivityPub::Activity::Create#visibility_from_audience), and the
// actors it names: to, cc and Mention tags, less the Public collection and
// the author's followers collection.
func audienceOf(obj *vocab.Object, author *storage.Actor) (visibility string, named []string) {
	followers := author.FollowersURI
	switch {
	case vocab.IsPublic(obj.To):
		visibility = storage.VisibilityPublic
	case vocab.IsPublic(obj.CC):
		visibility = storage.VisibilityUnlisted
	case followers != "" && slices.Contains(obj.To, followers):
		visibility = storage.VisibilityPrivate
	default:
		visibility = storage.VisibilityDirect
	}
	add := func(uri string) {
		if uri == "" || uri == followers || uri == author.URI || vocab.IsPublic([]string{uri}) || slices.Contains(named, uri) {
			return
		}
		named = append(named, uri)
	}
	for _, u := range obj.To {
		add(u)
	}
	for _, u := range obj.CC {
		add(u)
	}
	for _, t := range obj.Tag.OfType(vocab.TypeMention) {
		add(t.Href)
	}
	return visibility, named
}

// addressing is the to and cc of a local post of the given visibility:
// community may be nil; mentioned are the people it names.
func addressing(visibility string, author, community *storage.Actor, mentioned []string) (to, cc vocab.IRIs) {
	var followers vocab.IRIs
	if author.FollowersURI != "" {
		followers = vocab.IRIs{author.FollowersURI}
	}
	var group vocab.IRIs
	if community != nil {
		group = vocab.IRIs{community.URI}
	}
	switch visibility {
	case storage.VisibilityMembers:
		// Only the community's members: not the author's followers, not
		// the people named (they read it if they are members).
		return vocab.IRIs{community.FollowersURI}, group
	case storage.VisibilityUnlisted:
		return followers, slices.Concat(vocab.IRIs{vocab.Public}, group, mentioned)
	case storage.VisibilityPrivate:
		return followers, slices.Concat(vocab.IRIs{}, mentioned)
	case storage.VisibilityDirect:
		return slices.Concat(vocab.IRIs{}, mentioned), nil
	default:
		return vocab.IRIs{vocab.Public}, slices.Concat(group, followers, mentioned)
	}
}

// membersOnly reports whether community is a members-only Group.
func membersOnly(community *storage.Actor) bool {
	return community != nil && community.Type == storage.TypeGroup && community.MembersOnly
}

// inMembersCommunity reports whether a post that targetCommunity placed in
// community, of the visibility its addressing says, is a members post:
// the community is members-only and the post is not a direct message to
// someone else (one addressed to the community or its followers is not).
func inMembersCommunity(obj *vocab.Object, community *storage.Actor, visibility string) bool {
	if !membersOnly(community) {
		return false
	}
	if visibility != storage.VisibilityDirect {
		return true
	}
	addressed := slices.Concat(obj.To, obj.CC, []string{string(obj.Audience)})
	return slices.Contains(addressed, community.URI) || slices.Contains(addressed, community.FollowersURI)
}

// addressesFollowers reports whether an activity of actor's reaches its
// followers: addressed to Public or to the followers collection.
func addressesFollowers(act *vocab.Activity, actor *storage.Actor) bool {
	if act.IsPublic() {
		return true
	}
	return actor.FollowersURI != "" && (slices.Contains(act.To, actor.FollowersURI) || slices.Contains(act.CC, actor.FollowersURI))
}

// recipientInboxes are the inboxes of the remote actors a stored post
// names, one per server.
func (s *Service) recipientInboxes(ctx context.Context, o *storage.Object) ([]string, error) {
	uris, err := s.DB.ObjectRecipients(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range uris {
		if s.URLs.IsLocal(u) {
			continue
		}
		a, err := s.DB.GetActorByURI(ctx, u)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		if in := a.DeliveryInbox(); in != "" && !slices.Contains(out, in) {
			out = append(out, in)
		}
	}
	return out, nil
}

// CanSee reports whether viewer (nil: anyone) may read post o; see
// storage/visibility.go.
func (s *Service) CanSee(ctx context.Context, viewer *storage.Actor, o *storage.Object) (bool, error) {
	return s.DB.CanSee(ctx, viewer, o)
}

// FetchAllowed decides whether a server's GET of local post o is
// answered. Public and unlisted posts are answered to anyone; others only
// to a request signed by an actor whose server hosts one of the post's
// readers (a recipient, or a follower of a followers-only post's author).
// The error is ErrUnauthorized for a bad signature and storage.ErrNotFound
// for an unsigned request or a server that may not see the post (so that
// its existence is not disclosed).
func (s *Service) FetchAllowed(ctx context.Context, r *http.Request, o *storage.Object) error {
	if !limitedVisibility(o.Visibility) {
		return nil
	}
	ver, err := httpsig.Options{}.Parse(r)
	if err != nil {
		// Unsigned: as if there were no such post.
		return fmt.Errorf("post %s, unsigned fetch (%v): %w", o.URI, err, storage.ErrNotFound)
	}
	if err := s.refuse(ctx, ver.KeyID()); err != nil {
		return err
	}
	signer, err := s.verifySignature(ctx, ver)
	if err != nil {
		return err
	}
	if signer.Local {
		return fmt.Errorf("%w: local actors do not fetch from here", ErrForbidden)
	}
	// A deleted post is answered as deleted only to the servers that
	// could read it.
	ok, err := s.DB.CouldServerSee(ctx, hostOf(signer.URI), o)
	if err != nil {
		return err
	}
	if !ok && o.Visibility == storage.VisibilityMembers && o.CommunityActor != nil && !o.CommunityActor.Local {
		// Its community, elsewhere, knows its members: ask it.
		if ok, err = s.communityHostsMember(ctx, o.CommunityActor, hostOf(signer.URI)); err != nil {
			s.Log.Info("members not read", "community", o.CommunityActor.URI, "err", err)
		}
	}
	if !ok {
		return fmt.Errorf("post %s is not for %s: %w", o.URI, signer.URI, storage.ErrNotFound)
	}
	return nil
}

// namesLocal reports whether any of uris is a local actor's id.
func (s *Service) namesLocal(uris []string) bool {
	return slices.ContainsFunc(uris, s.URLs.IsLocal)
}

// errPrivateInCommunity refuses a followers-only or direct post that
// mentions or is sent to a community.
var errPrivateInCommunity = fmt.Errorf("%w: a community is public talk: a followers-only or direct post cannot mention or be sent to one (post it publicly, or leave the community out)", ErrInvalid)

// isCommunity reports whether uri is a known community's actor id.
func (s *Service) isCommunity(ctx context.Context, uri string) bool {
	a, err := s.DB.GetActorByURI(ctx, uri)
	return err == nil && a.Type == storage.TypeGroup
}

// sentAudience is the to and cc a local post was last sent with, and the
// inboxes of the remote actors among them (followers collections are
// left to act, which adds the followers' servers).
func (s *Service) sentAudience(ctx context.Context, o *storage.Object) (to, cc, inboxes []string, err error) {
	if !o.Local || o.Raw == "" {
		return nil, nil, nil, nil
	}
	sent, err := vocab.ParseObject([]byte(o.Raw))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("post %s as sent: %w", o.URI, err)
	}
	for _, u := range slices.Concat(sent.To, sent.CC) {
		if u == "" || vocab.IsPublic([]string{u}) || s.URLs.IsLocal(u) {
			continue
		}
		a, err := s.DB.GetActorByURI(ctx, u)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, nil, nil, err
		}
		if in := a.DeliveryInbox(); in != "" && !slices.Contains(inboxes, in) {
			inboxes = append(inboxes, in)
		}
	}
	return sent.To, sent.CC, inboxes, nil
}

// CollectionAllowed decides whether a server's GET of a collection of the
// local community group (outbox, followers, following, featured,
// moderators) is answered: always for an open community; for a
// members-only one only to a request signed by an actor of a server that
// hosts one of its accepted members. Errors as FetchAllowed's.
func (s *Service) CollectionAllowed(ctx context.Context, r *http.Request, group *storage.Actor) error {
	if !membersOnly(group) {
		return nil
	}
	ver, err := httpsig.Options{}.Parse(r)
	if err != nil {
		return fmt.Errorf("collection of %s, unsigned fetch (%v): %w", group.URI, err, storage.ErrNotFound)
	}
	if err := s.refuse(ctx, ver.KeyID()); err != nil {
		return err
	}
	signer, err := s.verifySignature(ctx, ver)
	if err != nil {
		return err
	}
	if signer.Local {
		return fmt.Errorf("%w: local actors do not fetch from here", ErrForbidden)
	}
	ok, err := s.DB.HostHasMember(ctx, group.ID, hostOf(signer.URI))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("collections of %s are not for %s: %w", group.URI, signer.URI, storage.ErrNotFound)
	}
	return nil
}
