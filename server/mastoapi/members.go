package mastoapi

import (
	"context"
	"errors"

	"github.com/commonplace/commonplace/storage"
)

// readsCommunity reports whether the viewer (0: signed out) may see what
// is inside the community group beyond its name: anyone for an open
// community, only its accepted members for a members-only one.
func (a *API) readsCommunity(ctx context.Context, group *storage.Actor, viewer int64) (bool, error) {
	if !group.MembersOnly {
		return true, nil
	}
	if viewer == 0 {
		return false, nil
	}
	m, err := a.db.GetMembership(ctx, group.ID, viewer)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil && m.State == storage.StateAccepted, err
}
