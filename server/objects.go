package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// object serves a local post: its Note to servers, a Tombstone with 410
// once deleted, and a plain page to browsers.
func (s *Server) object(c echo.Context) error {
	o, err := s.localObject(c)
	if err != nil {
		return err
	}
	c.Response().Header().Add(echo.HeaderVary, echo.HeaderAccept)
	if !wantsActivityJSON(c.Request()) {
		// (The page answers 410 or 404 for a deleted post, as its
		// visibility says.)
		return s.page(c, func(p Pages) error { return p.Object(c, o) })
	}
	// Followers-only and direct posts, deleted or not: only for their
	// readers' servers, on a signed request (to others, no such post).
	if err := s.svc.FetchAllowed(c.Request().Context(), c.Request(), o); err != nil {
		return peerError(err)
	}
	doc, err := s.svc.PollDocument(c.Request().Context(), o)
	if err != nil {
		return err
	}
	if o.DeletedAt != nil {
		body, err := vocab.Marshal(doc)
		if err != nil {
			return err
		}
		return c.Blob(http.StatusGone, vocab.MediaTypeActivity, body)
	}
	return activityJSON(c, doc)
}

// objectReplies is the replies collection of a post.
func (s *Server) objectReplies(c echo.Context) error {
	o, err := s.localObject(c)
	if err != nil {
		return err
	}
	if err := s.svc.FetchAllowed(c.Request().Context(), c.Request(), o); err != nil {
		return peerError(err)
	}
	if o.DeletedAt != nil {
		return echo.NewHTTPError(http.StatusGone, "this post was deleted")
	}
	id := o.URI + "/replies"
	// Public and unlisted replies, as Mastodon's replies collection; the
	// replies in a members-only community's thread are members posts, for
	// the servers FetchAllowed let see the post.
	members := o.Visibility == storage.VisibilityMembers
	return s.serve(c, collection{
		id: id,
		count: func(ctx context.Context) (int64, error) {
			return s.db.CountObjects(ctx, storage.ObjectFilter{InReplyToID: o.ID, Members: members, Unlisted: true})
		},
		page: func(ctx context.Context, before int64, limit int) ([]pageItem, error) {
			replies, err := s.db.ListObjects(ctx, storage.ObjectFilter{InReplyToID: o.ID, Members: members, Unlisted: true, BeforeID: before, Limit: limit})
			if err != nil {
				return nil, err
			}
			items := make([]pageItem, 0, len(replies))
			for _, r := range replies {
				items = append(items, pageItem{ref: vocab.NewRef(r.URI), cursor: r.ID})
			}
			return items, nil
		},
	})
}

// localObject loads the post named by the :id parameter, a UUID.
func (s *Server) localObject(c echo.Context) (*storage.Object, error) {
	id := c.Param("id")
	if _, err := uuid.Parse(id); err != nil {
		return nil, notFound("no such post")
	}
	o, err := s.db.GetObjectByURI(c.Request().Context(), s.urls.Base+"/o/"+strings.ToLower(id))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFound("no such post")
	}
	return o, err
}

// activity serves a public activity this instance sent, so that servers
// that fetch an activity by its id (to check an Announce, say) find it.
func (s *Server) activity(c echo.Context) error {
	id := c.Param("id")
	if _, err := uuid.Parse(id); err != nil {
		return notFound("no such activity")
	}
	a, err := s.db.GetActivityByURI(c.Request().Context(), s.urls.Base+"/a/"+strings.ToLower(id))
	if errors.Is(err, storage.ErrNotFound) || err == nil && !a.Local {
		return notFound("no such activity")
	} else if err != nil {
		return err
	}
	act, err := vocab.ParseActivity([]byte(a.Raw))
	if err != nil || !act.IsPublic() {
		// Follows and their answers name their audience; they are not
		// public documents.
		return notFound("no such activity")
	}
	return c.Blob(http.StatusOK, vocab.MediaTypeActivity, []byte(a.Raw))
}

// objectContext is the collection of a local thread's posts (FEP-f228),
// named by its first post: oldest first, each post the requesting
// server may read (an unsigned request: public and unlisted posts; a
// signed one: also those its actors are readers of, as a fetch of each
// would answer). A thread whose first post it may not read does not
// exist for it.
func (s *Server) objectContext(c echo.Context) error {
	root, err := s.localObject(c)
	if err != nil {
		return err
	}
	if root.ContextURI != root.URI || root.InReplyToURI != "" {
		return notFound("no such thread")
	}
	ctx := c.Request().Context()
	if err := s.svc.FetchAllowed(ctx, c.Request(), root); err != nil {
		return peerError(err)
	}
	host, err := s.svc.FetchingServer(ctx, c.Request())
	if err != nil {
		return peerError(err)
	}
	return s.serve(c, collection{
		id: root.URI + "/context",
		count: func(ctx context.Context) (int64, error) {
			return s.db.CountThreadForServer(ctx, root.URI, host)
		},
		// The cursor is the last post shown: pages go forward in time.
		page: func(ctx context.Context, after int64, limit int) ([]pageItem, error) {
			posts, err := s.db.ListThreadForServer(ctx, root.URI, host, after, limit)
			if err != nil {
				return nil, err
			}
			items := make([]pageItem, 0, len(posts))
			for _, p := range posts {
				items = append(items, pageItem{ref: vocab.NewRef(p.URI), cursor: p.ID})
			}
			return items, nil
		},
	})
}
