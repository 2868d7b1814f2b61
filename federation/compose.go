package federation

import (
	"context"
	"errors"
	"html"
	"regexp"
	"slices"
	"strings"

	"mvdan.cc/xurls/v2"

	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// A local member's plain text becomes the HTML and tags other servers
// read, as Mastodon renders a status: links for URLs, hashtags and
// mentions of people (@bob on this instance, @bob@example.org anywhere),
// a Mention tag, a cc and a delivery for each person mentioned, and, for a
// reply, a mention of the author answered (Mastodon's apps prefill it;
// GoToSocial drops a reply that mentions nobody it knows).

// maxMentions bounds the accounts a post mentions: each may cost a
// WebFinger lookup and a fetch.
const maxMentions = 20

// mentionRe finds @name and @name@host[:port], not inside a word, an
// address or a URL path.
var mentionRe = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_/@.])@([a-zA-Z0-9_]+(?:[a-zA-Z0-9_.\-]*[a-zA-Z0-9_])?)(?:@([a-zA-Z0-9](?:[a-zA-Z0-9.\-]*[a-zA-Z0-9])?(?::[0-9]{1,5})?))?`)

// urlRe finds URLs with a scheme.
var urlRe = xurls.Strict()

// composed is a local post's text rendered for federation.
type composed struct {
	content string     // HTML
	tags    vocab.Tags // the community, the people mentioned, hashtags
	cc      []string   // the people mentioned
	inboxes []string   // of the remote people mentioned
	// mentioned are the actors resolved, by the handle as written
	// (lower-cased, "user@" for a local one); nil where not found.
	mentioned map[string]*storage.Actor
}

// compose renders text by a local author for community (may be nil) in
// reply to parent (may be nil).
func (s *Service) compose(ctx context.Context, author, community *storage.Actor, parent *storage.Object, text string) composed {
	var c composed
	mentioned := map[string]*storage.Actor{} // by the handle as written, lower-cased
	var order []*storage.Actor
	add := func(a *storage.Actor) {
		if a == nil || slices.ContainsFunc(order, func(b *storage.Actor) bool { return b.ID == a.ID }) {
			return
		}
		order = append(order, a)
	}
	if community != nil {
		add(community)
	}
	for _, m := range mentionRe.FindAllStringSubmatch(text, -1) {
		key := strings.ToLower(m[1] + "@" + m[2])
		if _, done := mentioned[key]; done || len(mentioned) >= maxMentions {
			continue
		}
		a := s.resolveMention(ctx, m[1], m[2])
		mentioned[key] = a
		add(a)
	}
	var lead []*storage.Actor
	if parent != nil && parent.AuthorActor != nil && parent.AuthorActor.ID != author.ID &&
		!slices.ContainsFunc(order, func(b *storage.Actor) bool { return b.ID == parent.AuthorActor.ID }) {
		// The author answered is mentioned first, as a reply in
		// Mastodon's apps begins.
		lead = append(lead, parent.AuthorActor)
		add(parent.AuthorActor)
	}
	for _, a := range order {
		c.tags = append(c.tags, vocab.Tag{Type: vocab.TypeMention, Href: a.URI, Name: "@" + a.Handle()})
		if a.Type == storage.TypePerson && a.ID != author.ID {
			c.cc = append(c.cc, a.URI)
			if !a.Local {
				c.inboxes = append(c.inboxes, a.DeliveryInbox())
			}
		}
	}
	c.tags = append(c.tags, s.hashtagTags(text)...)
	if community != nil {
		c.content = mentionLink(community)
	}
	c.content += s.renderText(text, lead, mentioned)
	c.mentioned = mentioned
	return c
}

// resolveMention finds the actor @user or @user@domain names, or nil.
func (s *Service) resolveMention(ctx context.Context, user, domain string) *storage.Actor {
	var (
		a   *storage.Actor
		err error
	)
	if domain == "" || strings.EqualFold(domain, s.URLs.Host()) {
		a, err = s.DB.GetLocalActor(ctx, strings.ToLower(user))
	} else {
		a, err = s.ResolveHandle(ctx, user+"@"+domain)
	}
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, ErrInvalid) {
			s.Log.Debug("mention not resolved", "mention", user+"@"+domain, "err", err)
		}
		return nil
	}
	if a.Type != storage.TypePerson && a.Type != storage.TypeGroup {
		return nil
	}
	return a
}

// renderText turns plain text into escaped paragraphs with links; lead
// are mentions that open the first paragraph.
func (s *Service) renderText(text string, lead []*storage.Actor, mentioned map[string]*storage.Actor) string {
	var b strings.Builder
	first := true
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		if first {
			for _, a := range lead {
				b.WriteString(mentionHTML(a))
				b.WriteByte(' ')
			}
			first = false
		}
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>")
			}
			s.renderLine(&b, line, mentioned)
		}
		b.WriteString("</p>")
	}
	return b.String()
}

// span is a part of a line that becomes a link.
type span struct {
	start, end int
	html       string
}

// renderLine writes one line: URLs first, then mentions and hashtags
// outside them, the rest escaped.
func (s *Service) renderLine(b *strings.Builder, line string, mentioned map[string]*storage.Actor) {
	var spans []span
	overlaps := func(start, end int) bool {
		return slices.ContainsFunc(spans, func(sp span) bool { return start < sp.end && sp.start < end })
	}
	for _, loc := range urlRe.FindAllStringIndex(line, -1) {
		u := line[loc[0]:loc[1]]
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			continue
		}
		spans = append(spans, span{loc[0], loc[1], `<a href="` + html.EscapeString(u) + `" rel="nofollow noopener" target="_blank">` + html.EscapeString(u) + `</a>`})
	}
	for _, loc := range mentionRe.FindAllStringSubmatchIndex(line, -1) {
		// The match may start with the character before the @.
		start := strings.IndexByte(line[loc[0]:loc[1]], '@') + loc[0]
		user, domain := line[loc[2]:loc[3]], ""
		if loc[4] >= 0 {
			domain = line[loc[4]:loc[5]]
		}
		a := mentioned[strings.ToLower(user+"@"+domain)]
		if a == nil || overlaps(start, loc[1]) {
			continue
		}
		spans = append(spans, span{start, loc[1], mentionHTML(a)})
	}
	for _, loc := range hashtagRe.FindAllStringSubmatchIndex(line, -1) {
		start, tag := loc[2]-1, line[loc[2]:loc[3]]
		if overlaps(start, loc[3]) {
			continue
		}
		spans = append(spans, span{start, loc[3], `<a href="` + html.EscapeString(s.URLs.TagURL(tag)) +
			`" class="mention hashtag" rel="tag">#<span>` + html.EscapeString(tag) + `</span></a>`})
	}
	slices.SortFunc(spans, func(x, y span) int { return x.start - y.start })
	at := 0
	for _, sp := range spans {
		b.WriteString(html.EscapeString(line[at:sp.start]))
		b.WriteString(sp.html)
		at = sp.end
	}
	b.WriteString(html.EscapeString(line[at:]))
}

// mentionHTML is a Mastodon-style mention link of a person or community.
func mentionHTML(a *storage.Actor) string {
	href := LinkOrID(a.URL, a.URI)
	return `<span class="h-card" translate="no"><a href="` + html.EscapeString(href) + `" class="u-url mention">@<span>` +
		html.EscapeString(a.Username) + `</span></a></span>`
}
