package federation

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/commonplace/commonplace/storage"
)

// The newcomer's view (issue 15, item 5): a welcome message moderators
// set for new members, and a member's choice not to be listed among the
// people who answer.

// MaxWelcomeLen bounds a community's welcome message.
const MaxWelcomeLen = 2000

// SetWelcome sets (empty: clears) the welcome message of a local
// community, as one of its moderators.
func (s *Service) SetWelcome(ctx context.Context, by *storage.Actor, community, text string) error {
	g, err := s.moderated(ctx, by, community)
	if err != nil {
		return err
	}
	if !g.Local {
		return fmt.Errorf("%w: %s's welcome is set on its own server", ErrInvalid, g.Handle())
	}
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if utf8.RuneCountInString(text) > MaxWelcomeLen {
		return fmt.Errorf("%w: a welcome is at most %d characters", ErrInvalid, MaxWelcomeLen)
	}
	return s.DB.SetWelcome(ctx, g.ID, text)
}

// ListAsAnswerer says whether a local member is listed among the people
// who answer in communities.
func (s *Service) ListAsAnswerer(ctx context.Context, member *storage.Actor, listed bool) error {
	if !member.Local {
		return fmt.Errorf("%w: only local members choose here", ErrForbidden)
	}
	return s.DB.SetAnswererOptout(ctx, member.ID, !listed)
}

// welcomeMember sends a new member of a local community its welcome, if
// it has one: a direct message from the community that mentions them, so
// that apps show it as a mention. A failure is logged; the membership
// stands.
func (s *Service) welcomeMember(ctx context.Context, g, member *storage.Actor) {
	if g == nil || !g.Local || g.Type != storage.TypeGroup || member.Type != storage.TypePerson {
		return
	}
	welcome, err := s.DB.Welcome(ctx, g.ID)
	if err != nil || welcome == "" {
		if err != nil {
			s.Log.Info("welcome not read", "community", g.URI, "err", err)
		}
		return
	}
	if _, err := s.Post(ctx, g, NewPost{Text: "@" + member.Handle() + " " + welcome, Visibility: storage.VisibilityDirect}); err != nil {
		s.Log.Info("welcome not sent", "community", g.URI, "member", member.URI, "err", err)
	}
}

// SetIntroductions makes a post of a local community its introductions
// thread (on false: no longer), as one of its moderators.
func (s *Service) SetIntroductions(ctx context.Context, by *storage.Actor, postURI string, on bool) error {
	o, err := s.DB.GetObjectByURI(ctx, postURI)
	if err != nil {
		return err
	}
	if o.DeletedAt != nil || o.InReplyToURI != "" || o.CommunityActor == nil || !o.CommunityActor.Local {
		return fmt.Errorf("%w: %s is not a live post of a community here", ErrInvalid, postURI)
	}
	g, err := s.moderated(ctx, by, o.CommunityActor.URI)
	if err != nil {
		return err
	}
	id := o.ID
	if !on {
		id = 0
	}
	return s.DB.SetIntroductions(ctx, g.ID, id)
}
