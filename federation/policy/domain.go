package policy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/idna"

	"github.com/commonplace/commonplace/storage"
)

// ErrInvalid: a domain, mode or severity an admin gave is malformed.
var ErrInvalid = errors.New("invalid")

// ErrRefused: the policy does not let this instance federate with a
// domain. The federation layer reports it as forbidden.
var ErrRefused = errors.New("federation refused")

// Normalize turns a domain as admins write it into the form rules are
// stored and matched in: lower case, IDNA (punycode) for names, no
// trailing dot, an optional ":port". A leading "*." (common in shared
// block lists) is dropped, since every rule covers subdomains anyway.
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
	host, port := s, ""
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1 {
		if h, p, err := net.SplitHostPort(s); err == nil {
			host, port = h, p
		} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
			host = s[1 : len(s)-1]
		} else {
			return bad("malformed port")
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return bad("port must be 1 to 65535")
		}
	}
	host = strings.TrimSuffix(host, ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		host = ip.String()
		if ip.Is6() {
			host = "[" + host + "]"
		}
		if port != "" {
			return host + ":" + port, nil
		}
		return host, nil
	}
	ascii, err := idna.Lookup.ToASCII(host)
	if err != nil {
		// Lookup refuses underscores, which some real hosts carry.
		ascii, err = idna.Punycode.ToASCII(host)
		if err != nil {
			return bad(err.Error())
		}
	}
	if len(ascii) > 253 {
		return bad("too long")
	}
	for _, label := range strings.Split(ascii, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return bad("empty or malformed label")
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return bad(fmt.Sprintf("character %q", r))
			}
		}
	}
	if port != "" {
		return ascii + ":" + port, nil
	}
	return ascii, nil
}

// HostOf is the domain the policy judges a URL by: its lower-cased
// host[:port] without the scheme's default port, as deliveries are keyed.
// It is "" for anything but an absolute http(s) URL.
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
