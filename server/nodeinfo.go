package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

const nodeInfoSchema = "http://nodeinfo.diaspora.software/ns/schema/"

// nodeInfoLinks is /.well-known/nodeinfo: where the documents are, newest
// schema first.
func (s *Server) nodeInfoLinks(c echo.Context) error {
	allowCORS(c)
	return c.JSON(http.StatusOK, map[string]any{"links": []jrdLink{
		{Rel: nodeInfoSchema + "2.1", Href: s.urls.Base + "/nodeinfo/2.1"},
		{Rel: nodeInfoSchema + "2.0", Href: s.urls.Base + "/nodeinfo/2.0"},
	}})
}

type nodeInfoDoc struct {
	Version           string           `json:"version"`
	Software          nodeInfoSoftware `json:"software"`
	Protocols         []string         `json:"protocols"`
	Services          nodeInfoServices `json:"services"`
	OpenRegistrations bool             `json:"openRegistrations"`
	Usage             nodeInfoUsage    `json:"usage"`
	Metadata          nodeInfoMetadata `json:"metadata"`
}

type nodeInfoSoftware struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type nodeInfoServices struct {
	Inbound  []string `json:"inbound"`
	Outbound []string `json:"outbound"`
}

type nodeInfoUsage struct {
	Users         nodeInfoUsers `json:"users"`
	LocalPosts    int64         `json:"localPosts"`
	LocalComments int64         `json:"localComments"`
}

type nodeInfoUsers struct {
	Total          int64 `json:"total"`
	ActiveMonth    int64 `json:"activeMonth"`
	ActiveHalfyear int64 `json:"activeHalfyear"`
}

type nodeInfoMetadata struct {
	NodeName    string `json:"nodeName"`
	Communities int64  `json:"communities"`
	// Upstream names the API we are compatible with, as forks of Mastodon
	// do; megalodon (Whalebird, Fedistar) accepts unknown software only
	// when this says mastodon.
	Upstream nodeInfoUpstream `json:"upstream"`
}

type nodeInfoUpstream struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// MastodonVersion is the version of Mastodon's client API we answer as;
// apps choose features by it (4.3 brings grouped notifications).
const MastodonVersion = "4.3.0"

// nodeInfo serves one schema version. 2.0 and 2.1 differ only in the
// optional software.repository and homepage, which we do not publish, so
// one document serves both.
func (s *Server) nodeInfo(version string) echo.HandlerFunc {
	contentType := `application/json; profile="` + nodeInfoSchema + version + `#"`
	return func(c echo.Context) error {
		allowCORS(c)
		u, err := s.db.Usage(c.Request().Context(), time.Now())
		if err != nil {
			return err
		}
		doc := nodeInfoDoc{
			Version:   version,
			Software:  nodeInfoSoftware{Name: "commonplace", Version: Version},
			Protocols: []string{"activitypub"},
			Services:  nodeInfoServices{Inbound: []string{}, Outbound: []string{}},
			Usage: nodeInfoUsage{
				Users:         nodeInfoUsers{Total: u.Users, ActiveMonth: u.ActiveMonth, ActiveHalfyear: u.ActiveHalfYear},
				LocalPosts:    u.LocalPosts,
				LocalComments: u.LocalComments,
			},
			Metadata: nodeInfoMetadata{
				NodeName: s.domain, Communities: u.Communities,
				Upstream: nodeInfoUpstream{Name: "mastodon", Version: MastodonVersion},
			},
		}
		body, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, contentType, body)
	}
}
