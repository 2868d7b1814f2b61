package federation

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Conversions from storage to the ActivityStreams documents we serve and
// send (GoToSocial calls these "internal to AS").

// ObjectDocument renders a stored post as the Note other servers see. A
// deleted post renders as a Tombstone.
func (s *Service) ObjectDocument(o *storage.Object) *vocab.Object {
	if o.DeletedAt != nil {
		return &vocab.Object{ID: o.URI, Type: vocab.TypeTombstone, FormerType: o.Type, Deleted: vocab.At(*o.DeletedAt)}
	}
	doc := &vocab.Object{
		ID: o.URI, Type: o.Type,
		Name: o.Name, PostKind: o.Kind, Summary: o.Summary, Content: o.Content, Sensitive: o.Sensitive,
		MediaType: "text/html",
		InReplyTo: vocab.IRI(o.InReplyToURI),
		Published: vocab.At(o.PublishedAt),
		Context:   vocab.IRI(servedContext(s, o)),
		URL:       vocab.LinkTo(o.URI),
		Replies:   repliesOf(o.URI),
	}
	if o.Kind == KindQuestion {
		doc.AcceptedAnswer = vocab.IRI(o.AcceptedAnswerURI)
	}
	if o.Source != "" {
		doc.Source = &vocab.Source{Content: o.Source, MediaType: "text/plain"}
	}
	if o.EditedAt != nil {
		doc.Updated = vocab.At(*o.EditedAt)
	}
	author := &storage.Actor{}
	if o.AuthorActor != nil {
		author = o.AuthorActor
		doc.AttributedTo = vocab.RefsTo(o.AuthorActor.URI)
	}
	if g := o.CommunityActor; g != nil {
		doc.Audience = vocab.IRI(g.URI)
		// A Mention of the group is how Mastodon users address one, and
		// how Mastodon shows whose conversation this is.
		doc.Tag = vocab.Tags{{Type: vocab.TypeMention, Href: g.URI, Name: "@" + g.Handle()}}
	}
	doc.Attachment = sentAttachments(o)
	var mentioned []string
	if sent := sentTags(o); len(sent) > 0 {
		// A local post is served with the tags it was sent with (the
		// community, the people it mentions, its hashtags): servers that
		// fetch it after a boost index it by them.
		doc.Tag = sent
		for _, m := range sent.OfType(vocab.TypeMention) {
			if (o.CommunityActor == nil || m.Href != o.CommunityActor.URI) && m.Href != author.URI && !slices.Contains(mentioned, m.Href) {
				mentioned = append(mentioned, m.Href)
			}
		}
	}
	// Addressed as it was sent (visibility.go).
	doc.To, doc.CC = addressing(o.Visibility, author, o.CommunityActor, mentioned)
	return doc
}

// sentAttachments are the attachments of a local post as last sent, or
// nil.
func sentAttachments(o *storage.Object) vocab.Attachments {
	if !o.Local || o.Raw == "" {
		return nil
	}
	sent, err := vocab.ParseObject([]byte(o.Raw))
	if err != nil {
		return nil
	}
	return sent.Attachment
}

// sentTags are the tags of a local post as last sent (its stored
// document), or nil.
func sentTags(o *storage.Object) vocab.Tags {
	if !o.Local || o.Raw == "" {
		return nil
	}
	sent, err := vocab.ParseObject([]byte(o.Raw))
	if err != nil {
		return nil
	}
	return sent.Tag
}

// repliesOf is a post's replies collection as Mastodon embeds it: an
// empty first page that links the collection's first real page. GoToSocial
// reads replies only through an embedded first page (it warns of every
// post without one).
func repliesOf(objectURI string) vocab.Ref {
	id := objectURI + "/replies"
	r, err := vocab.Embed(struct {
		ID    string `json:"id"`
		Type  string `json:"type"`
		First any    `json:"first"`
	}{id, vocab.TypeOrderedCollection, struct {
		Type         string   `json:"type"`
		PartOf       string   `json:"partOf"`
		Next         string   `json:"next"`
		OrderedItems []string `json:"orderedItems"`
	}{vocab.TypeOrderedCollectionPage, id, id + "?page=true", []string{}}})
	if err != nil { // cannot happen: the document is fixed
		return vocab.NewRef(id)
	}
	return r
}

// rawDocument is an activity whose object is embedded exactly as we got it
// (FEP-1b12's Announce of the original activity).
type rawDocument struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Actor     string          `json:"actor"`
	Object    json.RawMessage `json:"object"`
	To        []string        `json:"to,omitempty"`
	CC        []string        `json:"cc,omitempty"`
	Audience  string          `json:"audience,omitempty"`
	Published string          `json:"published,omitempty"`
}

// announceRaw builds the community's Announce of an activity as received.
// Announces carry published, as Mastodon's do (GoToSocial warns of every
// one without).
func (s *Service) announceRaw(community *storage.Actor, raw []byte) ([]byte, error) {
	if !json.Valid(raw) {
		return nil, fmt.Errorf("%w: announced activity is not JSON", ErrInvalid)
	}
	to, cc := communityAudience(community)
	return vocab.Marshal(rawDocument{
		ID: s.URLs.NewActivity(), Type: vocab.TypeAnnounce, Actor: community.URI,
		Object: raw, To: to, CC: cc,
		Audience: community.URI, Published: time.Now().UTC().Format(time.RFC3339),
	})
}

// announceID builds the community's Announce of a bare object id: a boost,
// the only form Mastodon and GoToSocial show.
func (s *Service) announceID(community *storage.Actor, objectURI string) ([]byte, error) {
	to, cc := communityAudience(community)
	return vocab.Marshal(&vocab.Activity{
		ID: s.URLs.NewActivity(), Type: vocab.TypeAnnounce, Actor: vocab.IRI(community.URI),
		Object: vocab.RefsTo(objectURI), To: to, CC: cc,
		Audience: vocab.IRI(community.URI), Published: vocab.At(time.Now().UTC().Truncate(time.Second)),
	})
}

// communityAudience is how a community addresses what it sends its
// members: in public, cc its followers; a members-only community to its
// followers only, so that no server reads it as public.
func communityAudience(community *storage.Actor) (to, cc []string) {
	if community.MembersOnly {
		return []string{community.FollowersURI}, nil
	}
	return []string{vocab.Public}, []string{community.FollowersURI}
}

// activityDoc builds an activity of ours whose object is a document or id.
func (s *Service) activityDoc(typ string, actor *storage.Actor, object any, to, cc []string) ([]byte, error) {
	var ref vocab.Refs
	switch o := object.(type) {
	case string:
		ref = vocab.RefsTo(o)
	case json.RawMessage:
		var r vocab.Ref
		if err := r.UnmarshalJSON(o); err != nil {
			return nil, err
		}
		ref = vocab.Refs{r}
	default:
		r, err := vocab.Embed(o)
		if err != nil {
			return nil, err
		}
		ref = vocab.Refs{r}
	}
	return vocab.Marshal(&vocab.Activity{
		ID: s.URLs.NewActivity(), Type: typ, Actor: vocab.IRI(actor.URI), Object: ref,
		To: to, CC: cc,
	})
}

// rawJSON marks stored JSON text for embedding as it is.
func rawJSON[T string | []byte](v T) json.RawMessage { return json.RawMessage(v) }
