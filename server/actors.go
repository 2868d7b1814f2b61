package server

import (
	"cmp"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/web"
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
		return activityJSON(c, personToAS(a))
	}
	return s.renderHTML(c, http.StatusOK, "member", web.MemberPage{
		Page:        web.Page{Title: displayName(a), Domain: s.domain, Alternate: a.URI},
		Name:        a.Username,
		DisplayName: a.DisplayName,
		Handle:      "@" + a.Username + "@" + s.domain,
		Summary:     web.Paragraphs(a.Summary),
	})
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
	if err != nil {
		return err
	}
	if wantsActivityJSON(c.Request()) {
		return activityJSON(c, groupToAS(com, moderatorsURI(com.Actor)))
	}
	members, err := s.db.CountMembers(ctx, com.ActorID, storage.StateAccepted)
	if err != nil {
		return err
	}
	view := s.communityView(com, members)
	posts, err := s.pagePosts(ctx, com, storage.ObjectFilter{CommunityActorID: com.ActorID, TopLevelOnly: true, Limit: communityPagePosts})
	if err != nil {
		return err
	}
	page := web.CommunityPage{
		Page:      web.Page{Title: com.Title, Domain: s.domain, Alternate: com.Actor.URI},
		Community: view,
	}
	for _, o := range posts {
		page.Posts = append(page.Posts, web.Post{
			Title: o.Name, Author: "@" + o.AuthorActor.Handle(), AuthorURL: cmp.Or(o.AuthorActor.URL, o.AuthorActor.URI),
			Published: o.PublishedAt, URL: cmp.Or(o.URL, o.URI),
			// Stored content was sanitised on the way in; sanitising
			// again on the way out costs little and guards old rows.
			Content: template.HTML(sanitize.HTML(o.Content)),
		})
	}
	return s.renderHTML(c, http.StatusOK, "community", page)
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

// home lists the public communities: what they are about and how to join.
func (s *Server) home(c echo.Context) error {
	all, err := s.db.ListCommunities(c.Request().Context(), maxHomeCommunities)
	if err != nil {
		return err
	}
	page := web.Home{Page: web.Page{Title: "Communities", Domain: s.domain}}
	for i := range all {
		if all[i].Visibility == storage.VisibilityPublic {
			page.Communities = append(page.Communities, s.communityView(&all[i], 0))
		}
	}
	return s.renderHTML(c, http.StatusOK, "home", page)
}

// communityPagePosts is how many recent posts a community's page shows.
const communityPagePosts = 20

// maxHomeCommunities bounds the home page until it has paging.
const maxHomeCommunities = 500

func (s *Server) communityView(com *storage.Community, members int64) web.Community {
	return web.Community{
		Name:    com.Actor.Username,
		Title:   com.Title,
		Handle:  "@" + com.Actor.Username + "@" + s.domain,
		Path:    "/c/" + com.Actor.Username,
		Summary: web.Paragraphs(com.Summary),
		Tags:    com.TagNames(),
		Members: members,
		Closed:  com.Closed,
	}
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

func displayName(a *storage.Actor) string {
	if a.DisplayName != "" {
		return a.DisplayName
	}
	return a.Username
}

// static serves the embedded stylesheet. Directory listings are refused;
// files may be cached for a day since they change only with a release.
func (s *Server) static() echo.HandlerFunc {
	files := http.StripPrefix("/static/", http.FileServerFS(web.Static()))
	return func(c echo.Context) error {
		p := c.Param("*")
		if p == "" || p[len(p)-1] == '/' {
			return notFound("not found")
		}
		c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=86400")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
