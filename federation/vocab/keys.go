package vocab

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// ErrKeys: a document has two keys in one object that encoding/json
// would take for one ("actor" twice, or "actor" and "Actor"), or a key
// that it would read as one of ours although it is spelled differently
// ("Actor", "\u0041ctor", "o\u212Aject" with a Kelvin sign).
//
// encoding/json matches keys case-insensitively (with Unicode folding) and
// keeps the last of duplicates; Lemmy, Mbin, and anything in Rust, Ruby
// or JavaScript match exactly, and some keep the first. A community relays
// the bytes it received inside its signed Announce, so a document that we
// check as one thing and others read as another would be vouched for by
// the community: a post by a third party, say. Such documents are refused.
var ErrKeys = errors.New("vocab: duplicate or case-variant keys")

// CheckKeys refuses a JSON document with duplicate or case-variant keys
// (see ErrKeys), at any depth. data must be valid JSON. Keys inside
// "@context" are declarations nobody reads as fields: only duplicates are
// refused there.
func CheckKeys(data []byte) error {
	known := knownKeys()
	stack := make([]keyFrame, 0, 8)
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '{', '[':
			f := keyFrame{object: c == '{', expectKey: c == '{'}
			if n := len(stack); n > 0 {
				p := &stack[n-1]
				f.inContext = p.inContext || p.object && p.lastKey == "@context"
			}
			stack = append(stack, f)
		case '}', ']':
			if len(stack) == 0 {
				return fmt.Errorf("%w: unbalanced JSON", ErrInvalid)
			}
			stack = stack[:len(stack)-1]
		case ',':
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].expectKey = true
			}
		case ':':
			if n := len(stack); n > 0 {
				stack[n-1].expectKey = false
			}
		case '"':
			end := stringEnd(data, i)
			if end < 0 {
				return fmt.Errorf("%w: unterminated string", ErrInvalid)
			}
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
				if err := stack[n-1].key(data[i:end+1], known); err != nil {
					return err
				}
			}
			i = end
		}
	}
	return nil
}

// keyFrame is an object or array being scanned by CheckKeys.
type keyFrame struct {
	object, expectKey, inContext bool
	lastKey                      string
	keys                         []string            // folded; small objects
	set                          map[string]struct{} // folded; large ones
}

// fewKeys: objects with more keys than this get a map.
const fewKeys = 16

func (f *keyFrame) key(quoted []byte, known *keySet) error {
	key, err := unquoteKey(quoted)
	if err != nil {
		return fmt.Errorf("%w: key %s: %v", ErrInvalid, quoted, err)
	}
	folded := foldKey(key)
	if f.set != nil {
		if _, dup := f.set[folded]; dup {
			return fmt.Errorf("%w: %q appears twice, as spelled or ignoring case", ErrKeys, key)
		}
		f.set[folded] = struct{}{}
	} else {
		for _, k := range f.keys {
			if k == folded {
				return fmt.Errorf("%w: %q appears twice, as spelled or ignoring case", ErrKeys, key)
			}
		}
		f.keys = append(f.keys, folded)
		if len(f.keys) > fewKeys {
			f.set = make(map[string]struct{}, 2*fewKeys)
			for _, k := range f.keys {
				f.set[k] = struct{}{}
			}
			f.keys = nil
		}
	}
	if !f.inContext && !known.exact[key] && known.folded[folded] {
		return fmt.Errorf("%w: %q would be read as another key", ErrKeys, key)
	}
	f.lastKey = key
	return nil
}

// stringEnd is the index of the quote that closes the string opening at
// data[i], or -1.
func stringEnd(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return -1
}

func unquoteKey(quoted []byte) (string, error) {
	raw := quoted[1 : len(quoted)-1]
	if !strings.ContainsRune(string(raw), '\\') {
		return string(raw), nil
	}
	var s string
	err := json.Unmarshal(quoted, &s)
	return s, err
}

// foldKey maps a key to one representative of the keys encoding/json
// takes for it: each rune to the smallest rune of its Unicode simple case
// folding orbit (so "k", "K" and the Kelvin sign are one), as
// bytes.EqualFold compares.
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s) // 'A' < 'a': the smallest of each orbit
	}
	var b strings.Builder
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}

// keySet holds the keys our decoding reads, exactly and folded.
type keySet struct{ exact, folded map[string]bool }

var (
	knownOnce sync.Once
	known     *keySet
)

// extraKeys are read by decoders that have no struct type to reflect on
// (IRI, Ref, Links read "id" and "href" with local structs) and by the
// federation layer's own small documents: WebFinger, NodeInfo, the stub
// read to find a key's owner.
var extraKeys = []string{
	"id", "href", "type", "url", "owner", "publicKey", "publicKeyPem",
	"subject", "aliases", "links", "rel", "template", "properties",
	"software", "name", "version", "protocols", "usage", "metadata", "openRegistrations",
}

// knownKeys collects the JSON names of every field of the vocabulary's
// types, by reflection, so that a field added later is covered.
func knownKeys() *keySet {
	knownOnce.Do(func() {
		known = &keySet{exact: map[string]bool{}, folded: map[string]bool{}}
		add := func(k string) {
			known.exact[k] = true
			known.folded[foldKey(k)] = true
		}
		for _, k := range extraKeys {
			add(k)
		}
		seen := map[reflect.Type]bool{}
		var walk func(t reflect.Type)
		walk = func(t reflect.Type) {
			for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
				t = t.Elem()
			}
			if t.Kind() != reflect.Struct || seen[t] {
				return
			}
			seen[t] = true
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				switch {
				case name == "-":
					continue
				case f.Anonymous && name == "":
				case !f.IsExported():
					continue
				case name == "":
					add(f.Name)
				default:
					add(name)
				}
				walk(f.Type)
			}
		}
		for _, v := range []any{Activity{}, Actor{}, Object{}, Collection{}, Source{}, Endpoints{}, PublicKey{},
			Image{}, Attachment{}, Tag{}, Link{}} {
			walk(reflect.TypeOf(v))
		}
	})
	return known
}
