// Package sanitize cleans HTML that arrives from other servers before it is
// stored or shown, and reduces HTML to plain text for titles and summaries.
//
// The HTML policy follows Mastodon's Sanitize::Config::MASTODON_STRICT, the
// policy the fediverse already writes for: paragraphs, line breaks, links,
// emphasis, code, quotes, lists and headings, and on spans and links only
// the classes that carry meaning (mentions, hashtags, and Mastodon's
// "invisible"/"ellipsis" link shortening). Everything else is removed.
package sanitize

import (
	"html"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// MaxHTMLBytes caps the input HTML considers. Inbox bodies are capped at
// 1 MiB elsewhere; this keeps a direct caller from feeding more. Cutting
// HTML short is safe: the sanitiser closes what is left open.
const MaxHTMLBytes = 1 << 20

// allowedClasses are the classes kept on span and a. "invisible" and
// "ellipsis" hide parts of long URLs in Mastodon's rendering, so the site
// stylesheet must define them (.invisible { display: none }, ...).
var allowedClasses = []string{"h-card", "mention", "hashtag", "u-url", "ellipsis", "invisible"}

// classValue lets through class attributes made of plain class names, for
// finish to pick the allowed ones from.
var classValue = regexp.MustCompile(`^[A-Za-z0-9_\- ]*$`)

// Sanitizer holds the compiled policies. It is safe for concurrent use.
type Sanitizer struct {
	html *bluemonday.Policy
	text *bluemonday.Policy
}

// New builds a Sanitizer.
func New() *Sanitizer {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "span", "del", "s", "pre", "code", "em", "strong",
		"b", "i", "u", "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("class").Matching(classValue).OnElements("span", "a")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")

	// Links: absolute http(s) only. The rel a remote server sent is
	// dropped and ours imposed, so remote content cannot pass ranking to
	// a site, leak the referrer or reach window.opener.
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)

	t := bluemonday.StrictPolicy()
	// Keep words of adjacent blocks apart: "<p>a</p><p>b</p>" is "a b".
	t.AddSpaceWhenStrippingTag(true)
	return &Sanitizer{html: p, text: t}
}

var defaultSanitizer = sync.OnceValue(New)

// HTML sanitises remote HTML with a shared default Sanitizer.
func HTML(in string) string { return defaultSanitizer().HTML(in) }

// PlainText reduces HTML to text with a shared default Sanitizer.
func PlainText(in string, maxRunes int) string { return defaultSanitizer().PlainText(in, maxRunes) }

// HTML returns in with everything outside the policy removed. The result is
// safe to insert into a page as HTML.
func (s *Sanitizer) HTML(in string) string {
	in = truncateBytes(in, MaxHTMLBytes)
	return finish(s.html.Sanitize(in))
}

// PlainText returns the text of in for use as a title, summary or
// notification line: tags removed (script and style with their content),
// entities decoded exactly once, whitespace collapsed to single spaces, and
// control characters dropped. If maxRunes > 0 and the text is longer, it is
// cut at a word boundary where possible and ends in "…", within maxRunes.
//
// The result is text, not HTML: it must be escaped when put into a page,
// which html/template does.
func (s *Sanitizer) PlainText(in string, maxRunes int) string {
	in = truncateBytes(in, MaxHTMLBytes)
	// The strict policy leaves text HTML-escaped; decoding that once gives
	// back what the author wrote, "&amp;lt;" staying "&lt;".
	text := html.UnescapeString(s.text.Sanitize(in))
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) || invisible(r) {
			return -1
		}
		return r
	}, text)
	text = strings.Join(strings.Fields(text), " ")
	return truncateRunes(text, maxRunes)
}

// invisible reports the format characters that reorder or hide text: bidi
// embeddings, overrides, isolates and marks (a name ending in U+202E shows
// what follows it reversed), and zero-width spaces, joiners of words and
// byte-order marks (two names that look alike but differ). The zero-width
// (non-)joiners U+200C and U+200D stay: Persian, the Indic scripts and
// emoji sequences need them.
func invisible(r rune) bool {
	switch {
	case r == '\u061c', r == '\u200b', r == '\u200e', r == '\u200f', r == '\u180e', r == '\ufeff':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2060' && r <= '\u2064', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// finish re-parses the sanitised HTML and renders it again. Parsing closes
// every element left open, so that a post ending in "<a href=...>" cannot
// swallow the rest of the page it is shown in. On the way it keeps only
// allowedClasses in class attributes: bluemonday can only accept or drop a
// whole attribute, which would lose "mention" from class="u-url mention x".
func finish(sanitized string) string {
	if sanitized == "" {
		return ""
	}
	nodes, err := xhtml.ParseFragment(strings.NewReader(sanitized), &xhtml.Node{
		Type: xhtml.ElementNode, Data: "div", DataAtom: atom.Div,
	})
	if err != nil {
		// The parser only fails on read errors, impossible from a string;
		// refuse rather than return unbalanced markup.
		return html.EscapeString(sanitized)
	}
	var b strings.Builder
	b.Grow(len(sanitized) + 16)
	// A root so that top-level links can be unwrapped like nested ones.
	root := &xhtml.Node{Type: xhtml.DocumentNode}
	for _, n := range nodes {
		root.AppendChild(n)
	}
	filterClasses(root)
	for n := root.FirstChild; n != nil; n = n.NextSibling {
		if err := xhtml.Render(&b, n); err != nil {
			return html.EscapeString(sanitized)
		}
	}
	return b.String()
}

func filterClasses(n *xhtml.Node) {
	if n.Type == xhtml.ElementNode {
		attrs := n.Attr[:0]
		for _, a := range n.Attr {
			if a.Key == "class" {
				if a.Val = keepClasses(a.Val); a.Val == "" {
					continue
				}
			}
			attrs = append(attrs, a)
		}
		n.Attr = attrs
	}
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		filterClasses(c)
		// A link whose href was refused and whose classes were all
		// dropped is no link: keep its text only, as bluemonday would.
		if c.Type == xhtml.ElementNode && c.Data == "a" && len(c.Attr) == 0 {
			unwrap(c)
		}
		c = next
	}
}

// unwrap replaces n by its children.
func unwrap(n *xhtml.Node) {
	for c := n.FirstChild; c != nil; c = n.FirstChild {
		n.RemoveChild(c)
		n.Parent.InsertBefore(c, n)
	}
	n.Parent.RemoveChild(n)
}

func keepClasses(v string) string {
	var kept []string
	for _, c := range strings.Fields(v) {
		if slices.Contains(allowedClasses, c) && !slices.Contains(kept, c) {
			kept = append(kept, c)
		}
	}
	return strings.Join(kept, " ")
}

// truncateBytes cuts s to at most n bytes without splitting a character.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func truncateRunes(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	const ellipsis = "…"
	runes := []rune(s)
	cut := string(runes[:max-1])
	// Prefer a word boundary unless that would throw away most of the text.
	if runes[max-1] != ' ' {
		if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
			cut = cut[:i]
		}
	}
	return strings.TrimRight(cut, " ") + ellipsis
}
