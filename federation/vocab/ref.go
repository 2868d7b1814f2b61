package vocab

import (
	"bytes"
	"encoding/json"
	"errors"
)

// ErrNotEmbedded is returned when decoding a Ref that holds only an IRI.
// The caller has to fetch the document (and should, for anything it will
// trust: an embedded object is only as authentic as its container).
var ErrNotEmbedded = errors.New("vocab: reference is not embedded")

// Ref is a link that may be an IRI or an embedded document, such as the
// object of an activity (Announce embeds a Create, Create embeds a Note).
// The embedded form is kept as raw JSON and decoded on demand, so reading an
// activity never fails because of a part nobody looks at.
//
// A list where one value was expected keeps its first member.
type Ref struct {
	id  string
	typ string
	raw json.RawMessage // nil unless embedded
}

// NewRef returns a Ref to an IRI.
func NewRef(id string) Ref { return Ref{id: id} }

// Embed returns a Ref that embeds v (an *Object, *Activity, *Actor, ...).
// Our structs carry no @context, so an embedded document never repeats it.
func Embed(v any) (Ref, error) {
	raw, err := marshalNoEscape(v)
	if err != nil {
		return Ref{}, err
	}
	var r Ref
	err = r.UnmarshalJSON(raw)
	return r, err
}

// ID returns the id of the linked document, whether embedded or not.
func (r Ref) ID() string { return r.id }

// Type returns the type of the embedded document, or "" for a bare IRI.
func (r Ref) Type() string { return r.typ }

// IsEmbedded reports whether the document itself is present.
func (r Ref) IsEmbedded() bool { return r.raw != nil }

// IsZero reports whether the Ref is empty; omitzero uses it.
func (r Ref) IsZero() bool { return r.id == "" && r.raw == nil }

// Raw returns the embedded JSON, or nil.
func (r Ref) Raw() json.RawMessage { return r.raw }

// Activity decodes the embedded document as an activity.
func (r Ref) Activity() (*Activity, error) {
	if r.raw == nil {
		return nil, ErrNotEmbedded
	}
	return ParseActivity(r.raw)
}

// Object decodes the embedded document as an object.
func (r Ref) Object() (*Object, error) {
	if r.raw == nil {
		return nil, ErrNotEmbedded
	}
	return ParseObject(r.raw)
}

// Actor decodes the embedded document as an actor.
func (r Ref) Actor() (*Actor, error) {
	if r.raw == nil {
		return nil, ErrNotEmbedded
	}
	return ParseActor(r.raw)
}

// Collection decodes the embedded document as a collection.
func (r Ref) Collection() (*Collection, error) {
	if r.raw == nil {
		return nil, ErrNotEmbedded
	}
	return ParseCollection(r.raw)
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *Ref) UnmarshalJSON(data []byte) error {
	*r = Ref{}
	done := false
	return eachValue(data, func(v json.RawMessage) error {
		if done {
			return nil
		}
		done = true
		return r.set(v)
	})
}

func (r *Ref) set(v json.RawMessage) error {
	if v[0] != '{' {
		id, err := idOf(v)
		r.id = id
		return err
	}
	var h struct {
		ID   IRI             `json:"id"`
		Type json.RawMessage `json:"type"`
		Href string          `json:"href"`
	}
	if err := json.Unmarshal(v, &h); err != nil {
		return err
	}
	r.id = string(h.ID)
	if r.id == "" {
		r.id = h.Href
	}
	r.typ = typeOf(h.Type)
	// The decoder reuses its buffer; keep our own copy.
	r.raw = bytes.Clone(v)
	return nil
}

// MarshalJSON writes the embedded document as it was read, or the IRI.
func (r Ref) MarshalJSON() ([]byte, error) {
	if r.raw != nil {
		return r.raw, nil
	}
	if r.id == "" {
		return []byte("null"), nil
	}
	return json.Marshal(r.id)
}

// Refs is a link field that may hold several documents, such as
// attributedTo (Peertube and Lemmy send lists of actors) or the object of a
// Flag (a list of IRIs). The single-value methods look at the first member,
// which is what most fields carry. One member is written without a list,
// because Lemmy reads a Group's attributedTo as a single IRI.
type Refs []Ref

// RefsTo returns Refs holding bare IRIs.
func RefsTo(ids ...string) Refs {
	rs := make(Refs, len(ids))
	for i, id := range ids {
		rs[i] = NewRef(id)
	}
	return rs
}

// First returns the first member, or a zero Ref.
func (rs Refs) First() Ref {
	if len(rs) == 0 {
		return Ref{}
	}
	return rs[0]
}

// ID returns the id of the first member.
func (rs Refs) ID() string { return rs.First().ID() }

// IDs returns the ids of all members, skipping any without one.
func (rs Refs) IDs() []string {
	ids := make([]string, 0, len(rs))
	for _, r := range rs {
		if r.id != "" {
			ids = append(ids, r.id)
		}
	}
	return ids
}

// Type returns the embedded type of the first member.
func (rs Refs) Type() string { return rs.First().Type() }

// IsEmbedded reports whether the first member is embedded.
func (rs Refs) IsEmbedded() bool { return rs.First().IsEmbedded() }

// Activity decodes the first member as an activity.
func (rs Refs) Activity() (*Activity, error) { return rs.First().Activity() }

// Object decodes the first member as an object.
func (rs Refs) Object() (*Object, error) { return rs.First().Object() }

// Actor decodes the first member as an actor.
func (rs Refs) Actor() (*Actor, error) { return rs.First().Actor() }

// UnmarshalJSON implements json.Unmarshaler.
func (rs *Refs) UnmarshalJSON(data []byte) error {
	var out Refs
	err := eachValue(data, func(v json.RawMessage) error {
		var r Ref
		if err := r.set(v); err != nil {
			return err
		}
		if !r.IsZero() {
			out = append(out, r)
		}
		return nil
	})
	*rs = out
	return err
}

// MarshalJSON implements json.Marshaler.
func (rs Refs) MarshalJSON() ([]byte, error) {
	switch len(rs) {
	case 0:
		return []byte("null"), nil
	case 1:
		return rs[0].MarshalJSON()
	}
	return json.Marshal([]Ref(rs))
}
