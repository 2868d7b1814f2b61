package server

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// maxResourceLen bounds the WebFinger resource; real handles and actor
// URLs are far shorter.
const maxResourceLen = 512

// jrd is a WebFinger JSON Resource Descriptor (RFC 7033).
type jrd struct {
	Subject string    `json:"subject"`
	Aliases []string  `json:"aliases,omitempty"`
	Links   []jrdLink `json:"links"`
}

type jrdLink struct {
	Rel  string `json:"rel"`
	Type string `json:"type,omitempty"`
	Href string `json:"href,omitempty"`
	// Template is a URL template (RFC 6415), for the subscribe link.
	Template string `json:"template,omitempty"`
}

// webfinger answers for members, communities and the instance actor, which
// share one namespace, by acct: handle (with or without the scheme, as
// Mastodon accepts) or by actor URL.
func (s *Server) webfinger(c echo.Context) error {
	allowCORS(c)
	actor, err := s.resolveResource(c.Request().Context(), c.QueryParam("resource"))
	if err != nil {
		return err
	}
	doc := jrd{
		Subject: "acct:" + actor.Username + "@" + s.domain,
		Aliases: []string{actor.URI},
		Links: []jrdLink{
			{Rel: "self", Type: vocab.MediaTypeActivity, Href: actor.URI},
		},
	}
	if actor.URL != "" {
		if actor.URL != actor.URI {
			doc.Aliases = append(doc.Aliases, actor.URL)
		}
		doc.Links = append(doc.Links, jrdLink{Rel: "http://webfinger.net/rel/profile-page", Type: "text/html", Href: actor.URL})
	}
	if s.pages != nil && actor.Type == storage.TypePerson {
		// Where this member follows accounts from elsewhere, as Mastodon
		// publishes it: other servers send their remote-follow forms here.
		doc.Links = append(doc.Links, jrdLink{Rel: federation.SubscribeRel, Template: s.urls.Base + "/authorize_interaction?uri={uri}"})
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/jrd+json; charset=utf-8", body)
}

// resolveResource finds the local actor a WebFinger resource names. A
// malformed resource is a 400 with the reason; a well-formed one for
// another domain or an unknown name is a 404.
func (s *Server) resolveResource(ctx context.Context, resource string) (*storage.Actor, error) {
	switch {
	case resource == "":
		return nil, badRequest("resource parameter is required")
	case len(resource) > maxResourceLen:
		return nil, badRequest("resource is too long")
	case !utf8.ValidString(resource):
		return nil, badRequest("resource is not valid UTF-8")
	case strings.IndexFunc(resource, unicode.IsControl) >= 0:
		return nil, badRequest("resource contains control characters")
	}
	scheme, rest, hasScheme := splitScheme(resource)
	switch {
	case hasScheme && scheme == "acct":
		return s.lookupAcct(ctx, rest)
	case hasScheme && (scheme == "https" || scheme == "http"):
		return s.lookupURL(ctx, resource)
	case hasScheme:
		return nil, badRequest("resource scheme must be acct, https or http")
	}
	return s.lookupAcct(ctx, resource)
}

// splitScheme separates a URI scheme, lower-cased. "alice@host:8080" has
// none: a scheme cannot contain '@', so the colon there is a port's.
func splitScheme(s string) (scheme, rest string, ok bool) {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return "", s, false
	}
	scheme = s[:i]
	for j, r := range scheme {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || j > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return "", s, false
		}
	}
	return strings.ToLower(scheme), s[i+1:], true
}

func (s *Server) lookupAcct(ctx context.Context, acct string) (*storage.Actor, error) {
	acct = strings.TrimPrefix(acct, "@")
	user, domain, ok := strings.Cut(acct, "@")
	if !ok || user == "" || domain == "" || strings.Contains(domain, "@") {
		return nil, badRequest("resource must be acct:name@domain")
	}
	if !validAcctUser(user) {
		return nil, badRequest("resource has an invalid user name")
	}
	if !strings.EqualFold(domain, s.domain) {
		return nil, notFound("not a domain of this instance")
	}
	a, err := s.db.GetLocalActor(ctx, user)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFound("no such member or community")
	}
	return a, err
}

// validAcctUser allows member and community names and the instance actor's
// host name; anything else cannot be one of ours.
func validAcctUser(user string) bool {
	for _, r := range user {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

func (s *Server) lookupURL(ctx context.Context, resource string) (*storage.Actor, error) {
	u, err := url.Parse(resource)
	if err != nil || u.Host == "" || u.User != nil {
		return nil, badRequest("resource is not a valid URL")
	}
	if !strings.EqualFold(u.Host, s.domain) {
		return nil, notFound("not a domain of this instance")
	}
	var a *storage.Actor
	switch p := u.Path; {
	case p == "/actor":
		a, err = s.db.GetActorByURI(ctx, s.urls.InstanceActor())
	case strings.HasPrefix(p, "/u/") && !strings.Contains(p[3:], "/"):
		a, err = s.db.GetLocalActorByType(ctx, p[3:], storage.TypePerson)
	case strings.HasPrefix(p, "/c/") && !strings.Contains(p[3:], "/"):
		a, err = s.db.GetLocalActorByType(ctx, p[3:], storage.TypeGroup)
	default:
		return nil, notFound("not an actor URL of this instance")
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFound("no such member or community")
	}
	return a, err
}

// hostMeta points old clients (and Mastodon's fallback) at WebFinger.
func (s *Server) hostMeta(c echo.Context) error {
	allowCORS(c)
	type link struct {
		Rel      string `xml:"rel,attr"`
		Template string `xml:"template,attr"`
	}
	doc := struct {
		XMLName xml.Name `xml:"http://docs.oasis-open.org/ns/xri/xrd-1.0 XRD"`
		Links   []link   `xml:"Link"`
	}{Links: []link{{Rel: "lrdd", Template: s.urls.Base + "/.well-known/webfinger?resource={uri}"}}}
	body, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/xrd+xml; charset=utf-8", append([]byte(xml.Header), body...))
}
