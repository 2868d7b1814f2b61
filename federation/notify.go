package federation

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// What the client API needs to learn from federation events, recorded in
// the same transaction as the event: notifications for local members
// (follows and follow requests, mentions and replies, likes) and the
// hashtags of stored posts, for tag timelines. Local and remote events
// arrive through the same handlers, so both notify alike.

// maxPostTags bounds the hashtags indexed per post.
const maxPostTags = 20

// objectStored indexes a newly stored post's hashtags and notifies the
// local members it mentions or answers.
func (s *Service) objectStored(ctx context.Context, tx *storage.DB, o *storage.Object, obj *vocab.Object) error {
	if err := tx.PutObjectTags(ctx, o.ID, postHashtags(o, obj)); err != nil {
		return err
	}
	notified := map[int64]bool{o.AuthorActorID: true}
	notify := func(a *storage.Actor) error {
		if a == nil || !a.Local || a.Type != storage.TypePerson || notified[a.ID] {
			return nil
		}
		notified[a.ID] = true
		if ok, err := tx.CanSee(ctx, a, o); err != nil || !ok {
			// A followers-only or direct reply that does not name the
			// author answered is not theirs to hear of.
			return err
		}
		return s.notify(ctx, tx, &storage.Notification{
			RecipientActorID: a.ID, Type: storage.NotifyMention, FromActorID: o.AuthorActorID, ObjectID: o.ID,
		})
	}
	if o.InReplyToID != nil {
		parent, err := tx.GetObjectByID(ctx, *o.InReplyToID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err == nil {
			if err := notify(parent.AuthorActor); err != nil {
				return err
			}
		}
	}
	for _, t := range obj.Tag.OfType(vocab.TypeMention) {
		if !s.URLs.IsLocal(t.Href) {
			continue
		}
		a, err := tx.GetActorByURI(ctx, t.Href)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if err := notify(a); err != nil {
			return err
		}
	}
	return nil
}

// followed notifies a local member who was followed, or the owners and
// moderators of a local community someone joined or asked to join.
func (s *Service) followed(ctx context.Context, tx *storage.DB, target, follower *storage.Actor, state string) error {
	if !target.Local {
		return nil
	}
	typ := storage.NotifyFollow
	if state == storage.StatePending {
		typ = storage.NotifyFollowRequest
	}
	recipients := []storage.Actor{*target}
	if target.Type == storage.TypeGroup {
		mods, err := tx.Moderators(ctx, target.ID)
		if err != nil {
			return err
		}
		recipients = mods
	}
	for _, r := range recipients {
		if r.ID == follower.ID || r.Type != storage.TypePerson {
			continue
		}
		if err := s.notify(ctx, tx, &storage.Notification{RecipientActorID: r.ID, Type: typ, FromActorID: follower.ID}); err != nil {
			return err
		}
	}
	return nil
}

// liked notifies the local author of a post that liker liked it.
func (s *Service) liked(ctx context.Context, tx *storage.DB, o *storage.Object, liker *storage.Actor) error {
	author := o.AuthorActor
	if author == nil {
		a, err := tx.GetActorByID(ctx, o.AuthorActorID)
		if err != nil {
			return err
		}
		author = a
	}
	if !author.Local || author.Type != storage.TypePerson || author.ID == liker.ID {
		return nil
	}
	return s.notify(ctx, tx, &storage.Notification{
		RecipientActorID: author.ID, Type: storage.NotifyFavourite, FromActorID: liker.ID, ObjectID: o.ID,
	})
}

// hashtagRe finds #tags in plain text as Mastodon does: not inside a
// word, a URL or an HTML entity, and not all digits.
var hashtagRe = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_/#&])#([\p{L}\p{N}_]*[\p{L}_][\p{L}\p{N}_]*)`)

// TextHashtags returns the distinct hashtags of plain text, lower-cased,
// in order of appearance.
func TextHashtags(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range hashtagRe.FindAllStringSubmatch(text, -1) {
		t := strings.ToLower(m[1])
		if seen[t] || utf8.RuneCountInString(t) > MaxTagLen {
			continue
		}
		seen[t] = true
		out = append(out, t)
		if len(out) == maxPostTags {
			break
		}
	}
	return out
}

// postHashtags are a post's hashtags: the Hashtag tags a remote server
// sent, or those written in a local post's text.
func postHashtags(o *storage.Object, obj *vocab.Object) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range obj.Tag.OfType(vocab.TypeHashtag) {
		name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t.Name), "#"))
		if name == "" || seen[name] || utf8.RuneCountInString(name) > MaxTagLen || len(out) == maxPostTags {
			continue
		}
		seen[name] = true
		out = append(out, name)
	}
	if o.Local && o.Source != "" {
		for _, t := range TextHashtags(o.Source) {
			if !seen[t] && len(out) < maxPostTags {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// TagURL is the public URL of a hashtag on this instance, as Mastodon
// shapes it.
func (u URLs) TagURL(tag string) string { return u.Base + "/tags/" + strings.ToLower(tag) }

// hashtagTags are the Hashtag tags of a local post's text.
func (s *Service) hashtagTags(text string) vocab.Tags {
	var out vocab.Tags
	for _, t := range TextHashtags(text) {
		out = append(out, vocab.Tag{Type: vocab.TypeHashtag, Href: s.URLs.TagURL(t), Name: "#" + t})
	}
	return out
}

// postLanguage is the language a post declares: the only key of its
// contentMap, when it has exactly one.
func postLanguage(obj *vocab.Object) string {
	if len(obj.ContentMap) != 1 {
		return ""
	}
	for lang := range obj.ContentMap {
		if len(lang) <= 16 {
			return lang
		}
	}
	return ""
}
