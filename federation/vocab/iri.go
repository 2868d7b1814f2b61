package vocab

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Public is the special collection that makes an object public.
const Public = "https://www.w3.org/ns/activitystreams#Public"

// IsPublic reports whether addresses include the Public collection in any
// of the spellings seen in the wild: the full IRI, the compacted "as:Public"
// (Pleroma, older Mastodon) and the bare "Public".
func IsPublic(addresses []string) bool {
	for _, a := range addresses {
		switch a {
		case Public, "as:Public", "Public":
			return true
		}
	}
	return false
}

// IRI is a link to another document where only its id matters. It reads a
// plain string, an embedded object (its "id", or "href" for a Link) or a
// list (the first member), and always writes a plain string.
type IRI string

func (i IRI) String() string { return string(i) }

// UnmarshalJSON implements json.Unmarshaler.
func (i *IRI) UnmarshalJSON(data []byte) error {
	var ids []string
	if err := eachValue(data, func(v json.RawMessage) error {
		id, err := idOf(v)
		if err == nil && id != "" {
			ids = append(ids, id)
		}
		return err
	}); err != nil {
		return err
	}
	*i = ""
	if len(ids) > 0 {
		*i = IRI(ids[0])
	}
	return nil
}

// IRIs is an addressing list (to, cc, bto, bcc, audience, ...). It reads a
// single string, a single object or a list of either, keeping ids, and
// always writes a JSON array.
type IRIs []string

// UnmarshalJSON implements json.Unmarshaler.
func (l *IRIs) UnmarshalJSON(data []byte) error {
	var ids IRIs
	if err := eachValue(data, func(v json.RawMessage) error {
		id, err := idOf(v)
		if err == nil && id != "" {
			ids = append(ids, id)
		}
		return err
	}); err != nil {
		return err
	}
	*l = ids
	return nil
}

// Contains reports whether iri is in the list.
func (l IRIs) Contains(iri string) bool {
	for _, a := range l {
		if a == iri {
			return true
		}
	}
	return false
}

// eachValue calls fn for data itself or, if data is an array, for each
// member. null and empty arrays call fn zero times.
func eachValue(data []byte, fn func(json.RawMessage) error) error {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0 || bytes.Equal(data, []byte("null")):
		return nil
	case data[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return err
		}
		for _, it := range items {
			it = bytes.TrimSpace(it)
			if bytes.Equal(it, []byte("null")) {
				continue
			}
			if err := fn(it); err != nil {
				return err
			}
		}
		return nil
	}
	return fn(data)
}

// idOf extracts an id from a string or an object (its id, or href for Link
// objects). Other JSON values are an error: a number where an IRI belongs
// is not something to guess about.
func idOf(v json.RawMessage) (string, error) {
	switch v[0] {
	case '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	case '{':
		var h struct {
			ID   IRI    `json:"id"`
			Href string `json:"href"`
		}
		if err := json.Unmarshal(v, &h); err != nil {
			return "", err
		}
		if h.ID != "" {
			return string(h.ID), nil
		}
		return h.Href, nil
	}
	return "", fmt.Errorf("vocab: want IRI or object, got %.20s", v)
}

// typeOf reads a "type" value that is normally a string but may be a list
// of strings; the first one wins.
func typeOf(v json.RawMessage) string {
	var s string
	if len(v) == 0 {
		return ""
	}
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var l []string
	if json.Unmarshal(v, &l) == nil && len(l) > 0 {
		return l[0]
	}
	return ""
}
