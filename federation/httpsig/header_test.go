package httpsig

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	gofed "github.com/go-fed/httpsig"
)

const sampleSig = "c2lnbmF0dXJl" // base64("signature")

func TestParseSignatureHeader(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
		headers  []string
	}{
		{"mastodon", `keyId="https://a.example/users/x#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="` + sampleSig + `"`, true, []string{"(request-target)", "host", "date", "digest"}},
		{"spaces and case", ` keyId = "k" , Algorithm="HS2019",  headers="(Request-Target)  Host Date" ,signature="` + sampleSig + `", `, true, []string{"(request-target)", "host", "date"}},
		{"unknown param ignored", `keyId="k",foo=bar,signature="` + sampleSig + `"`, true, []string{"date"}},
		{"comma in keyId", `keyId="https://a.example/k,1",signature="` + sampleSig + `"`, true, []string{"date"}},
		{"escaped quote", `keyId="a\"b",signature="` + sampleSig + `"`, true, []string{"date"}},
		{"created and expires", `keyId="k",created=1402170695,expires=1402170995.5,headers="(created) (expires)",signature="` + sampleSig + `"`, true, []string{"(created)", "(expires)"}},
		{"empty", ``, false, nil},
		{"no keyId", `signature="` + sampleSig + `"`, false, nil},
		{"no signature", `keyId="k"`, false, nil},
		{"signature not base64", `keyId="k",signature="%%%"`, false, nil},
		{"duplicate param", `keyId="k",keyId="j",signature="` + sampleSig + `"`, false, nil},
		{"duplicate header", `keyId="k",headers="date date",signature="` + sampleSig + `"`, false, nil},
		{"bad header name", `keyId="k",headers="da:te",signature="` + sampleSig + `"`, false, nil},
		{"unterminated", `keyId="k,signature="` + sampleSig, false, nil},
		{"stray bytes", `keyId="k" x,signature="` + sampleSig + `"`, false, nil},
		{"no value", `keyId,signature="` + sampleSig + `"`, false, nil},
		{"created not signed value", `keyId="k",headers="(created)",signature="` + sampleSig + `"`, false, nil},
		{"negative created", `keyId="k",created=-1,signature="` + sampleSig + `"`, false, nil},
		{"control char in keyId", "keyId=\"a\x01\",signature=\"" + sampleSig + "\"", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseSignatureHeader(tc.in)
			if !tc.ok {
				if !errors.Is(err, ErrMalformedSignature) {
					t.Fatalf("err = %v, want ErrMalformedSignature", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.headers, tc.headers) {
				t.Errorf("headers = %q, want %q", p.headers, tc.headers)
			}
		})
	}
}

// FuzzParseSignatureHeader checks that no header crashes the parser or
// Parse, and that whatever we accept, go-fed reads back identically from
// our canonical rendering.
func FuzzParseSignatureHeader(f *testing.F) {
	for _, s := range []string{
		`keyId="https://a.example/users/x#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="` + sampleSig + `"`,
		`keyId="k",algorithm="hs2019",created=1402170695,expires=1402170995,headers="(request-target) (created) (expires)",signature="` + sampleSig + `"`,
		`keyId="a\"b", headers="", signature=` + sampleSig,
		`keyId="k",,,signature="`,
		`Signature keyId="k"`,
		"\x00=\"\\",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseSignatureHeader(s)
		if err == nil {
			again, err := parseSignatureHeader(p.canonical())
			if err != nil {
				t.Fatalf("canonical form %q does not parse: %v", p.canonical(), err)
			}
			if !slices.Equal(again.headers, p.headers) || again.signature != p.signature || again.created != p.created || again.expires != p.expires {
				t.Fatalf("canonical form %q parses differently", p.canonical())
			}
			if p.created == 0 && p.expires == 0 {
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set("Signature", p.canonical())
				if _, err := gofed.NewVerifier(r); err != nil {
					t.Fatalf("go-fed rejects canonical form %q: %v", p.canonical(), err)
				}
			}
		}
		for _, h := range []string{"Signature", "Authorization"} {
			r := httptest.NewRequest(http.MethodPost, "/inbox", nil)
			v := s
			if h == "Authorization" {
				v = "Signature " + s
			}
			r.Header.Set(h, v)
			r.Header.Set("Date", http.TimeFormat)
			_, _ = Parse(r)
		}
	})
}
