package vocab

// Collection is a Collection, OrderedCollection or a page of either: a
// Group's moderators, featured posts, followers or outbox.
type Collection struct {
	ID           string `json:"id"`
	Type         string `json:"type"`
	TotalItems   *int   `json:"totalItems,omitempty"`
	First        Ref    `json:"first,omitzero"`
	Last         Ref    `json:"last,omitzero"`
	Next         IRI    `json:"next,omitempty"`
	Prev         IRI    `json:"prev,omitempty"`
	PartOf       IRI    `json:"partOf,omitempty"`
	Items        Refs   `json:"items,omitempty"`
	OrderedItems Refs   `json:"orderedItems,omitempty"`

	// Sections divide a community's featured collection, its repertoire,
	// into titled parts, in order (commonplace:sections).
	Sections []Section `json:"sections,omitempty"`
}

// Section is one titled part of a repertoire: the ids of its posts, in
// order.
type Section struct {
	Type         string   `json:"type"`
	Name         string   `json:"name"`
	OrderedItems []string `json:"orderedItems"`
}

// Members returns orderedItems, or items for an unordered collection.
func (c *Collection) Members() Refs {
	if len(c.OrderedItems) > 0 {
		return c.OrderedItems
	}
	return c.Items
}

// MarshalJSON writes items as lists even when there is one, unlike other
// Refs fields: Lemmy and Mastodon read collection items only as arrays.
func (c Collection) MarshalJSON() ([]byte, error) {
	type plain Collection
	return marshalNoEscape(struct {
		plain
		Items        []Ref `json:"items,omitempty"`
		OrderedItems []Ref `json:"orderedItems,omitempty"`
	}{plain(c), c.Items, c.OrderedItems})
}
