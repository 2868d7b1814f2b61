package federation

import (
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/commonplace/commonplace/federation/hostname"
)

// URLs builds the public URLs of local actors and objects. Every id this
// instance mints comes from here, so the layout is in one place:
//
//	/u/{name}   members (Person)     /c/{name}  communities (Group)
//	/actor      the instance actor   /inbox     the shared inbox
//	/o/{uuid}   objects              /a/{uuid}  activities
type URLs struct {
	// Base is the public origin, e.g. https://example.org.
	Base string
}

// Host is the public host[:port].
func (u URLs) Host() string {
	return strings.TrimPrefix(strings.TrimPrefix(u.Base, "https://"), "http://")
}

// Member is a local member's actor id.
func (u URLs) Member(name string) string { return u.Base + "/u/" + url.PathEscape(name) }

// Community is a local community's actor id.
func (u URLs) Community(name string) string { return u.Base + "/c/" + url.PathEscape(name) }

// InstanceActor is the instance actor's id.
func (u URLs) InstanceActor() string { return u.Base + "/actor" }

// SharedInbox receives activities for every local actor.
func (u URLs) SharedInbox() string { return u.Base + "/inbox" }

// NewObject mints a new object id.
func (u URLs) NewObject() string { return u.Base + "/o/" + uuid.NewString() }

// NewActivity mints a new activity id.
func (u URLs) NewActivity() string { return u.Base + "/a/" + uuid.NewString() }

// IsLocal reports whether id is on this instance.
func (u URLs) IsLocal(id string) bool {
	return id == u.Base || strings.HasPrefix(id, u.Base+"/")
}

// KeyID is the id of an actor's public key, in Mastodon's form.
func KeyID(actorURI string) string { return actorURI + "#main-key" }

// LinkOrID is what a link field of a remote actor or post (its url, the
// page people open) may show: link when it is an absolute http(s) URL on
// the same host as id, else id. A remote document names its pages itself,
// and apps put that text in an href: a javascript: URL, or a page on
// another host dressed as the author's, must never reach them.
func LinkOrID(link, id string) string {
	if safeLink(link, id) {
		return link
	}
	return id
}

// linkOf is link when LinkOrID would show it, else "" (stored as "no
// page of its own": readers fall back to the id).
func linkOf(link, id string) string {
	if safeLink(link, id) {
		return link
	}
	return ""
}

func safeLink(link, id string) bool {
	if link == "" || len(link) > 2048 || strings.ContainsFunc(link, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.Opaque != "" {
		return false
	}
	h := hostname.OfURL(link)
	return h != "" && h == hostname.OfURL(id)
}
