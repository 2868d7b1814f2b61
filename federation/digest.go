package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"strconv"
	"time"

	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// The weekly digest (issue 15, item 7): a post by a local community
// itself, for followers who would rather not read every reply, naming
// what the week brought: posts added to the repertoire, questions
// answered, the threads with most replies. It is a Note by the Group,
// sent to its followers like any post, so that Mastodon shows it as the
// community's own. It is posted when the operator runs `commonplace
// community digest NAME` (weekly, from cron); a week with nothing to say
// posts nothing.

// DigestPeriod is the time a digest looks back over.
const DigestPeriod = 7 * 24 * time.Hour

// digestListed bounds each list of a digest.
const digestListed = 10

// PostDigest posts the digest of the local community name for the week
// up to now. It returns nil and no error when the week had nothing to
// tell.
func (s *Service) PostDigest(ctx context.Context, name string, now time.Time) (*storage.Object, error) {
	c, err := s.DB.GetCommunityByName(ctx, name)
	if err != nil {
		return nil, err
	}
	g := c.Actor
	since := now.Add(-DigestPeriod)
	items, err := s.DB.ListRepertoire(ctx, g.ID, MaxRepertoire)
	if err != nil {
		return nil, err
	}
	var added []storage.Object
	for _, it := range items {
		if it.Object != nil && !it.CreatedAt.Before(since) && len(added) < digestListed {
			added = append(added, *it.Object)
		}
	}
	answered, err := s.DB.AnsweredSince(ctx, g.ID, since, digestListed)
	if err != nil {
		return nil, err
	}
	active, err := s.DB.ActiveThreads(ctx, g.ID, since, digestListed/2)
	if err != nil {
		return nil, err
	}
	if len(added) == 0 && len(answered) == 0 && len(active) == 0 {
		return nil, nil
	}

	link := func(o *storage.Object) string {
		title := o.Name
		if title == "" {
			title = truncate(sanitize.PlainText(StripKindLead(o.Content, o.Kind, o.Name), 200), 80)
		}
		return `<a href="` + html.EscapeString(LinkOrID(o.URL, o.URI)) + `">` + html.EscapeString(title) + `</a>`
	}
	week := since.UTC().Format("2 January") + " – " + now.UTC().Format("2 January 2006")
	content := "<p>" + html.EscapeString("The week in "+c.Title+", "+week+".") + "</p>"
	list := func(head string, lines []string) {
		if len(lines) == 0 {
			return
		}
		content += "<p><strong>" + html.EscapeString(head) + "</strong></p><ul>"
		for _, l := range lines {
			content += "<li>" + l + "</li>"
		}
		content += "</ul>"
	}
	var lines []string
	for i := range added {
		lines = append(lines, link(&added[i]))
	}
	list("New in the repertoire", lines)
	lines = nil
	for i := range answered {
		lines = append(lines, link(&answered[i]))
	}
	list("Questions answered", lines)
	lines = nil
	for i := range active {
		n := active[i].Replies
		lines = append(lines, link(&active[i].Root)+" ("+strconv.FormatInt(n, 10)+" "+plural(n, "reply", "replies")+")")
	}
	list("Most active threads", lines)

	id := s.URLs.NewObject()
	published := now.UTC().Truncate(time.Second)
	visibility := storage.VisibilityPublic
	if g.MembersOnly {
		visibility = storage.VisibilityMembers
	}
	to, cc := addressing(visibility, g, g, nil)
	note := &vocab.Object{
		ID: id, Type: vocab.TypeNote, AttributedTo: vocab.RefsTo(g.URI),
		Name: "The week in " + c.Title, Content: content, MediaType: "text/html",
		Published: vocab.At(published), URL: vocab.LinkTo(id), Replies: repliesOf(id),
		Context: vocab.IRI(id + contextSuffix), Audience: vocab.IRI(g.URI), To: to, CC: cc,
	}
	raw, err := json.Marshal(note)
	if err != nil {
		return nil, err
	}
	body, err := s.activityDoc(vocab.TypeCreate, g, note, to, cc)
	if err != nil {
		return nil, err
	}
	var o *storage.Object
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if o, err = s.storeObject(ctx, tx, note, raw, g, g, nil); err != nil {
			return err
		}
		inboxes, err := tx.MemberInboxes(ctx, g.ID)
		if err != nil {
			return err
		}
		_, err = s.send(ctx, tx, g, body, inboxes)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("digest of %s: %w", name, err)
	}
	s.notifyDeliveries()
	return o, nil
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
