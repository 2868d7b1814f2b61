package vocab

// Actor is a Person, Group, Application, Service or Organization.
//
// For a Group, AttributedTo names its moderators collection (Lemmy; Peertube
// sends a list of actors instead), Featured its pinned posts, and
// PostingRestrictedToMods whether only moderators may post (Lemmy), and
// MembersOnly (commonplace:membersOnly) that only its members read its
// posts.
type Actor struct {
	ID                string  `json:"id"`
	Type              string  `json:"type"`
	PreferredUsername string  `json:"preferredUsername,omitempty"`
	Name              string  `json:"name,omitempty"`
	NameMap           LangMap `json:"nameMap,omitempty"`
	Summary           string  `json:"summary,omitempty"`
	SummaryMap        LangMap `json:"summaryMap,omitempty"`
	Source            *Source `json:"source,omitempty"`
	MediaType         string  `json:"mediaType,omitempty"`
	URL               Links   `json:"url,omitempty"`
	Inbox             IRI     `json:"inbox"`
	Outbox            IRI     `json:"outbox,omitempty"`
	Followers         IRI     `json:"followers,omitempty"`
	Following         IRI     `json:"following,omitempty"`
	Featured          IRI     `json:"featured,omitempty"`
	// FeaturedTags (toot:featuredTags) is the collection of the Hashtags
	// shown on the profile: a member's featured hashtags, a community's
	// tags.
	FeaturedTags              IRI         `json:"featuredTags,omitempty"`
	Endpoints                 *Endpoints  `json:"endpoints,omitempty"`
	PublicKey                 PublicKeys  `json:"publicKey,omitempty"`
	Icon                      *Image      `json:"icon,omitempty"`
	Image                     *Image      `json:"image,omitempty"`
	Published                 Time        `json:"published,omitzero"`
	Updated                   Time        `json:"updated,omitzero"`
	ManuallyApprovesFollowers bool        `json:"manuallyApprovesFollowers,omitempty"`
	Discoverable              bool        `json:"discoverable,omitempty"`
	Sensitive                 bool        `json:"sensitive,omitempty"`
	AttributedTo              Refs        `json:"attributedTo,omitempty"`
	Moderators                IRI         `json:"moderators,omitempty"`
	PostingRestrictedToMods   bool        `json:"postingRestrictedToMods,omitempty"`
	MembersOnly               bool        `json:"membersOnly,omitempty"`
	AlsoKnownAs               IRIs        `json:"alsoKnownAs,omitempty"`
	MovedTo                   IRI         `json:"movedTo,omitempty"`
	Tag                       Tags        `json:"tag,omitempty"`
	Attachment                Attachments `json:"attachment,omitempty"`
}

// SharedInbox returns the actor's shared inbox, or "" when it has none
// (GoToSocial publishes none): deliver to Inbox then.
func (a *Actor) SharedInbox() string {
	if a.Endpoints == nil {
		return ""
	}
	return string(a.Endpoints.SharedInbox)
}

// ModeratorsCollection returns the IRI of a Group's moderators collection:
// attributedTo when it is a single IRI (Lemmy), else the older moderators
// field. A Peertube-style list of embedded actors is not a collection; read
// AttributedTo for those.
func (a *Actor) ModeratorsCollection() string {
	if len(a.AttributedTo) == 1 && !a.AttributedTo[0].IsEmbedded() {
		return a.AttributedTo[0].ID()
	}
	return string(a.Moderators)
}
