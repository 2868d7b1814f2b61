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
// mention first, as compose writes it for plain text. Mentions of people
// in Markdown are addressed and notified by compose but stay unlinked in
// the HTML.
func (s *Service) markdownContent(community *storage.Actor, text string) string {
	lead := ""
	if community != nil {
		lead = mentionLink(community)
	}
	return lead + s.markdownHTML(text)
}

// sourceType is the media type of a post's source.
func sourceType(isMarkdown bool) string {
	if isMarkdown {
		return "text/markdown"
	}
	return "text/plain"
}
