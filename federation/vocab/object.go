package vocab

import (
	"encoding/json"
	"time"
)

// Object is a Note, Page, Article, Question, Tombstone or other non-actor,
// non-activity document.
//
// Audience is the community a post belongs to (FEP-1b12). It is a single
// IRI, not a list like to and cc, because Lemmy reads it only as one IRI.
type Object struct {
	ID           string      `json:"id,omitempty"` // empty only for a poll's options
	Type         string      `json:"type"`
	AttributedTo Refs        `json:"attributedTo,omitempty"`
	Name         string      `json:"name,omitempty"`
	NameMap      LangMap     `json:"nameMap,omitempty"`
	Summary      string      `json:"summary,omitempty"`
	SummaryMap   LangMap     `json:"summaryMap,omitempty"`
	Content      string      `json:"content,omitempty"`
	ContentMap   LangMap     `json:"contentMap,omitempty"`
	MediaType    string      `json:"mediaType,omitempty"`
	Source       *Source     `json:"source,omitempty"`
	Sensitive    bool        `json:"sensitive,omitempty"`
	InReplyTo    IRI         `json:"inReplyTo,omitempty"`
	Published    Time        `json:"published,omitzero"`
	Updated      Time        `json:"updated,omitzero"`
	To           IRIs        `json:"to,omitempty"`
	CC           IRIs        `json:"cc,omitempty"`
	BTo          IRIs        `json:"bto,omitempty"`
	BCC          IRIs        `json:"bcc,omitempty"`
	Audience     IRI         `json:"audience,omitempty"`
	Context      IRI         `json:"context,omitempty"`
	Conversation IRI         `json:"conversation,omitempty"`
	Tag          Tags        `json:"tag,omitempty"`
	URL          Links       `json:"url,omitempty"`
	Attachment   Attachments `json:"attachment,omitempty"`
	Image        *Image      `json:"image,omitempty"`
	Replies      Ref         `json:"replies,omitzero"`

	// PostKind is Commonplace's kind of post (commonplace:postKind):
	// question, story, resource, case or event; absent for a discussion.
	PostKind string `json:"postKind,omitempty"`
	// AcceptedAnswer is a question's accepted answer, a reply in its
	// thread (commonplace:acceptedAnswer).
	AcceptedAnswer IRI `json:"acceptedAnswer,omitempty"`

	// Question (polls): the options (each a Note with a name and, as
	// Mastodon writes them, replies.totalItems as its votes), when voting
	// closes, whether it has, and how many voted.
	OneOf       []Object `json:"oneOf,omitempty"`
	AnyOf       []Object `json:"anyOf,omitempty"`
	EndTime     Time     `json:"endTime,omitzero"`
	Closed      Closed   `json:"closed,omitzero"`
	VotersCount *int64   `json:"votersCount,omitempty"`

	// Tombstone: what the object was, and when it was deleted.
	FormerType string `json:"formerType,omitempty"`
	Deleted    Time   `json:"deleted,omitzero"`
}

// ContentIn returns the content in the first of langs that contentMap has,
// else content, else any contentMap entry. Senders that write only
// contentMap (some Friendica and WordPress versions) still yield text.
func (o *Object) ContentIn(langs ...string) string {
	for _, l := range langs {
		if v, ok := o.ContentMap[l]; ok {
			return v
		}
	}
	if o.Content != "" {
		return o.Content
	}
	return o.ContentMap.Pick(langs...)
}

// Recipients returns to, cc and audience together (not bto/bcc, which a
// server must strip before delivery anyway).
func (o *Object) Recipients() []string {
	return recipients(o.To, o.CC, IRIs{string(o.Audience)})
}

// IsPublic reports whether the object is addressed to the Public
// collection in to or cc.
func (o *Object) IsPublic() bool { return IsPublic(o.To) || IsPublic(o.CC) }

func recipients(lists ...IRIs) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range lists {
		for _, a := range l {
			if a != "" && !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// Closed is a Question's closed: when voting ended. Mastodon writes a
// date; others write true (closed, date unknown) or false.
type Closed struct {
	At time.Time
	// Set: the poll is closed, even when At is unknown.
	Set bool
}

// IsZero reports an open poll (omitzero leaves it out).
func (c Closed) IsZero() bool { return !c.Set }

// UnmarshalJSON reads a date, true or false; anything else is open.
func (c *Closed) UnmarshalJSON(data []byte) error {
	*c = Closed{}
	var b bool
	if json.Unmarshal(data, &b) == nil {
		c.Set = b
		return nil
	}
	var t Time
	if err := t.UnmarshalJSON(data); err == nil && !t.IsZero() {
		*c = Closed{At: t.Time, Set: true}
	}
	return nil
}

// MarshalJSON writes the date, or true when it is unknown.
func (c Closed) MarshalJSON() ([]byte, error) {
	if c.At.IsZero() {
		return json.Marshal(c.Set)
	}
	return At(c.At).MarshalJSON()
}

// Options are a Question's options, and whether several may be chosen.
func (o *Object) Options() (options []Object, multiple bool) {
	if len(o.AnyOf) > 0 {
		return o.AnyOf, true
	}
	return o.OneOf, false
}

// Votes reads a poll option's votes: replies.totalItems, as Mastodon and
// GoToSocial write them.
func (o *Object) Votes() int64 {
	raw := o.Replies.Raw()
	if len(raw) == 0 {
		return 0
	}
	var c struct {
		TotalItems int64 `json:"totalItems"`
	}
	if json.Unmarshal(raw, &c) != nil || c.TotalItems < 0 {
		return 0
	}
	return c.TotalItems
}
