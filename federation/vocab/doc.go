// Package vocab is the ActivityStreams 2.0 vocabulary Commonplace reads and
// writes, as plain Go structs.
//
// Reading is tolerant, because the fediverse writes the same field in many
// shapes: a link may be an IRI, an embedded object or a list of either; a key
// may be an object or a list; a date may be malformed. Each such field has a
// small JSON helper type (IRI, IRIs, Ref, Refs, Links, Tags, PublicKeys, ...)
// that accepts every shape seen in the wild and writes the one shape that
// Mastodon, GoToSocial and Lemmy all accept.
//
// Writing goes through Marshal, which puts the JSON-LD @context on the
// top-level document only. No JSON-LD processing is done on input: like
// Mastodon, GoToSocial and Lemmy, we read compacted JSON by its plain keys.
package vocab

// Activity types: the ActivityStreams core set plus the extensions that
// community software sends (Lemmy's Lock, Pleroma/Misskey's EmojiReact).
const (
	TypeAccept          = "Accept"
	TypeAdd             = "Add"
	TypeAnnounce        = "Announce"
	TypeArrive          = "Arrive"
	TypeBlock           = "Block"
	TypeCreate          = "Create"
	TypeDelete          = "Delete"
	TypeDislike         = "Dislike"
	TypeFlag            = "Flag"
	TypeFollow          = "Follow"
	TypeIgnore          = "Ignore"
	TypeInvite          = "Invite"
	TypeJoin            = "Join"
	TypeLeave           = "Leave"
	TypeLike            = "Like"
	TypeListen          = "Listen"
	TypeMove            = "Move"
	TypeOffer           = "Offer"
	TypeRead            = "Read"
	TypeReject          = "Reject"
	TypeRemove          = "Remove"
	TypeTentativeAccept = "TentativeAccept"
	TypeTentativeReject = "TentativeReject"
	TypeTravel          = "Travel"
	TypeUndo            = "Undo"
	TypeUpdate          = "Update"
	TypeView            = "View"
	TypeLock            = "Lock"
	TypeEmojiReact      = "EmojiReact"
)

// Actor types.
const (
	TypeApplication  = "Application"
	TypeGroup        = "Group"
	TypeOrganization = "Organization"
	TypePerson       = "Person"
	TypeService      = "Service"
)

// Object types, including Pleroma's ChatMessage which arrives as a
// top-level object in the wild.
const (
	TypeArticle      = "Article"
	TypeAudio        = "Audio"
	TypeChatMessage  = "ChatMessage"
	TypeDocument     = "Document"
	TypeEvent        = "Event"
	TypeImage        = "Image"
	TypeNote         = "Note"
	TypePage         = "Page"
	TypePlace        = "Place"
	TypeProfile      = "Profile"
	TypeQuestion     = "Question"
	TypeRelationship = "Relationship"
	TypeTombstone    = "Tombstone"
	TypeVideo        = "Video"
)

// Collection types.
const (
	TypeCollection            = "Collection"
	TypeCollectionPage        = "CollectionPage"
	TypeOrderedCollection     = "OrderedCollection"
	TypeOrderedCollectionPage = "OrderedCollectionPage"
)

// Link, tag and attachment types.
const (
	TypeLink          = "Link"
	TypeMention       = "Mention"
	TypeHashtag       = "Hashtag"
	TypeEmoji         = "Emoji"
	TypePropertyValue = "PropertyValue"
)

// Kind is the broad class of a document, decided by its type.
type Kind int

// The kinds of document. KindUnknown is a type we do not recognise and
// that does not look like an activity; callers should ignore it.
const (
	KindUnknown Kind = iota
	KindActivity
	KindActor
	KindObject
	KindCollection
)

func (k Kind) String() string {
	switch k {
	case KindActivity:
		return "activity"
	case KindActor:
		return "actor"
	case KindObject:
		return "object"
	case KindCollection:
		return "collection"
	}
	return "unknown"
}

var (
	activityTypes = set(TypeAccept, TypeAdd, TypeAnnounce, TypeArrive, TypeBlock,
		TypeCreate, TypeDelete, TypeDislike, TypeFlag, TypeFollow, TypeIgnore,
		TypeInvite, TypeJoin, TypeLeave, TypeLike, TypeListen, TypeMove, TypeOffer,
		TypeRead, TypeReject, TypeRemove, TypeTentativeAccept, TypeTentativeReject,
		TypeTravel, TypeUndo, TypeUpdate, TypeView, TypeLock, TypeEmojiReact)
	actorTypes = set(TypeApplication, TypeGroup, TypeOrganization, TypePerson,
		TypeService)
	objectTypes = set(TypeArticle, TypeAudio, TypeChatMessage, TypeDocument,
		TypeEvent, TypeImage, TypeNote, TypePage, TypePlace, TypeProfile,
		TypeQuestion, TypeRelationship, TypeTombstone, TypeVideo)
	collectionTypes = set(TypeCollection, TypeCollectionPage,
		TypeOrderedCollection, TypeOrderedCollectionPage)
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// KindOf classifies a type name. Types outside the known sets are
// KindUnknown; Peek additionally treats an unknown type that carries an
// actor and an object as an activity, since software keeps inventing
// activity types (Lemmy's Warn, Resolve, ...).
func KindOf(typ string) Kind {
	switch {
	case activityTypes[typ]:
		return KindActivity
	case actorTypes[typ]:
		return KindActor
	case objectTypes[typ]:
		return KindObject
	case collectionTypes[typ]:
		return KindCollection
	}
	return KindUnknown
}

// IsActorType reports whether typ is one of the ActivityStreams actor types.
func IsActorType(typ string) bool { return actorTypes[typ] }
