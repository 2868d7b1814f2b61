package federation

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/commonplace/commonplace/storage"
)

// UpdateProfile sets a local member's display name and bio (plain text).
// Other servers see the change when they next fetch the actor; no
// Update{Person} is sent yet.
func (s *Service) UpdateProfile(ctx context.Context, actor *storage.Actor, displayName, summary string) (*storage.Actor, error) {
	displayName = strings.TrimSpace(displayName)
	summary = strings.TrimSpace(strings.ReplaceAll(summary, "\r\n", "\n"))
	if utf8.RuneCountInString(displayName) > MaxTitleLen {
		return nil, fmt.Errorf("%w: the display name is longer than %d characters", ErrInvalid, MaxTitleLen)
	}
	if utf8.RuneCountInString(summary) > MaxSummaryLen {
		return nil, fmt.Errorf("%w: the bio is longer than %d characters", ErrInvalid, MaxSummaryLen)
	}
	if !actor.Local || actor.Type != storage.TypePerson {
		return nil, fmt.Errorf("%w: only local members have profiles here", ErrForbidden)
	}
	if err := s.DB.UpdateActorProfile(ctx, actor.ID, displayName, summary); err != nil {
		return nil, err
	}
	actor.DisplayName, actor.Summary = displayName, summary
	return actor, nil
}
