package federation

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// SubscribeRel is the WebFinger link whose template is a server's page
// for following an account from there (OStatus' remote follow, which
// Mastodon and GoToSocial publish).
const SubscribeRel = "http://ostatus.org/schema/1.0/subscribe"

// RemoteInteractionURL finds, by WebFinger, the page on handle's own
// server where its owner can follow uri, and returns it with uri filled
// in. The lookup goes through the guarded federation client and the
// federation policy like every fetch.
func (s *Service) RemoteInteractionURL(ctx context.Context, handle, uri string) (string, error) {
	user, domain, ok := parseAcct(handle)
	if !ok {
		return "", fmt.Errorf("%w: %q is not an address like name@example.org", ErrInvalid, handle)
	}
	if domain == strings.ToLower(s.URLs.Host()) {
		return s.URLs.Base + "/authorize_interaction?uri=" + url.QueryEscape(uri), nil
	}
	scheme := "https"
	if strings.HasPrefix(s.URLs.Base, "http://") {
		scheme = "http" // test and lab setups
	}
	j, err := s.webfinger(ctx, scheme, user, domain)
	if err != nil {
		return "", err
	}
	for _, l := range j.Links {
		if l.Rel != SubscribeRel || !strings.Contains(l.Template, "{uri}") {
			continue
		}
		out := strings.Replace(l.Template, "{uri}", url.QueryEscape(uri), 1)
		u, err := url.Parse(out)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return "", fmt.Errorf("%w: %s publishes an unusable follow page", ErrInvalid, domain)
		}
		return out, nil
	}
	return "", fmt.Errorf("%w: %s does not say where its members follow accounts from elsewhere; search for the community's address there instead", ErrInvalid, domain)
}
