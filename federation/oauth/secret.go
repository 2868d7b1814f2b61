// Package oauth is the part of OAuth 2 that both of its doors need: the
// client API (package mastoapi: apps, tokens, revocation) and the
// authorize page of the web front end (package web). Scopes are
// Mastodon's; secrets are random and stored only as hashes.
package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// NewSecret returns 32 random bytes, URL-safe: client ids and secrets,
// authorization codes, access tokens and session tokens.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics on a broken source)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is what the database keeps of a secret: SHA-256, hex. The
// secrets have 256 bits of entropy, so a fast hash is enough; a slow KDF
// is for passwords people choose.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// SameHash compares a secret with a stored hash in constant time.
func SameHash(secret, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(hash)) == 1
}
