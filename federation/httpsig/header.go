package httpsig

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// maxHeaderLen bounds the work done on an untrusted signature header; real
// headers are a few hundred bytes.
const maxHeaderLen = 8 << 10

// sigParams is a parsed signature header. Names and header lists are
// lowercased; everything has been checked for shape but nothing verified.
type sigParams struct {
	keyID     string
	algorithm string   // lowercased, "" when absent
	headers   []string // lowercased signed header names, in signing order
	signature string   // base64, known to decode
	created   int64    // 0 when absent
	expires   int64    // 0 when absent
}

// parseSignatureHeader parses the parameter list of a Signature header
// (without any "Signature " auth-scheme prefix).
//
// It is stricter than go-fed's parser (duplicate parameters, stray bytes and
// undecodable signatures are errors) because the result is re-serialised
// for go-fed: the two parsers must never disagree about what was signed.
func parseSignatureHeader(s string) (sigParams, error) {
	var p sigParams
	if len(s) > maxHeaderLen {
		return p, fmt.Errorf("%w: header longer than %d bytes", ErrMalformedSignature, maxHeaderLen)
	}
	seen := map[string]bool{}
	var headersRaw string
	haveHeaders := false
	i := 0
	for {
		i = skipSep(s, i)
		if i >= len(s) {
			break
		}
		start := i
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		name := strings.ToLower(s[start:i])
		if name == "" {
			return p, fmt.Errorf("%w: expected parameter name at offset %d", ErrMalformedSignature, start)
		}
		i = skipOWS(s, i)
		if i >= len(s) || s[i] != '=' {
			return p, fmt.Errorf("%w: parameter %q has no value", ErrMalformedSignature, name)
		}
		i = skipOWS(s, i+1)
		var value string
		var err error
		value, i, err = parseValue(s, i)
		if err != nil {
			return p, fmt.Errorf("%w: parameter %q: %v", ErrMalformedSignature, name, err)
		}
		i = skipOWS(s, i)
		if i < len(s) && s[i] != ',' {
			return p, fmt.Errorf("%w: unexpected %q after parameter %q", ErrMalformedSignature, s[i], name)
		}
		if seen[name] {
			return p, fmt.Errorf("%w: duplicate parameter %q", ErrMalformedSignature, name)
		}
		seen[name] = true
		switch name {
		case "keyid":
			p.keyID = value
		case "algorithm":
			p.algorithm = strings.ToLower(value)
		case "headers":
			headersRaw, haveHeaders = value, true
		case "signature":
			p.signature = value
		case "created":
			p.created, err = parseUnix(value)
		case "expires":
			p.expires, err = parseUnix(value)
		}
		if err != nil {
			return p, fmt.Errorf("%w: parameter %q: %v", ErrMalformedSignature, name, err)
		}
	}
	if err := p.check(headersRaw, haveHeaders); err != nil {
		return p, err
	}
	return p, nil
}

func (p *sigParams) check(headersRaw string, haveHeaders bool) error {
	if p.keyID == "" {
		return fmt.Errorf("%w: missing keyId", ErrMalformedSignature)
	}
	if strings.ContainsFunc(p.keyID, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%w: control character in keyId", ErrMalformedSignature)
	}
	if p.signature == "" {
		return fmt.Errorf("%w: missing signature", ErrMalformedSignature)
	}
	if raw, err := base64.StdEncoding.DecodeString(p.signature); err != nil || len(raw) == 0 {
		return fmt.Errorf("%w: signature is not base64", ErrMalformedSignature)
	}
	// draft-cavage: an absent headers parameter means "date" alone.
	p.headers = []string{"date"}
	if haveHeaders {
		p.headers = strings.Fields(strings.ToLower(headersRaw))
		if len(p.headers) == 0 {
			return fmt.Errorf("%w: empty headers parameter", ErrMalformedSignature)
		}
	}
	for n, h := range p.headers {
		if !isHeaderName(h) {
			return fmt.Errorf("%w: invalid signed header name %q", ErrMalformedSignature, h)
		}
		if slices.Contains(p.headers[:n], h) {
			return fmt.Errorf("%w: header %q signed twice", ErrMalformedSignature, h)
		}
	}
	if slices.Contains(p.headers, "(created)") && p.created == 0 {
		return fmt.Errorf("%w: (created) signed without created parameter", ErrMalformedSignature)
	}
	if slices.Contains(p.headers, "(expires)") && p.expires == 0 {
		return fmt.Errorf("%w: (expires) signed without expires parameter", ErrMalformedSignature)
	}
	return nil
}

// canonical renders p in the exact form go-fed's parser reads back
// unchanged. The keyId is replaced by a placeholder: go-fed splits on commas
// without honouring quotes, and the real keyId is kept by the Verifier.
func (p *sigParams) canonical() string {
	var b strings.Builder
	b.WriteString(`keyId="k",algorithm="hs2019"`)
	if p.created != 0 {
		b.WriteString(",created=" + strconv.FormatInt(p.created, 10))
	}
	if p.expires != 0 {
		b.WriteString(",expires=" + strconv.FormatInt(p.expires, 10))
	}
	b.WriteString(`,headers="` + strings.Join(p.headers, " ") + `"`)
	b.WriteString(`,signature="` + p.signature + `"`)
	return b.String()
}

// parseValue reads a token or a quoted-string (RFC 9110) starting at i.
func parseValue(s string, i int) (string, int, error) {
	if i < len(s) && s[i] == '"' {
		var b strings.Builder
		for i++; i < len(s); i++ {
			switch c := s[i]; c {
			case '"':
				return b.String(), i + 1, nil
			case '\\':
				i++
				if i >= len(s) {
					return "", i, fmt.Errorf("unterminated escape")
				}
				b.WriteByte(s[i])
			default:
				b.WriteByte(c)
			}
		}
		return "", i, fmt.Errorf("unterminated quoted string")
	}
	start := i
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	if i == start {
		return "", i, fmt.Errorf("empty value")
	}
	return s[start:i], i, nil
}

func parseUnix(v string) (int64, error) {
	// Some signers send fractional seconds; the integer part is what matters.
	whole, _, _ := strings.Cut(v, ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("not a positive unix time: %q", v)
	}
	return n, nil
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func skipSep(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
		i++
	}
	return i
}

// isTokenChar reports whether c is an RFC 9110 tchar.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isHeaderName accepts a field name or a "(pseudo-header)".
func isHeaderName(h string) bool {
	if strings.HasPrefix(h, "(") && strings.HasSuffix(h, ")") {
		h = h[1 : len(h)-1]
	}
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		if !isTokenChar(h[i]) {
			return false
		}
	}
	return true
}
