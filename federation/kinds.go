package federation

import (
	"html"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Kinds of post (issue 15, item 1): what a post is for, so that a
// community's practice can be found again. A post of no kind is a
// discussion. Federation carries the kind as the postKind extension
// (docs/federation.md) and, for servers that do not read it, as a title
// line and a hashtag in the content, which Mastodon and GoToSocial show.

// The kinds of post. KindDiscussion is stored as "".
const (
	KindDiscussion = ""
	KindQuestion   = "question"
	KindStory      = "story"
	KindResource   = "resource"
	KindCase       = "case"
	KindEvent      = "event"
)

// Kinds lists the kinds a member chooses from, discussion first.
var Kinds = []string{KindDiscussion, KindQuestion, KindStory, KindResource, KindCase, KindEvent}

// kindLabels name each kind as content shows it before a title.
var kindLabels = map[string]string{
	KindQuestion: "Question", KindStory: "Story", KindResource: "Resource",
	KindCase: "Case", KindEvent: "Event",
}

// KindLabel is how pages name a kind ("Discussion" for none).
func KindLabel(kind string) string {
	if l, ok := kindLabels[kind]; ok {
		return l
	}
	return "Discussion"
}

// NormalizeKind returns the kind named (case-insensitive; "discussion"
// is ""), and whether it is one.
func NormalizeKind(name string) (string, bool) {
	k := strings.ToLower(strings.TrimSpace(name))
	if k == "" || k == "discussion" {
		return KindDiscussion, true
	}
	_, ok := kindLabels[k]
	return k, ok
}

// maxTitleLine bounds the first line that the client-API convention takes
// as a title.
const maxTitleLine = 200

// leadingKindRe matches a kind hashtag that opens a text, as members
// write it from any Mastodon app: "#question How do I ...?".
var leadingKindRe = regexp.MustCompile(`(?i)^#(question|story|resource|case|event|discussion)(?:[ \t]+|\r?\n|$)`)

// ParseKindConvention reads the client API's convention for kinds of
// post from a text: a leading kind hashtag sets the kind, and then the
// first line, when more text follows it, is the title. The text without
// those is the body. ok is false when the text opens with no kind tag,
// and then body is text.
func ParseKindConvention(text string) (kind, title, body string, ok bool) {
	text = strings.TrimSpace(text)
	m := leadingKindRe.FindStringSubmatchIndex(text)
	if m == nil {
		return KindDiscussion, "", text, false
	}
	kind, _ = NormalizeKind(text[m[2]:m[3]])
	rest := strings.TrimLeft(text[m[1]:], " \t")
	first, more, found := strings.Cut(strings.ReplaceAll(rest, "\r\n", "\n"), "\n")
	more = strings.TrimSpace(more)
	if found && more != "" && strings.TrimSpace(first) != "" && utf8.RuneCountInString(first) <= maxTitleLine {
		return kind, strings.TrimSpace(first), more, true
	}
	return kind, "", strings.TrimSpace(rest), true
}

// kindLead is the HTML that opens a titled or kinded post after the
// community's mention, for servers that show neither name nor postKind:
// "<p><strong>Question: title</strong></p>".
func kindLead(kind, title string) string {
	label := kindLabels[kind]
	switch {
	case label == "":
		// A discussion's title stays in name alone, as it always has.
		return ""
	case title == "":
		return "<p><strong>" + html.EscapeString(label) + "</strong></p>"
	}
	return "<p><strong>" + html.EscapeString(label) + ": " + html.EscapeString(title) + "</strong></p>"
}

// withLead puts lead after the community's mention that opens content.
func withLead(content string, community *storage.Actor, lead string) string {
	if lead == "" {
		return content
	}
	if community != nil {
		if m := mentionLink(community); strings.HasPrefix(content, m) {
			return m + lead + content[len(m):]
		}
	}
	return lead + content
}

// kindTag is the hashtag of a kind, which Mastodon users follow and the
// kind's fallback for servers that do not read postKind.
func (s *Service) kindTag(kind string) vocab.Tag {
	return vocab.Tag{Type: vocab.TypeHashtag, Href: s.URLs.TagURL(kind), Name: "#" + kind}
}

// withKindTag adds the kind's hashtag to tags unless there.
func (s *Service) withKindTag(tags vocab.Tags, kind string) vocab.Tags {
	if kind == KindDiscussion {
		return tags
	}
	for _, t := range tags.OfType(vocab.TypeHashtag) {
		if strings.EqualFold(strings.TrimPrefix(t.Name, "#"), kind) {
			return tags
		}
	}
	return append(tags, s.kindTag(kind))
}

// objectKind is the kind of a post from another server: its postKind, or
// else a kind hashtag that opens its text (as a Mastodon user writes
// "@community #question ..."). Replies have no kind.
func objectKind(obj *vocab.Object) string {
	if obj.InReplyTo != "" {
		return KindDiscussion
	}
	if obj.PostKind != "" {
		if k, ok := NormalizeKind(obj.PostKind); ok {
			return k
		}
		return KindDiscussion
	}
	text := strings.TrimSpace(leadingMentionsRe.ReplaceAllString(sanitize.PlainText(obj.ContentIn(), MaxPostLen), ""))
	if strings.HasPrefix(text, "# ") { // a linked hashtag: "#<span>case</span>"
		text = "#" + text[2:]
	}
	if m := leadingKindRe.FindStringSubmatch(text); m != nil {
		k, _ := NormalizeKind(m[1])
		return k
	}
	return KindDiscussion
}

// leadingMentionsRe matches the mentions that open a post's plain text
// (PlainText keeps a space between "@" and a name in its own element).
var leadingMentionsRe = regexp.MustCompile(`^(?:\s*@ ?[\w.\-]+(?:@[\w.\-:]+)?)+\s*`)

// StripKindLead removes the title line that opens a kinded post's content
// for servers that show neither name nor postKind, for pages that show
// the title and kind themselves.
func StripKindLead(content, kind, title string) string {
	if lead := kindLead(kind, title); lead != "" {
		return strings.Replace(content, lead, "", 1)
	}
	return content
}
