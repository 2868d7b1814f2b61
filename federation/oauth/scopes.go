package oauth

import (
	"fmt"
	"slices"
	"strings"
)

// Mastodon's OAuth scopes. A top-level scope grants its sub-scopes
// (read grants read:statuses, admin:read grants admin:read:accounts);
// the legacy follow scope grants the follow, block and mute sub-scopes;
// profile grants only verify_credentials.
var knownScopes = setOf(
	"read", "write", "follow", "push", "profile", "admin:read", "admin:write",
	"read:accounts", "read:blocks", "read:bookmarks", "read:favourites", "read:filters",
	"read:follows", "read:lists", "read:mutes", "read:notifications", "read:search", "read:statuses",
	"write:accounts", "write:blocks", "write:bookmarks", "write:conversations", "write:favourites",
	"write:filters", "write:follows", "write:lists", "write:media", "write:mutes",
	"write:notifications", "write:reports", "write:statuses",
	"admin:read:accounts", "admin:read:reports", "admin:read:domain_allows", "admin:read:domain_blocks",
	"admin:read:ip_blocks", "admin:read:email_domain_blocks", "admin:read:canonical_email_blocks",
	"admin:write:accounts", "admin:write:reports", "admin:write:domain_allows", "admin:write:domain_blocks",
	"admin:write:ip_blocks", "admin:write:email_domain_blocks", "admin:write:canonical_email_blocks",
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var followScopes = map[string]bool{
	"read:follows": true, "write:follows": true, "read:blocks": true,
	"write:blocks": true, "read:mutes": true, "write:mutes": true,
}

// ParseScopes splits a scope string (space- or plus-separated, as apps
// send it) into known scopes without repeats. Empty means "read", as in
// Mastodon.
func ParseScopes(s string) ([]string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '+' || r == '\t' || r == '\n' })
	if len(fields) == 0 {
		return []string{"read"}, nil
	}
	var out []string
	for _, f := range fields {
		if !knownScopes[f] {
			return nil, fmt.Errorf("unknown scope %q", f)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// grants reports whether granted scope g covers the required scope r.
func grants(g, r string) bool {
	return g == r || strings.HasPrefix(r, g+":") || g == "follow" && followScopes[r]
}

// GrantsAny reports whether the granted scopes cover one of required.
func GrantsAny(granted, required []string) bool {
	for _, r := range required {
		for _, g := range granted {
			if grants(g, r) {
				return true
			}
		}
	}
	return false
}

// SubsetOf reports whether every requested scope is covered by allowed,
// as an authorization request must be by the app's registered scopes.
func SubsetOf(requested, allowed []string) bool {
	for _, r := range requested {
		if !GrantsAny(allowed, []string{r}) {
			return false
		}
	}
	return true
}

// Scopes lists every scope this server knows, sorted (the OAuth server
// metadata publishes them).
func Scopes() []string {
	out := make([]string, 0, len(knownScopes))
	for s := range knownScopes {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}
