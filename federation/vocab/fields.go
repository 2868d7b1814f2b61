package vocab

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// LangMap is a natural-language map such as contentMap or nameMap:
// language tag -> value.
type LangMap map[string]string

// Pick returns the value for the first of langs present (matching on the
// primary subtag too, so "en" finds "en-GB"), then "und", then the value of
// the alphabetically first tag so that the choice is stable.
func (m LangMap) Pick(langs ...string) string {
	if len(m) == 0 {
		return ""
	}
	for _, l := range langs {
		if v, ok := m[l]; ok {
			return v
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, l := range langs {
		for _, k := range keys {
			if primary(k) == primary(l) {
				return m[k]
			}
		}
	}
	if v, ok := m["und"]; ok {
		return v
	}
	return m[keys[0]]
}

func primary(tag string) string {
	p, _, _ := strings.Cut(strings.ToLower(tag), "-")
	return p
}

// Source is the text an object was written in, before rendering to HTML
// (Mastodon, Lemmy and Misskey send markdown or plain text here).
type Source struct {
	Content   string `json:"content,omitempty"`
	MediaType string `json:"mediaType,omitempty"`
}

// UnmarshalJSON accepts the object form and also a bare string, which
// Pleroma sends.
func (s *Source) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		*s = Source{}
		return json.Unmarshal(data, &s.Content)
	}
	type plain Source
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*s = Source(p)
	return nil
}

// Endpoints holds an actor's server-wide endpoints.
type Endpoints struct {
	SharedInbox IRI `json:"sharedInbox,omitempty"`
}

// PublicKey is an actor's HTTP-signature key.
type PublicKey struct {
	ID           string `json:"id"`
	Owner        IRI    `json:"owner"`
	PublicKeyPem string `json:"publicKeyPem"`
}

// PublicKeys reads a single key object or a list of them (Smithereen and
// others publish several). One key is written as an object: Lemmy cannot
// read a list.
type PublicKeys []PublicKey

// ByID returns the key with the given id; signature key ids name it.
func (ks PublicKeys) ByID(id string) (PublicKey, bool) {
	for _, k := range ks {
		if k.ID == id {
			return k, true
		}
	}
	return PublicKey{}, false
}

// UnmarshalJSON implements json.Unmarshaler.
func (ks *PublicKeys) UnmarshalJSON(data []byte) error {
	var out PublicKeys
	err := eachValue(data, func(v json.RawMessage) error {
		// A bare IRI names a key published elsewhere; it has no PEM,
		// so it cannot verify anything here, and is skipped.
		if v[0] == '"' {
			return nil
		}
		var k PublicKey
		if err := json.Unmarshal(v, &k); err != nil {
			return err
		}
		out = append(out, k)
		return nil
	})
	*ks = out
	return err
}

// MarshalJSON implements json.Marshaler.
func (ks PublicKeys) MarshalJSON() ([]byte, error) {
	switch len(ks) {
	case 0:
		return []byte("null"), nil
	case 1:
		return json.Marshal(ks[0])
	}
	return json.Marshal([]PublicKey(ks))
}

// Image is an icon or header image.
type Image struct {
	Type      string `json:"type,omitempty"`
	MediaType string `json:"mediaType,omitempty"`
	URL       IRI    `json:"url,omitempty"`
	Name      string `json:"name,omitempty"`
	Width     int    `json:"width,omitempty"`
	Height    int    `json:"height,omitempty"`
	Blurhash  string `json:"blurhash,omitempty"`
}

// UnmarshalJSON accepts an Image object, a bare URL, or a list of images
// (Peertube sends several sizes; the widest wins).
func (img *Image) UnmarshalJSON(data []byte) error {
	var best *Image
	err := eachValue(data, func(v json.RawMessage) error {
		var cur Image
		if v[0] == '"' {
			if err := json.Unmarshal(v, &cur.URL); err != nil {
				return err
			}
		} else {
			type plain Image
			if err := json.Unmarshal(v, (*plain)(&cur)); err != nil {
				return err
			}
		}
		if best == nil || cur.Width > best.Width {
			best = &cur
		}
		return nil
	})
	*img = Image{}
	if best != nil {
		*img = *best
	}
	return err
}

// MarshalJSON writes the type as "Image" when unset: Lemmy rejects an icon
// without one.
func (img Image) MarshalJSON() ([]byte, error) {
	type plain Image
	if img.Type == "" {
		img.Type = TypeImage
	}
	return json.Marshal(plain(img))
}

// Attachment is a media attachment (Document, Image, ...), a link (Lemmy
// puts a post's link here) or a profile field (PropertyValue).
type Attachment struct {
	Type      string `json:"type,omitempty"`
	MediaType string `json:"mediaType,omitempty"`
	URL       IRI    `json:"url,omitempty"`
	Href      string `json:"href,omitempty"`
	Name      string `json:"name,omitempty"`
	// Summary is an attachment's alt text as GoToSocial writes it.
	Summary    string    `json:"summary,omitempty"`
	Value      string    `json:"value,omitempty"`
	Width      int       `json:"width,omitempty"`
	Height     int       `json:"height,omitempty"`
	Blurhash   string    `json:"blurhash,omitempty"`
	FocalPoint []float64 `json:"focalPoint,omitempty"`
}

// Link returns the attachment's target, whichever of url and href is set.
func (a Attachment) Link() string {
	if a.URL != "" {
		return string(a.URL)
	}
	return a.Href
}

// Attachments reads one attachment or a list; bare strings become links.
type Attachments []Attachment

// UnmarshalJSON implements json.Unmarshaler.
func (as *Attachments) UnmarshalJSON(data []byte) error {
	var out Attachments
	err := eachValue(data, func(v json.RawMessage) error {
		var a Attachment
		var err error
		if v[0] == '"' {
			a.Type = TypeLink
			err = json.Unmarshal(v, &a.Href)
		} else {
			err = json.Unmarshal(v, &a)
		}
		if err == nil {
			out = append(out, a)
		}
		return err
	})
	*as = out
	return err
}

// Tag is an entry of an object's tag list: a Mention (href is the actor), a
// Hashtag (href is the tag page, name starts with "#") or an Emoji (name
// is ":shortcode:", icon is the image).
type Tag struct {
	Type    string `json:"type,omitempty"`
	ID      string `json:"id,omitempty"`
	Href    string `json:"href,omitempty"`
	Name    string `json:"name,omitempty"`
	Icon    *Image `json:"icon,omitempty"`
	Updated Time   `json:"updated,omitzero"`
}

// Tags reads a single tag object or a list; bare strings become tags with
// only an href. It is always written as a list.
type Tags []Tag

// UnmarshalJSON implements json.Unmarshaler.
func (ts *Tags) UnmarshalJSON(data []byte) error {
	var out Tags
	err := eachValue(data, func(v json.RawMessage) error {
		var t Tag
		var err error
		if v[0] == '"' {
			err = json.Unmarshal(v, &t.Href)
		} else {
			err = json.Unmarshal(v, &t)
		}
		if err == nil {
			out = append(out, t)
		}
		return err
	})
	*ts = out
	return err
}

// OfType returns the tags of one type, e.g. TypeMention.
func (ts Tags) OfType(typ string) []Tag {
	var out []Tag
	for _, t := range ts {
		if t.Type == typ {
			out = append(out, t)
		}
	}
	return out
}

// Link is an ActivityStreams Link, as found in url fields.
type Link struct {
	Type      string `json:"type,omitempty"`
	Href      string `json:"href,omitempty"`
	MediaType string `json:"mediaType,omitempty"`
	Name      string `json:"name,omitempty"`
	Rel       IRIs   `json:"rel,omitempty"`
}

// Links is a url field: a string, a Link object, or a list of either
// (Peertube lists one Link per format). A single bare link is written as a
// string, which is what Mastodon and Lemmy expect.
type Links []Link

// LinkTo returns Links holding one URL.
func LinkTo(href string) Links { return Links{{Href: href}} }

// HTML returns the URL meant for people: the first text/html link, else
// the first link without a media type, else the first link.
func (ls Links) HTML() string {
	for _, l := range ls {
		if strings.HasPrefix(l.MediaType, "text/html") {
			return l.Href
		}
	}
	for _, l := range ls {
		if l.MediaType == "" {
			return l.Href
		}
	}
	if len(ls) > 0 {
		return ls[0].Href
	}
	return ""
}

// UnmarshalJSON implements json.Unmarshaler.
func (ls *Links) UnmarshalJSON(data []byte) error {
	var out Links
	err := eachValue(data, func(v json.RawMessage) error {
		var l Link
		var err error
		if v[0] == '"' {
			err = json.Unmarshal(v, &l.Href)
		} else {
			type plain Link
			var p struct {
				plain
				ID  string `json:"id"`
				URL IRI    `json:"url"`
			}
			err = json.Unmarshal(v, &p)
			l = Link(p.plain)
			// Some servers put a whole object here instead of a Link.
			if l.Href == "" {
				l.Href = cmpOr(string(p.URL), p.ID)
			}
		}
		if err == nil && l.Href != "" {
			out = append(out, l)
		}
		return err
	})
	*ls = out
	return err
}

func (l Link) isBare() bool {
	return l.Type == "" && l.MediaType == "" && l.Name == "" && len(l.Rel) == 0
}

// MarshalJSON implements json.Marshaler.
func (ls Links) MarshalJSON() ([]byte, error) {
	if len(ls) == 1 && ls[0].isBare() {
		return json.Marshal(ls[0].Href)
	}
	if len(ls) == 0 {
		return []byte("null"), nil
	}
	return json.Marshal([]Link(ls))
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// Time is a timestamp that reads leniently: a missing, empty or unparseable
// date leaves the zero time instead of rejecting the whole document, since
// a bad "updated" is no reason to lose a post. It is written in UTC.
type Time struct{ time.Time }

// At wraps t.
func At(t time.Time) Time { return Time{t} }

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700", // offset without a colon
	"2006-01-02T15:04:05.999999999",      // no zone: read as UTC
	"2006-01-02",
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(data []byte) error {
	*t = Time{}
	var s string
	if json.Unmarshal(data, &s) != nil || s == "" {
		return nil
	}
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return nil
}

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}
