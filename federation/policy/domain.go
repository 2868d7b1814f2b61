package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/commonplace/commonplace/federation/hostname"
	"github.com/commonplace/commonplace/storage"
)

// ErrInvalid: a domain, mode or severity an admin gave is malformed.
var ErrInvalid = errors.New("invalid")

// ErrRefused: the policy does not let this instance federate with a
// domain. The federation layer reports it as forbidden.
var ErrRefused = errors.New("federation refused")

// Normalize turns a domain as admins write it into the form rules are
// stored and matched in, the canonical form of package hostname that every
// judged host is put in too: lower case, IDNA (punycode) for names, no
// trailing dot, canonical IP addresses, an optional ":port". A leading
// "*." (common in shared block lists) is dropped, since every rule covers
// subdomains anyway.
// URLs, paths and addresses with user parts are refused.
func Normalize(s string) (string, error) {
	in := s
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "*.")
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: %q is not a domain: %s", ErrInvalid, in, why)
	}
	switch {
	case s == "":
		return bad("empty")
	case len(s) > 300:
		return bad("too long")
	case strings.ContainsAny(s, "/@?# \t,;"):
		return bad("write only the host name, like example.org or example.org:8443")
	}
	d, err := hostname.Canonical(s, "")
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return d, nil
}

// HostOf is the domain the policy judges a URL by: its canonical
// host[:port] (package hostname) without the scheme's default port, as
// deliveries are keyed. It is "" for anything but an absolute http(s) URL
// with a valid host.
func HostOf(uri string) string { return storage.DeliveryHost(uri) }

// splitPort splits host[:port]; IPv6 literals keep their brackets.
func splitPort(d string) (host, port string) {
	if strings.HasPrefix(d, "[") {
		if i := strings.LastIndex(d, "]"); i >= 0 {
			if rest := d[i+1:]; strings.HasPrefix(rest, ":") {
				return d[:i+1], rest[1:]
			}
			return d[:i+1], ""
		}
		return d, ""
	}
	if h, p, ok := strings.Cut(d, ":"); ok {
		return h, p
	}
	return d, ""
}

// candidates lists the rule domains that cover d, most specific first:
// d itself when it has a port (a rule with a port covers exactly that
// origin), then its host, then each parent domain of a name (a rule
// without a port covers the host on every port and all its subdomains).
func candidates(d string) []string {
	host, port := splitPort(d)
	out := make([]string, 0, 4)
	if port != "" {
		out = append(out, d)
	}
	out = append(out, host)
	if strings.HasPrefix(host, "[") {
		return out
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return out
	}
	for rest := host; ; {
		i := strings.IndexByte(rest, '.')
		if i < 0 || i == len(rest)-1 {
			break
		}
		rest = rest[i+1:]
		out = append(out, rest)
	}
	return out
}

// covers reports whether the rule domain rule covers domain d.
func covers(rule, d string) bool {
	for _, c := range candidates(d) {
		if c == rule {
			return true
		}
	}
	return false
}
