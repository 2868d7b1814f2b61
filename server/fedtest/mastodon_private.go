package fedtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Followers-only and direct statuses as Mastodon writes and reads them.

const publicCollection = "https://www.w3.org/ns/activitystreams#Public"

// Followers is alice's followers collection.
func (m *Mastodon) Followers() string { return m.ActorURI() + "/followers" }

// PostWithVisibility writes a status of Mastodon's visibility (public,
// unlisted, private or direct) that mentions the actors in mentions
// (actor id -> handle), addressed as Mastodon's ActivityPub::TagManager
// addresses it, and delivers it to inbox. It returns the Note's id and
// the status code.
func (m *Mastodon) PostWithVisibility(inbox, visibility, text string, mentions map[string]string) (string, int) {
	noteID, note := m.NoteWithVisibility(visibility, text, mentions)
	create := withContext(map[string]any{
		"id": noteID + "/activity", "type": "Create", "actor": m.ActorURI(),
		"published": note["published"], "to": note["to"], "cc": note["cc"], "object": note,
	})
	return noteID, m.Send(inbox, create)
}

// NoteWithVisibility writes the status PostWithVisibility delivers, only
// served at its id (for fetches), and returns its id and the Note.
func (m *Mastodon) NoteWithVisibility(visibility, text string, mentions map[string]string) (string, map[string]any) {
	n := m.nextID.Add(1)
	noteID := fmt.Sprintf("%s/statuses/%d", m.ActorURI(), n)
	var named []string
	tags := []any{}
	content := "<p>"
	for uri, handle := range mentions {
		named = append(named, uri)
		tags = append(tags, map[string]string{"type": "Mention", "href": uri, "name": "@" + handle})
		content += fmt.Sprintf(`<span class="h-card" translate="no"><a href="%s" class="u-url mention">@<span>%s</span></a></span> `, uri, handle)
	}
	slices.Sort(named)
	content += text + "</p>"
	var to, cc []string
	switch visibility {
	case "public":
		to, cc = []string{publicCollection}, append([]string{m.Followers()}, named...)
	case "unlisted":
		to, cc = []string{m.Followers()}, append([]string{publicCollection}, named...)
	case "private":
		to, cc = []string{m.Followers()}, named
	case "direct":
		to, cc = named, []string{}
	default:
		m.t.Fatalf("visibility %q", visibility)
	}
	note := map[string]any{
		"id": noteID, "type": "Note", "summary": nil, "inReplyTo": nil,
		"published": time.Now().UTC().Format(time.RFC3339), "url": m.srv.URL + fmt.Sprintf("/@alice/%d", n),
		"attributedTo": m.ActorURI(), "to": to, "cc": cc, "sensitive": false,
		"content": content, "attachment": []any{}, "tag": tags,
	}
	noteBody, _ := json.Marshal(withContext(note))
	m.mu.Lock()
	m.notes[fmt.Sprint(n)] = noteBody
	m.mu.Unlock()
	return noteID, note
}

// Boost delivers alice's boost of the status objectID (by author) to
// inbox, addressed as Mastodon addresses a public reblog: Public, cc the
// post's author and alice's followers. It returns the Announce's id and
// the status code.
func (m *Mastodon) Boost(inbox, objectID, author string) (string, int) {
	id := fmt.Sprintf("%s/statuses/%d/activity", m.ActorURI(), m.nextID.Add(1))
	return id, m.Send(inbox, map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       id, "type": "Announce", "actor": m.ActorURI(),
		"published": time.Now().UTC().Format(time.RFC3339),
		"to":        []string{publicCollection}, "cc": []string{author, m.Followers()},
		"object": objectID,
	})
}

// Unboost delivers the Undo of alice's boost announceID of objectID, with
// the Announce embedded as Mastodon sends it.
func (m *Mastodon) Unboost(inbox, announceID, objectID string) int {
	return m.Send(inbox, map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       announceID + "#undo", "type": "Undo", "actor": m.ActorURI(),
		"to": []string{publicCollection},
		"object": map[string]any{"id": announceID, "type": "Announce", "actor": m.ActorURI(),
			"to": []string{publicCollection}, "object": objectID},
	})
}

// MastodonVisibility reads a status's visibility as Mastodon does
// (ActivityPub::Activity::Create#visibility_from_audience): Public in to
// is public, in cc unlisted; the author's followers in to is private;
// anything else is direct (limited, when it mentions no one).
func MastodonVisibility(note map[string]any, authorFollowers string) string {
	to, cc := audience(note["to"]), audience(note["cc"])
	switch {
	case slices.Contains(to, publicCollection):
		return "public"
	case slices.Contains(cc, publicCollection):
		return "unlisted"
	case slices.Contains(to, authorFollowers):
		return "private"
	}
	return "direct"
}

// ShowsToAlice says whether Mastodon shows the status to alice, as its
// StatusPolicy#show? decides: a public or unlisted status to anyone; a
// private one to the author's followers and the accounts it mentions; a
// direct one to the accounts it mentions. (Mastodon records a mention
// for each account a status addresses as well as those it tags.)
func (m *Mastodon) ShowsToAlice(note map[string]any, authorFollowers string, aliceFollows bool) bool {
	named := slices.Concat(audience(note["to"]), audience(note["cc"]))
	if tags, ok := note["tag"].([]any); ok {
		for _, t := range tags {
			if tm, ok := t.(map[string]any); ok && tm["type"] == "Mention" {
				named = append(named, fmt.Sprint(tm["href"]))
			}
		}
	}
	mentioned := slices.Contains(named, m.ActorURI())
	switch MastodonVisibility(note, authorFollowers) {
	case "public", "unlisted":
		return true
	case "private":
		return aliceFollows || mentioned
	}
	return mentioned
}

func audience(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
