package vocab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/commonplace/commonplace/federation/hostname"
)

// MaxDepth is the deepest JSON nesting accepted. Real documents stay under
// ten levels (an Announce of a Create of a Note with a replies page);
// anything much deeper is an attempt to make the decoder work.
const MaxDepth = 32

// Errors returned by the Parse functions; wrapped with detail.
var (
	ErrTooDeep   = errors.New("vocab: JSON nested too deeply")
	ErrInvalid   = errors.New("vocab: invalid document")
	ErrWrongKind = errors.New("vocab: document is of the wrong kind")
)

// Head is what Peek reads of a document: enough to decide how to parse it.
type Head struct {
	ID   string
	Type string
	Kind Kind
}

// Peek reads a document's id and type and classifies it. An unknown type
// with both actor and object is taken for an activity.
func Peek(data []byte) (Head, error) {
	if err := checkDepth(data); err != nil {
		return Head{}, err
	}
	var h struct {
		ID     IRI             `json:"id"`
		Type   json.RawMessage `json:"type"`
		Actor  json.RawMessage `json:"actor"`
		Object json.RawMessage `json:"object"`
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return Head{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := CheckKeys(data); err != nil {
		return Head{}, err
	}
	head := Head{ID: string(h.ID), Type: typeOf(h.Type)}
	head.Kind = KindOf(head.Type)
	if head.Kind == KindUnknown && present(h.Actor) && present(h.Object) {
		head.Kind = KindActivity
	}
	return head, nil
}

func present(v json.RawMessage) bool {
	return len(v) > 0 && !bytes.Equal(v, []byte("null"))
}

// ParseActivity decodes an activity. It requires an absolute http(s) id
// and actor and a type; it does not check that the type is one we know,
// so that the caller can ignore unknown activities by name.
func ParseActivity(data []byte) (*Activity, error) {
	var a Activity
	if err := decode(data, &a); err != nil {
		return nil, err
	}
	if err := checkHead(a.ID, a.Type); err != nil {
		return nil, err
	}
	switch k := KindOf(a.Type); k {
	case KindActor, KindObject, KindCollection:
		return nil, fmt.Errorf("%w: %s %q is not an activity", ErrWrongKind, k, a.Type)
	}
	if err := checkIRI("actor", string(a.Actor)); err != nil {
		return nil, err
	}
	return &a, nil
}

// ParseActor decodes an actor. It requires an absolute http(s) id and
// inbox, and one of the five actor types.
func ParseActor(data []byte) (*Actor, error) {
	var a Actor
	if err := decode(data, &a); err != nil {
		return nil, err
	}
	if err := checkHead(a.ID, a.Type); err != nil {
		return nil, err
	}
	if !IsActorType(a.Type) {
		return nil, fmt.Errorf("%w: %q is not an actor type", ErrWrongKind, a.Type)
	}
	if err := checkIRI("inbox", string(a.Inbox)); err != nil {
		return nil, err
	}
	return &a, nil
}

// ParseObject decodes an object: anything that is not an actor, activity or
// collection, so that types we do not know (Event, Video, ...) still read
// and the caller decides what to do with them.
func ParseObject(data []byte) (*Object, error) {
	var o Object
	if err := decode(data, &o); err != nil {
		return nil, err
	}
	if err := checkHead(o.ID, o.Type); err != nil {
		return nil, err
	}
	switch k := KindOf(o.Type); k {
	case KindActor, KindActivity, KindCollection:
		return nil, fmt.Errorf("%w: %s %q is not an object", ErrWrongKind, k, o.Type)
	}
	return &o, nil
}

// ParseCollection decodes a collection or collection page.
func ParseCollection(data []byte) (*Collection, error) {
	var c Collection
	if err := decode(data, &c); err != nil {
		return nil, err
	}
	if err := checkHead(c.ID, c.Type); err != nil {
		return nil, err
	}
	if KindOf(c.Type) != KindCollection {
		return nil, fmt.Errorf("%w: %q is not a collection", ErrWrongKind, c.Type)
	}
	return &c, nil
}

func decode(data []byte, v any) error {
	if err := checkDepth(data); err != nil {
		return err
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrInvalid)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	// After Unmarshal, which has checked that data is valid JSON.
	return CheckKeys(data)
}

func checkHead(id, typ string) error {
	if typ == "" {
		return fmt.Errorf("%w: missing type", ErrInvalid)
	}
	return checkIRI("id", id)
}

// checkIRI requires an absolute http or https URL with a host. http is
// allowed because test networks and some small instances use it; whether
// to accept it from a given peer is federation policy, not vocabulary.
//
// The scheme and host must be written in their canonical form (package
// hostname): lower case, punycode, no trailing dot, no default or
// zero-padded port, canonical IP. Other spellings reach the same server,
// and a policy or an origin check that compared them as strings could be
// walked around; refusing them here means one spelling of an id exists.
func checkIRI(field, s string) error {
	if s == "" {
		return fmt.Errorf("%w: missing %s", ErrInvalid, field)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return fmt.Errorf("%w: %s %q is not an absolute http(s) URL", ErrInvalid, field, s)
	}
	if !hostname.IsCanonicalURL(s) {
		return fmt.Errorf("%w: %s %q: its host is not written in canonical form (%q)", ErrInvalid, field, s, hostname.OfURL(s))
	}
	return nil
}

// checkDepth rejects JSON nested deeper than MaxDepth without decoding it,
// so that no decoder (ours or encoding/json's recursion) sees it.
func checkDepth(data []byte) error {
	depth := 0
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > MaxDepth {
				return ErrTooDeep
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}
