package transport

import (
	"errors"
	"net/netip"
	"testing"
)

func TestForbidden(t *testing.T) {
	for _, tc := range []struct {
		ip        string
		forbidden bool
	}{
		// Loopback, in every spelling.
		{"127.0.0.1", true},
		{"127.255.255.254", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"::127.0.0.1", true}, // IPv4-compatible
		{"64:ff9b::7f00:1", true},
		// Private and local networks.
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"192.168.1.1", true},
		{"::ffff:192.168.1.1", true},
		{"169.254.169.254", true}, // cloud metadata
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fd00::1", true},
		{"fc00::1", true},
		{"fec0::1", true},
		{"100.64.0.1", true},
		{"100.127.255.255", true},
		// Special purpose.
		{"0.0.0.0", true},
		{"0.1.2.3", true},
		{"::", true},
		{"192.0.0.8", true},
		{"192.0.2.1", true},
		{"198.18.0.1", true},
		{"198.19.255.255", true},
		{"198.51.100.7", true},
		{"203.0.113.9", true},
		{"224.0.0.1", true},
		{"239.255.255.250", true},
		{"240.0.0.1", true},
		{"255.255.255.255", true},
		{"ff02::1", true},
		{"ff0e::1", true},
		{"100::1", true},
		{"2001:db8::1", true},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", true}, // Teredo
		{"2002:c0a8:0101::1", true},                    // 6to4 of 192.168.1.1
		{"3fff::1", true},
		{"64:ff9b:1::a00:1", true},
		{"64:ff9b::a00:1", true}, // NAT64 of 10.0.0.1
		// Public: classified only, never dialled.
		{"1.1.1.1", false},
		{"8.8.8.8", false},
		{"100.63.255.255", false},
		{"100.128.0.0", false},
		{"172.15.255.255", false},
		{"172.32.0.0", false},
		{"198.17.255.255", false},
		{"198.20.0.0", false},
		{"::ffff:1.1.1.1", false},
		{"64:ff9b::101:101", false}, // NAT64 of 1.1.1.1
		{"2606:4700:4700::1111", false},
		{"2a01:4f8::1", false},
	} {
		ip := netip.MustParseAddr(tc.ip)
		if got := Forbidden(ip); got != tc.forbidden {
			t.Errorf("Forbidden(%s) = %v, want %v", tc.ip, got, tc.forbidden)
		}
	}
	if !Forbidden(netip.Addr{}) {
		t.Error("zero Addr allowed")
	}
}

func TestDialControl(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:443", false},
		{"[::1]:80", false},
		{"[::ffff:127.0.0.1]:80", false},
		{"[fe80::1%eth0]:80", false},
		{"10.0.0.1:80", false},
		{"not-an-address", false},
		{"1.1.1.1:443", true},
		{"[2606:4700:4700::1111]:443", true},
	} {
		err := dialControl("tcp", tc.addr, nil)
		if tc.ok && err != nil || !tc.ok && !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("dialControl(%q) = %v, want ok=%v", tc.addr, err, tc.ok)
		}
	}
}
