// Package hostname gives every host one spelling.
//
// A host can be written many ways that reach the same server: upper case,
// a trailing dot, a percent-encoded or Unicode (IDN) name, a port with
// leading zeros or the scheme's default port, an IPv4 address inside an
// IPv6 literal. Policy rules are judged by comparing strings, so a server
// that is blocked as evil.example must not federate as evil.example. or
// [::ffff:192.0.2.1]. Canonical maps all of them to one form, and is used
// both for the rules an admin writes and for every host the server judges;
// IsCanonicalURL lets parsers refuse ids that are not already written in
// that form, so that only one spelling of an id can exist anywhere.
//
// The canonical form is: lower case; IDNA (punycode) for names; no
// trailing dot; a numeric port without leading zeros, dropped when it is
// the scheme's default; IPv4 addresses in dotted decimal (IPv4-mapped IPv6
// unmapped), IPv6 in RFC 5952 form inside brackets. Hosts that HTTP
// clients might read as numbers (2130706433, 0x7f.1, 127.000.0.1) are
// refused rather than guessed.
package hostname

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// ErrInvalid: the text is not a host this server federates with.
var ErrInvalid = errors.New("invalid host")

// maxLen bounds the work on untrusted input; DNS names are at most 253
// bytes, and a percent-encoded IDN label triples in size.
const maxLen = 1024

// Canonical returns the canonical form of host[:port] (see the package
// comment). scheme ("http", "https" or "") decides which port is the
// default one and dropped.
func Canonical(hostport, scheme string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w %q: %s", ErrInvalid, hostport, why)
	}
	if len(hostport) > maxLen {
		return bad("too long")
	}
	s, err := url.PathUnescape(hostport)
	if err != nil {
		return bad("bad percent-encoding")
	}
	if strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune(`/\?#@%`, r)
	}) {
		return bad("not a host")
	}
	host, port, err := split(s)
	if err != nil {
		return bad(err.Error())
	}
	if port, err = canonicalPort(port, scheme); err != nil {
		return bad(err.Error())
	}
	if host, err = canonicalHost(host); err != nil {
		return bad(err.Error())
	}
	if port != "" {
		return host + ":" + port, nil
	}
	return host, nil
}

// split separates host and port. An IPv6 literal may come in brackets
// (with or without a port) or bare (without one).
func split(s string) (host, port string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", errors.New("unclosed [")
		}
		host, rest := s[1:end], s[end+1:]
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return "", "", errors.New("not an IPv6 address in brackets")
		}
		if rest == "" {
			return host, "", nil
		}
		if !strings.HasPrefix(rest, ":") {
			return "", "", errors.New("junk after ]")
		}
		return host, rest[1:], nil
	}
	switch strings.Count(s, ":") {
	case 0:
		return s, "", nil
	case 1:
		host, port, _ = strings.Cut(s, ":")
		return host, port, nil
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Is6() {
		return s, "", nil
	}
	return "", "", errors.New("too many colons")
}

func canonicalPort(port, scheme string) (string, error) {
	if port == "" {
		return "", nil
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return "", errors.New("port is not a number")
		}
	}
	trimmed := strings.TrimLeft(port, "0")
	n, err := strconv.Atoi(trimmed)
	if err != nil || len(trimmed) > 5 || n < 1 || n > 65535 {
		return "", errors.New("port must be 1 to 65535")
	}
	if scheme == "https" && n == 443 || scheme == "http" && n == 80 {
		return "", nil
	}
	return strconv.Itoa(n), nil
}

func canonicalHost(host string) (string, error) {
	if a, ok := ip(host); ok {
		return a, nil
	}
	if strings.Contains(host, ":") {
		return "", errors.New("not an IP address")
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if name == "" || strings.HasSuffix(name, ".") {
		return "", errors.New("empty label")
	}
	ascii, err := idna.Lookup.ToASCII(name)
	if err != nil {
		// Lookup refuses underscores, which some real hosts carry; the
		// labels are checked below.
		if !isASCII(name) {
			return "", err
		}
		ascii = name
	}
	ascii = strings.TrimSuffix(strings.ToLower(ascii), ".")
	// IDNA maps full-width digits and dots to ASCII ones: the name may
	// have been an address all along.
	if a, ok := ip(ascii); ok {
		return a, nil
	}
	if len(ascii) > 253 {
		return "", errors.New("too long")
	}
	labels := strings.Split(ascii, ".")
	for _, label := range labels {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", errors.New("empty or malformed label")
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return "", fmt.Errorf("character %q", r)
			}
		}
	}
	if numeric(labels[len(labels)-1]) {
		// WHATWG URL parsers and getaddrinfo read such names as IPv4
		// addresses in other spellings (2130706433, 0x7f.1, 0177.1):
		// only dotted decimal is one spelling.
		return "", errors.New("a number where a name belongs")
	}
	return ascii, nil
}

// ip returns the canonical form of an IP address literal (without
// brackets), and false for anything else. Zones are refused.
func ip(s string) (string, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", false
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String(), true
	}
	return "[" + a.String() + "]", true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// numeric reports whether a label is a decimal, octal or hex number.
func numeric(label string) bool {
	digits := label
	if strings.HasPrefix(label, "0x") {
		digits = label[2:]
		return !strings.ContainsFunc(digits, func(r rune) bool {
			return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f')
		})
	}
	return digits != "" && !strings.ContainsFunc(digits, func(r rune) bool { return r < '0' || r > '9' })
}

// OfURL is the canonical host[:port] of an absolute http(s) URL, without
// the scheme's default port: the host the policy judges it by and
// deliveries are grouped by. It is "" for anything else, including URLs
// with user info and hosts that are not valid.
func OfURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	authority, ok := rawAuthority(raw)
	if !ok {
		return ""
	}
	h, err := Canonical(authority, u.Scheme)
	if err != nil {
		return ""
	}
	return h
}

// IsCanonicalURL reports whether raw is an absolute http(s) URL whose
// scheme and host are written in canonical form, as OfURL returns it.
func IsCanonicalURL(raw string) bool {
	if !strings.HasPrefix(raw, "https://") && !strings.HasPrefix(raw, "http://") {
		return false
	}
	authority, ok := rawAuthority(raw)
	return ok && authority != "" && OfURL(raw) == authority
}

// rawAuthority is the authority of raw as written, before any decoding.
func rawAuthority(raw string) (string, bool) {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "", false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest, true
}
