package web

import (
	"slices"

	"github.com/commonplace/commonplace/storage"
)

// VisibilityChoice is one answer to "who may read this?" in a composer,
// as Mastodon names the four visibilities.
type VisibilityChoice struct {
	Value, Label, Help string
	Checked            bool
}

var visibilityLabels = map[string][2]string{
	storage.VisibilityPublic:   {"Public", "Anyone; listed on the community's page, public timelines, tags and search."},
	storage.VisibilityUnlisted: {"Unlisted", "Anyone with the link, and on your profile; left out of public timelines, tags and search."},
	storage.VisibilityPrivate:  {"Followers only", "Your followers and the people you mention."},
	storage.VisibilityDirect:   {"Direct", "Only the people you mention."},
}

// visibilityChoices are the choices among values, chosen checked when it
// is one of them, else dflt.
func visibilityChoices(values []string, chosen, dflt string) []VisibilityChoice {
	if !slices.Contains(values, chosen) {
		chosen = dflt
	}
	out := make([]VisibilityChoice, len(values))
	for i, v := range values {
		l := visibilityLabels[v]
		out[i] = VisibilityChoice{Value: v, Label: l[0], Help: l[1], Checked: v == chosen}
	}
	return out
}

// communityVisibilities are what a post in a community may be: a community
// is public talk (a followers-only or direct post never enters one), and
// in a members-only community every post is for its members (no choice).
func communityVisibilities(com *storage.Community, chosen string) []VisibilityChoice {
	if com.Actor != nil && com.Actor.MembersOnly {
		return nil
	}
	return visibilityChoices([]string{storage.VisibilityPublic, storage.VisibilityUnlisted}, chosen, storage.VisibilityPublic)
}

// replyVisibilities are what a reply to o may be: any of the four, the
// parent's by default when it is followers-only or direct (as Mastodon's
// composer starts); a reply in a members thread is for its members.
func replyVisibilities(o *storage.Object, chosen string) []VisibilityChoice {
	if o.Visibility == storage.VisibilityMembers {
		return nil
	}
	dflt := storage.VisibilityPublic
	if o.Visibility == storage.VisibilityPrivate || o.Visibility == storage.VisibilityDirect {
		dflt = o.Visibility
	}
	return visibilityChoices([]string{storage.VisibilityPublic, storage.VisibilityUnlisted, storage.VisibilityPrivate, storage.VisibilityDirect},
		chosen, dflt)
}
