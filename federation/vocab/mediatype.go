package vocab

import (
	"mime"
	"strconv"
	"strings"
)

// Media types of ActivityPub documents. We serve MediaTypeActivity, the
// type Mastodon, GoToSocial and Lemmy send and expect.
const (
	MediaTypeActivity = "application/activity+json"
	MediaTypeLD       = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
)

const profileActivityStreams = "https://www.w3.org/ns/activitystreams"

// IsActivityPubMediaType reports whether a media type, or an Accept header
// listing several, asks for ActivityPub JSON: application/activity+json, or
// application/ld+json with the ActivityStreams profile. Bare ld+json does
// not count, since other JSON-LD consumers send it too (ActivityPub §3.2).
// Entries with q=0 are refusals and do not count.
func IsActivityPubMediaType(contentTypeOrAccept string) bool {
	for _, part := range splitList(contentTypeOrAccept) {
		mt, params, err := mime.ParseMediaType(part)
		if err != nil || refused(params) {
			continue
		}
		switch mt {
		case MediaTypeActivity:
			return true
		case "application/ld+json":
			if hasASProfile(params["profile"]) {
				return true
			}
		}
	}
	return false
}

// IsActivityPubContentType reports whether the Content-Type of an incoming
// POST is one we read: application/activity+json, or application/ld+json
// with any profile or none, because servers disagree on the profile and
// the body is parsed and checked anyway.
func IsActivityPubContentType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == MediaTypeActivity || mt == "application/ld+json"
}

// hasASProfile checks a profile parameter, which may list several
// space-separated profile URIs.
func hasASProfile(profile string) bool {
	for _, p := range strings.Fields(profile) {
		if p == profileActivityStreams {
			return true
		}
	}
	return false
}

func refused(params map[string]string) bool {
	q, ok := params["q"]
	if !ok {
		return false
	}
	v, err := strconv.ParseFloat(q, 64)
	return err != nil || v <= 0
}

// splitList splits an Accept header on commas that are not inside a
// quoted parameter value.
func splitList(s string) []string {
	var parts []string
	inQuote, escaped := false, false
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case inQuote && c == '\\':
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			parts = append(parts, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(parts, strings.TrimSpace(s[start:]))
}
