package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Actor URLs serve JSON to ActivityPub fetchers and a page to browsers;
// Vary: Accept keeps caches from handing one to the other.

// person is /u/:name.
func (s *Server) person(c echo.Context) error {
	c.Response().Header().Add(echo.HeaderVary, echo.HeaderAccept)
	a, err := s.localActor(c, storage.TypePerson)
	if err != nil {
		return err
	}
	if wantsActivityJSON(c.Request()) {
		doc := personToAS(a)
		s.svc.ActorImages(a, &doc.Actor)
		return activityJSON(c, doc)
	}
	return s.page(c, func(p Pages) error { return p.Member(c, a) })
}

// group is /c/:name.
func (s *Server) group(c echo.Context) error {
	c.Response().Header().Add(echo.HeaderVary, echo.HeaderAccept)
	name, err := actorName(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	com, err := s.db.GetCommunityByName(ctx, name)
	if errors.Is(err, storage.ErrNotFound) {
		if gone, gerr := s.db.GetDeletedLocalActor(ctx, name); gerr == nil && gone.Type == storage.TypeGroup && gone.DeletedAt != nil {
			return goneGroup(c, gone)
		}
	}
	if err != nil {
		return err
	}
	if wantsActivityJSON(c.Request()) {
		doc := groupToAS(com, moderatorsURI(com.Actor))
		s.svc.ActorImages(com.Actor, &doc.Actor)
		return activityJSON(c, doc)
	}
	return s.page(c, func(p Pages) error { return p.Community(c, com) })
}

// goneGroup answers for a deleted community: 410 Gone, with a Tombstone
// for servers, as for a deleted post.
func goneGroup(c echo.Context, g *storage.Actor) error {
	if !wantsActivityJSON(c.Request()) {
		return echo.NewHTTPError(http.StatusGone, "this community was deleted")
	}
	body, err := vocab.Marshal(&vocab.Object{ID: g.URI, Type: vocab.TypeTombstone, FormerType: vocab.TypeGroup, Deleted: vocab.At(*g.DeletedAt)})
	if err != nil {
		return err
	}
	return c.Blob(http.StatusGone, vocab.MediaTypeActivity, body)
}

// instanceActor is /actor. People are sent to the about page instead.
func (s *Server) instanceActor(c echo.Context) error {
	c.Response().Header().Add(echo.HeaderVary, echo.HeaderAccept)
	a, err := s.db.GetActorByURI(c.Request().Context(), s.urls.InstanceActor())
	if err != nil {
		return err
	}
	if wantsActivityJSON(c.Request()) {
		return activityJSON(c, instanceActorToAS(a))
	}
	return c.Redirect(http.StatusSeeOther, "/about")
}

// page renders the HTML side of a negotiated URL, if this server has
// pages.
func (s *Server) page(c echo.Context, render func(Pages) error) error {
	if s.pages == nil {
		return echo.NewHTTPError(http.StatusNotAcceptable, "this server serves ActivityPub JSON here")
	}
	return render(s.pages)
}

// localActor finds the local actor of type typ named by the :name
// parameter. A member's name under /c/ is not found, and the other way
// round, so each actor has exactly one URL.
func (s *Server) localActor(c echo.Context, typ string) (*storage.Actor, error) {
	name, err := actorName(c)
	if err != nil {
		return nil, err
	}
	return s.db.GetLocalActorByType(c.Request().Context(), name, typ)
}

// actorName reads :name, refusing without a query what cannot be a
// member or community name (lookups are case-insensitive, so upper case
// passes).
func actorName(c echo.Context) (string, error) {
	name := c.Param("name")
	if name == "" || len(name) > federation.MaxNameLen {
		return "", notFound("no such member or community")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return "", notFound("no such member or community")
		}
	}
	return name, nil
}

// moderatorsURI is a Group's moderators collection, at Lemmy's path.
func moderatorsURI(group *storage.Actor) string { return group.URI + "/moderators" }
