package server

import (
	"html"
	"strconv"
	"strings"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Conversions from storage models to the ActivityStreams documents we serve.

// actorToAS fills what every actor type shares.
func actorToAS(a *storage.Actor) vocab.Actor {
	doc := vocab.Actor{
		ID:                        a.URI,
		Type:                      a.Type,
		PreferredUsername:         a.Username,
		Name:                      a.DisplayName,
		Summary:                   textToHTML(a.Summary),
		Inbox:                     vocab.IRI(a.InboxURI),
		Outbox:                    vocab.IRI(a.OutboxURI),
		Followers:                 vocab.IRI(a.FollowersURI),
		Following:                 vocab.IRI(a.FollowingURI),
		Featured:                  vocab.IRI(a.FeaturedURI),
		ManuallyApprovesFollowers: a.ManuallyApprovesFollowers,
		PublicKey: vocab.PublicKeys{{
			ID:           a.KeyID,
			Owner:        vocab.IRI(a.URI),
			PublicKeyPem: a.PublicKeyPEM,
		}},
	}
	if a.URL != "" {
		doc.URL = vocab.LinkTo(a.URL)
	}
	if a.SharedInboxURI != "" {
		doc.Endpoints = &vocab.Endpoints{SharedInbox: vocab.IRI(a.SharedInboxURI)}
	}
	if a.PublishedAt != nil {
		doc.Published = vocab.At(*a.PublishedAt)
	}
	return doc
}

// hashtagsOf is the featuredTags collection id of tags: Hashtag objects
// as Mastodon publishes them (href the tag's page here, name with '#'),
// inline.
func hashtagsOf(urls federation.URLs, id string, tags []string) (vocab.ItemsPage, error) {
	total := int64(len(tags))
	doc := vocab.ItemsPage{ID: id, Type: vocab.TypeOrderedCollection, TotalItems: &total, OrderedItems: make([]vocab.Ref, 0, len(tags))}
	for _, t := range tags {
		ref, err := vocab.Embed(&vocab.Tag{Type: vocab.TypeHashtag, Href: urls.TagURL(t), Name: "#" + t})
		if err != nil {
			return doc, err
		}
		doc.OrderedItems = append(doc.OrderedItems, ref)
	}
	return doc, nil
}

// personToAS is a member's Person, with the profile's fields as Mastodon
// publishes them (PropertyValue) and their featured hashtags
// (featuredTags). Members are not listed in directories unless they opt in
// (discoverable).
func personToAS(a *storage.Actor) vocab.ServedActor {
	doc := actorToAS(a)
	doc.FeaturedTags = vocab.IRI(federation.FeaturedTagsURI(a))
	for _, f := range a.ProfileFields() {
		doc.Attachment = append(doc.Attachment, vocab.Attachment{
			Type: vocab.TypePropertyValue, Name: f.Name, Value: html.EscapeString(f.Value),
		})
	}
	doc.Discoverable = a.Discoverable != nil && *a.Discoverable
	return vocab.Serve(doc)
}

// groupToAS is a community's Group. Its title and statement of domain come
// from the community, the moderators collection is named both the Lemmy
// way (attributedTo) and the older way (moderators), and public
// communities ask to be discoverable.
//
// Community tags are not published as Hashtag objects in tag: Lemmy reads
// a Group's tag list as its own CommunityPostTag type, and an entry it
// cannot read would make the whole Group unreadable to it. They are the
// Group's featuredTags collection instead, which Mastodon shows on the
// community's profile as an account's featured hashtags.
func groupToAS(c *storage.Community, moderatorsURI string) vocab.ServedActor {
	doc := actorToAS(c.Actor)
	doc.FeaturedTags = vocab.IRI(federation.FeaturedTagsURI(c.Actor))
	doc.Name = c.Title
	doc.Summary = textToHTML(c.Summary)
	doc.AttributedTo = vocab.RefsTo(moderatorsURI)
	doc.Moderators = vocab.IRI(moderatorsURI)
	doc.Discoverable = c.Visibility == storage.VisibilityPublic
	doc.PostingRestrictedToMods = c.Actor.PostingRestrictedToMods
	doc.MembersOnly = c.Actor.MembersOnly
	return vocab.Serve(doc)
}

// instanceActorToAS is the Application that signs our fetches. Like
// Mastodon's it approves followers manually: nobody should follow it.
func instanceActorToAS(a *storage.Actor) vocab.ServedActor {
	doc := actorToAS(a)
	doc.ManuallyApprovesFollowers = true
	return vocab.Serve(doc)
}

// createOf wraps a member's object in the Create that published it. The
// activity's id is derived from the object's until activities are stored
// per object.
func createOf(o *storage.Object, author *storage.Actor) *vocab.Activity {
	act := &vocab.Activity{
		ID:        o.URI + "#create",
		Type:      vocab.TypeCreate,
		Actor:     vocab.IRI(author.URI),
		Object:    vocab.RefsTo(o.URI),
		To:        vocab.IRIs{vocab.Public},
		Published: vocab.At(o.PublishedAt),
	}
	if author.FollowersURI != "" {
		act.CC = append(act.CC, author.FollowersURI)
	}
	if o.Visibility == storage.VisibilityUnlisted {
		// As the post is addressed: Public in cc.
		act.To, act.CC = act.CC, vocab.IRIs{vocab.Public}
	}
	if o.CommunityActor != nil {
		act.CC = append(act.CC, o.CommunityActor.URI)
		act.Audience = vocab.IRI(o.CommunityActor.URI)
	}
	return act
}

// announceOf is a community's redistribution of a post (FEP-1b12), which
// Mastodon shows as a boost. The object may be remote, so the stand-in id
// hangs off the community's own id; callers put the id of the Announce
// actually sent in its place when there is one.
func announceOf(o *storage.Object, community *storage.Actor) *vocab.Activity {
	return &vocab.Activity{
		ID:        community.URI + "#announce-" + strconv.FormatInt(o.ID, 10),
		Type:      vocab.TypeAnnounce,
		Actor:     vocab.IRI(community.URI),
		Object:    vocab.RefsTo(o.URI),
		To:        vocab.IRIs{vocab.Public},
		CC:        vocab.IRIs{community.FollowersURI},
		Audience:  vocab.IRI(community.URI),
		Published: vocab.At(o.PublishedAt),
	}
}

// textToHTML turns the plain text of a summary into escaped HTML
// paragraphs, the form summary takes on the fediverse.
func textToHTML(text string) string {
	var b strings.Builder
	for _, p := range federation.Paragraphs(text) {
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(p), "\n", "<br>"))
		b.WriteString("</p>")
	}
	return b.String()
}
