package vocab

// Shapes the HTTP layer serves where Actor and Collection, which are built
// for reading and sending, leave out fields that other servers expect to
// find even when they are empty or false.

// ServedActor is an Actor as we publish it. Its own fields shadow the
// embedded Actor's and are always written: Mastodon writes
// manuallyApprovesFollowers, discoverable, name and summary even when false
// or empty, and Lemmy reads postingRestrictedToMods on a Group. Build it with
// Serve so the shadowed values are copied.
type ServedActor struct {
	Actor
	Name                      string `json:"name"`
	Summary                   string `json:"summary"`
	ManuallyApprovesFollowers bool   `json:"manuallyApprovesFollowers"`
	Discoverable              bool   `json:"discoverable"`
	// PostingRestrictedToMods is set for a Group only.
	PostingRestrictedToMods *bool `json:"postingRestrictedToMods,omitempty"`
}

// Serve wraps a for publishing, carrying over the fields ServedActor
// always writes.
func Serve(a Actor) ServedActor {
	s := ServedActor{
		Actor:                     a,
		Name:                      a.Name,
		Summary:                   a.Summary,
		ManuallyApprovesFollowers: a.ManuallyApprovesFollowers,
		Discoverable:              a.Discoverable,
	}
	if a.Type == TypeGroup {
		restricted := a.PostingRestrictedToMods
		s.PostingRestrictedToMods = &restricted
	}
	return s
}

// ItemsPage is an OrderedCollectionPage, or an OrderedCollection that holds
// its items inline (a Group's moderators and featured posts, which Lemmy
// reads only inline). Unlike Collection it always writes orderedItems,
// as [] when empty, because Lemmy requires the field.
type ItemsPage struct {
	ID           string `json:"id"`
	Type         string `json:"type"`
	TotalItems   *int64 `json:"totalItems,omitempty"`
	PartOf       IRI    `json:"partOf,omitempty"`
	Next         IRI    `json:"next,omitempty"`
	Prev         IRI    `json:"prev,omitempty"`
	OrderedItems []Ref  `json:"orderedItems"`
}

// MarshalJSON writes a nil item list as [].
func (p ItemsPage) MarshalJSON() ([]byte, error) {
	type plain ItemsPage
	if p.OrderedItems == nil {
		p.OrderedItems = []Ref{}
	}
	return marshalNoEscape(plain(p))
}

// Featured is a community's featured collection as we serve it: its
// posts embedded in order (a list even when empty or of one, as Lemmy
// reads it) and its sections.
type Featured struct {
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	TotalItems   int       `json:"totalItems"`
	OrderedItems []Ref     `json:"orderedItems"`
	Sections     []Section `json:"sections,omitempty"`
}
