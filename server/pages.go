package server

import (
	"context"

	"github.com/commonplace/commonplace/storage"
)

// pagePosts lists the posts a community's public HTML page may show: none
// when the community is not public, and never posts from limited domains.
// In allowlist mode only members and allowed servers reach the page at all
// (the gate, access.go).
func (s *Server) pagePosts(ctx context.Context, com *storage.Community, f storage.ObjectFilter) ([]storage.Object, error) {
	if com.Visibility != storage.VisibilityPublic {
		return nil, nil
	}
	f.HideLimited = true
	return s.db.ListObjects(ctx, f)
}
