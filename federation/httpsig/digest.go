package httpsig

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
)

// Digest returns the Digest header value for body: "SHA-256=<base64>".
func Digest(body []byte) string {
	sum := sha256.Sum256(body)
	return "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
}

// VerifyDigest checks a Digest header value (RFC 3230) against body.
//
// The header may list several algorithms ("SHA-256=...,SHA-512=..."); only
// SHA-256 is checked and the others are ignored, because SHA-256 is what
// every fediverse server sends. If the header has no SHA-256 value the body
// is unverifiable and the request is rejected. Every SHA-256 value present
// must match, so that a second, lying value cannot hide behind a true one.
func VerifyDigest(header string, body []byte) error {
	if strings.TrimSpace(header) == "" {
		return fmt.Errorf("%w: Digest", ErrMissingHeader)
	}
	sum := sha256.Sum256(body)
	found := false
	for part := range strings.SplitSeq(header, ",") {
		algo, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(algo), "SHA-256") {
			continue
		}
		found = true
		got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("%w: SHA-256 value is not base64: %v", ErrDigestMismatch, err)
		}
		if subtle.ConstantTimeCompare(got, sum[:]) != 1 {
			return fmt.Errorf("%w: SHA-256 of body differs", ErrDigestMismatch)
		}
	}
	if !found {
		return fmt.Errorf("%w: no SHA-256 value in Digest header", ErrDigestMismatch)
	}
	return nil
}
