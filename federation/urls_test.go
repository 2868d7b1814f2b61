package federation_test

import (
	"testing"

	"github.com/commonplace/commonplace/federation"
)

// Link fields show only http(s) pages on the id's own host (issue 9
// item 8); anything else falls back to the id.
func TestLinkOrID(t *testing.T) {
	const id = "https://remote.example/users/eve"
	for link, want := range map[string]string{
		"https://remote.example/@eve":               "https://remote.example/@eve",
		"https://REMOTE.example:443/@eve":           "https://REMOTE.example:443/@eve",
		"http://remote.example/@eve":                "http://remote.example/@eve",
		"":                                          id,
		"javascript:alert(1)":                       id,
		"JavaScript:alert(1)":                       id,
		"data:text/html,<script>alert(1)</script>":  id,
		"vbscript:x":                                id,
		"https://phish.example/@eve":                id,
		"https://remote.example.phish.example/":     id,
		"https://remote.example@phish.example/":     id,
		"https://user@remote.example/@eve":          id,
		"//remote.example/@eve":                     id,
		"/@eve":                                     id,
		"https://remote.example/@eve\njavascript:x": id,
		"https://remote.example:8443/@eve":          id,
		"ftp://remote.example/eve":                  id,
	} {
		if got := federation.LinkOrID(link, id); got != want {
			t.Errorf("LinkOrID(%q) = %q, want %q", link, got, want)
		}
	}
}
