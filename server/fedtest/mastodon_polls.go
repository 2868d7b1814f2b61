package fedtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Polls as Mastodon federates them (ActivityPub::NoteSerializer for the
// Question, ActivityPub::VoteSerializer for a vote).

// PostQuestion writes a public poll of alice's, options with the votes
// given (replies.totalItems), ending at end, and delivers its Create to
// inbox. It returns the Question's id and the status code.
func (m *Mastodon) PostQuestion(inbox, text string, options []string, votes []int, voters int, multiple bool, end time.Time) (string, int) {
	n := m.nextID.Add(1)
	id := fmt.Sprintf("%s/statuses/%d", m.ActorURI(), n)
	q := m.question(id, text, options, votes, voters, multiple, end, false)
	body, _ := json.Marshal(withContext(q))
	m.mu.Lock()
	m.notes[fmt.Sprint(n)] = body
	m.mu.Unlock()
	return id, m.Send(inbox, withContext(map[string]any{
		"id": id + "/activity", "type": "Create", "actor": m.ActorURI(),
		"published": q["published"], "to": q["to"], "cc": q["cc"], "object": q,
	}))
}

// UpdateQuestion sends new totals of alice's poll id, closed or not, as
// Mastodon's DistributePollUpdateWorker does (no "updated": totals are no
// edit).
func (m *Mastodon) UpdateQuestion(inbox, id, text string, options []string, votes []int, voters int, multiple bool, end time.Time, closed bool) int {
	q := m.question(id, text, options, votes, voters, multiple, end, closed)
	return m.Send(inbox, withContext(map[string]any{
		"id": id + "#updates/" + fmt.Sprint(m.nextID.Add(1)), "type": "Update", "actor": m.ActorURI(),
		"to": q["to"], "cc": q["cc"], "object": q,
	}))
}

func (m *Mastodon) question(id, text string, options []string, votes []int, voters int, multiple bool, end time.Time, closed bool) map[string]any {
	var items []any
	for i, o := range options {
		items = append(items, map[string]any{"type": "Note", "name": o,
			"replies": map[string]any{"type": "Collection", "totalItems": votes[i]}})
	}
	q := map[string]any{
		"id": id, "type": "Question", "summary": nil, "inReplyTo": nil,
		"published": time.Now().UTC().Format(time.RFC3339), "attributedTo": m.ActorURI(),
		"to": []string{publicCollection}, "cc": []string{m.Followers()}, "sensitive": false,
		"content": "<p>" + text + "</p>", "attachment": []any{}, "tag": []any{},
		"endTime": end.UTC().Format(time.RFC3339), "votersCount": voters,
	}
	if closed {
		q["closed"] = end.UTC().Format(time.RFC3339)
	}
	if multiple {
		q["anyOf"] = items
	} else {
		q["oneOf"] = items
	}
	return q
}

// Vote sends alice's vote for option of the poll question (by author,
// whose inbox is inbox), as Mastodon's VoteSerializer writes it; voteID
// names the vote (the same id twice is one vote delivered twice).
func (m *Mastodon) Vote(inbox, question, author, option string, voteID int) int {
	id := fmt.Sprintf("%s#votes/%d", m.ActorURI(), voteID)
	return m.Send(inbox, withContext(map[string]any{
		"id": id + "/activity", "type": "Create", "actor": m.ActorURI(), "to": author,
		"object": map[string]any{"id": id, "type": "Note", "name": option, "attributedTo": m.ActorURI(),
			"inReplyTo": question, "to": author},
	}))
}

// VoteInOne sends alice's votes for several options in one Create, its
// object a list of Notes, as some GoToSocial versions send them.
func (m *Mastodon) VoteInOne(inbox, question, author string, options []string, firstID int) int {
	var notes []any
	for i, o := range options {
		id := fmt.Sprintf("%s#votes/%d", m.ActorURI(), firstID+i)
		notes = append(notes, map[string]any{"id": id, "type": "Note", "name": o, "attributedTo": m.ActorURI(),
			"inReplyTo": question, "to": author})
	}
	return m.Send(inbox, withContext(map[string]any{
		"id": fmt.Sprintf("%s#votes/%d/activity", m.ActorURI(), firstID), "type": "Create", "actor": m.ActorURI(), "to": author,
		"object": notes,
	}))
}

// ServeQuestion changes what alice's server answers for her poll id (as
// its totals change there).
func (m *Mastodon) ServeQuestion(id, text string, options []string, votes []int, voters int, multiple bool, end time.Time) {
	n := id[strings.LastIndexByte(id, '/')+1:]
	body, _ := json.Marshal(withContext(m.question(id, text, options, votes, voters, multiple, end, false)))
	m.mu.Lock()
	m.notes[n] = body
	m.mu.Unlock()
}

// EditQuestion sends an edit of alice's poll id (with "updated", as
// Mastodon's UpdateStatusService's Update carries).
func (m *Mastodon) EditQuestion(inbox, id, text string, options []string, votes []int, voters int, multiple bool, end time.Time) int {
	q := m.question(id, text, options, votes, voters, multiple, end, false)
	q["updated"] = time.Now().UTC().Format(time.RFC3339)
	return m.Send(inbox, withContext(map[string]any{
		"id": id + "#updates/" + fmt.Sprint(m.nextID.Add(1)), "type": "Update", "actor": m.ActorURI(),
		"to": q["to"], "cc": q["cc"], "object": q,
	}))
}
