package hostname

import "testing"

func TestCanonical(t *testing.T) {
	for _, tc := range []struct{ in, scheme, want string }{
		{"evil.example", "", "evil.example"},
		{"EVIL.Example", "", "evil.example"},
		{"evil.example.", "", "evil.example"},
		{"evil.example.:443", "https", "evil.example"},
		{"evil.example:443", "https", "evil.example"},
		{"evil.example:443", "http", "evil.example:443"},
		{"evil.example:80", "http", "evil.example"},
		{"evil.example:019093", "", "evil.example:19093"},
		{"evil.example:0443", "https", "evil.example"},
		{"évil.example", "", "xn--vil-9la.example"},
		{"%C3%A9vil.example", "", "xn--vil-9la.example"},
		{"%c3%a9VIL.example.", "", "xn--vil-9la.example"},
		{"%65vil.example", "", "evil.example"},
		{"ｅｖｉｌ.example", "", "evil.example"}, // full-width letters
		{"xn--vil-9la.example", "", "xn--vil-9la.example"},
		{"under_score.example", "", "under_score.example"},
		{"192.0.2.1", "", "192.0.2.1"},
		{"192.0.2.1:8080", "", "192.0.2.1:8080"},
		{"[::ffff:192.0.2.1]", "", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:019093", "", "192.0.2.1:19093"},
		{"[::FFFF:c000:0201]", "", "192.0.2.1"},
		{"::ffff:192.0.2.1", "", "192.0.2.1"},
		{"[2001:DB8:0:0::1]", "", "[2001:db8::1]"},
		{"[2001:db8::1]:443", "https", "[2001:db8::1]"},
		{"2001:db8::1", "", "[2001:db8::1]"},
		{"１９２.０.２.１", "", "192.0.2.1"}, // full-width digits
		{"localhost:8080", "", "localhost:8080"},
		{"evil\u200b.example", "", "evil.example"}, // UTS 46 maps it away, as clients do
		{"evil\u00ad.example", "", "evil.example"}, // soft hyphen, likewise
	} {
		got, err := Canonical(tc.in, tc.scheme)
		if err != nil || got != tc.want {
			t.Errorf("Canonical(%q, %q) = %q, %v; want %q", tc.in, tc.scheme, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"", ".", "evil.example..", "a..example", "-a.example", "a-.example",
		"evil.example:0", "evil.example:65536", "evil.example:99999999999999999999", "evil.example:x", "evil.example:+80",
		"evil.example/", "evil.example?", "evil.example#", "user@evil.example", `evil.example\`, "evil example", "evil.example%00",
		"%2Fevil.example", "%ZZ", "evil%25.example",
		"[::1", "[::1]x", "[192.0.2.1]", "[fe80::1%25eth0]", "fe80::1%eth0", "a:b:c",
		"2130706433", "0x7f.1", "0177.0.0.1", "127.000.000.001", "127.1", "0x7f000001", "example.0x10",
		"evil.example\u202e", "\u202eevil.example", "evil.example\u0000", "e\u0301vil..example",
	} {
		if got, err := Canonical(in, "https"); err == nil {
			t.Errorf("Canonical(%q) = %q, want an error", in, got)
		}
	}
}

func TestOfURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://evil.example/users/a", "evil.example"},
		{"https://evil.example./users/a", "evil.example"},
		{"https://EVIL.example:443/users/a", "evil.example"},
		{"http://evil.example:019093/users/a", "evil.example:19093"},
		{"https://%C3%A9vil.example/users/a", "xn--vil-9la.example"},
		{"https://évil.example/users/a", "xn--vil-9la.example"},
		{"http://[::ffff:192.0.2.1]:8080/x", "192.0.2.1:8080"},
		{"https://evil.example", "evil.example"},
		{"https://evil.example?x", "evil.example"},
		{"https://evil.example#x", "evil.example"},
		{"HTTPS://evil.example/", "evil.example"},
		{"https://evil.example:/", "evil.example"},
		{"ftp://evil.example/", ""},
		{"https://user@evil.example/", ""},
		{"https:///x", ""},
		{"/users/a", ""},
		{"https://2130706433/", ""},
		{"javascript:alert(1)", ""},
	} {
		if got := OfURL(tc.in); got != tc.want {
			t.Errorf("OfURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Only one spelling of an id is accepted: the one OfURL would produce.
func TestIsCanonicalURL(t *testing.T) {
	for _, in := range []string{
		"https://evil.example/users/a", "http://127.0.0.1:8080/u/a", "https://xn--vil-9la.example/", "https://evil.example",
		"https://[2001:db8::1]/x", "http://evil.example:8443/?q#f", "https://under_score.example/x",
	} {
		if !IsCanonicalURL(in) {
			t.Errorf("IsCanonicalURL(%q) = false", in)
		}
	}
	for _, in := range []string{
		"https://evil.example./users/a", "https://Evil.example/users/a", "https://evil.example:443/users/a",
		"http://evil.example:80/", "http://evil.example:019093/", "https://%C3%A9vil.example/", "https://évil.example/",
		"http://[::ffff:127.0.0.1]/", "https://[2001:DB8::1]/", "HTTPS://evil.example/", "Https://evil.example/",
		"https://evil.example:/", "https://user@evil.example/", "https:///x", "https://2130706433/", "ftp://evil.example/",
		"", "evil.example",
	} {
		if IsCanonicalURL(in) {
			t.Errorf("IsCanonicalURL(%q) = true", in)
		}
	}
}
