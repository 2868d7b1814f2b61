package federation

import (
	"bytes"
	"html"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"

	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/storage"
)

// markdown renders what members write in the web's composer. Raw HTML in
// the source is escaped (goldmark's default); bare URLs become links.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.Linkify, extension.Strikethrough),
	goldmark.WithRendererOptions(gmhtml.WithHardWraps()),
)

// markdownHTML renders Markdown source as a post's HTML: through the same
// sanitiser as remote posts, then with hashtags linked as in plain-text
// posts.
func (s *Service) markdownHTML(text string) string {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(text), &buf); err != nil {
		// goldmark fails only when writing fails, which a buffer does not.
		return "<p>" + html.EscapeString(text) + "</p>"
	}
	return s.linkMarkdownHashtags(sanitize.HTML(buf.String()))
}

// linkMarkdownHashtags links the #tags of sanitised HTML the way compose
// links them in plain text. The pattern needs a character before the #
// that is not part of a URL or an entity, so hrefs are left alone.
func (s *Service) linkMarkdownHashtags(escaped string) string {
	return hashtagRe.ReplaceAllStringFunc(escaped, func(m string) string {
		i := strings.IndexByte(m, '#')
		tag := m[i+1:]
		return m[:i] + `<a href="` + html.EscapeString(s.URLs.TagURL(tag)) + `" class="mention hashtag" rel="tag">#<span>` + html.EscapeString(tag) + `</span></a>`
	})
}

// markdownContent is the HTML of a Markdown post: the community's
// mention first, as compose writes it for plain text, and the people
// compose resolved (mentioned) linked where the text names them.
func (s *Service) markdownContent(community *storage.Actor, text string, mentioned map[string]*storage.Actor) string {
	lead := ""
	if community != nil {
		lead = mentionLink(community)
	}
	return lead + linkMarkdownMentions(s.markdownHTML(text), mentioned)
}

// linkMarkdownMentions links the @mentions of sanitised HTML that compose
// resolved; others stay text. Like hashtags, a mention needs a character
// before the @ that cannot be part of a URL or an address, so hrefs and
// linked URLs are left alone.
func linkMarkdownMentions(escaped string, mentioned map[string]*storage.Actor) string {
	if len(mentioned) == 0 {
		return escaped
	}
	return mentionRe.ReplaceAllStringFunc(escaped, func(m string) string {
		sub := mentionRe.FindStringSubmatch(m)
		a := mentioned[strings.ToLower(sub[1]+"@"+sub[2])]
		if a == nil {
			return m
		}
		i := strings.IndexByte(m, '@')
		return m[:i] + mentionHTML(a)
	})
}

// sourceType is the media type of a post's source.
func sourceType(isMarkdown bool) string {
	if isMarkdown {
		return "text/markdown"
	}
	return "text/plain"
}
