package transport

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrForbiddenAddress is returned when a URL names, or a host name resolves
// to, an address that federation traffic must not reach: this host, the
// local network, or anything not globally routable.
var ErrForbiddenAddress = errors.New("transport: forbidden address")

// forbiddenPrefixes are the special-purpose ranges (IANA IPv4/IPv6
// special-purpose registries) not already covered by netip's predicates.
// Remote servers never legitimately live in them, and several reach
// internal services (cloud metadata, NAT64 to private space, CGNAT).
var forbiddenPrefixes = [...]netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // CGNAT shared space
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated), ::, ::1
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments, Teredo
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4, embeds arbitrary IPv4
	netip.MustParsePrefix("3fff::/20"),       // documentation
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
}

// nat64 is the well-known NAT64 prefix: the address is as good as the IPv4
// address embedded in its last 32 bits.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Forbidden reports whether ip is outside public unicast space and so must
// not be dialled unless private addresses are explicitly allowed.
func Forbidden(ip netip.Addr) bool {
	if !ip.IsValid() {
		return true
	}
	// ::ffff:127.0.0.1 reaches 127.0.0.1; judge the IPv4 address.
	ip = ip.Unmap().WithZone("")
	if nat64.Contains(ip) {
		b := ip.As16()
		return Forbidden(netip.AddrFrom4([4]byte(b[12:])))
	}
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() ||
		ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range forbiddenPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// dialControl runs after DNS resolution, on the address actually being
// connected to, so a name that resolves (or re-resolves) to a private
// address is caught no matter how the URL was written.
func dialControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparseable dial address %q", ErrForbiddenAddress, address)
	}
	if Forbidden(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}
