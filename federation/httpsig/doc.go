// Package httpsig signs and verifies HTTP requests with draft-cavage HTTP
// Signatures the way Mastodon and GoToSocial do, on top of
// github.com/go-fed/httpsig.
//
// go-fed/httpsig does the cryptography but leaves policy to the caller: it
// accepts any set of signed headers, never looks at Date, never checks Digest
// against the body, and signs the decoded URL path. This package adds those
// checks so that every inbox and every fetch applies the same rules.
//
// Verification is split in two (Parse, then Verifier.Verify) so that the
// caller can look up the key named by KeyID in its cache or database, and so
// that cheap checks (structure, Date window, Digest) reject a request before
// any key is fetched over the network.
package httpsig

import "errors"

// Sentinel errors. Every error returned by this package wraps exactly one of
// them so that an HTTP layer can map it to a status code with errors.Is:
// ErrNoSignature, ErrBadSignature, ErrDigestMismatch, ErrDateOutOfWindow,
// ErrWrongHost and ErrUnsupportedAlgorithm to 401; ErrMalformedSignature
// and ErrMissingHeader to 400; ErrBodyTooLarge to 413.
var (
	// ErrNoSignature: the request carries neither a Signature header nor an
	// "Authorization: Signature" header.
	ErrNoSignature = errors.New("httpsig: no signature")
	// ErrMalformedSignature: a signature header is present but cannot be parsed.
	ErrMalformedSignature = errors.New("httpsig: malformed signature")
	// ErrUnsupportedAlgorithm: the algorithm or key type is not RSA-SHA256,
	// or the RSA key is outside the accepted sizes and exponent.
	ErrUnsupportedAlgorithm = errors.New("httpsig: unsupported algorithm")
	// ErrBadSignature: the signature does not verify with the given key.
	ErrBadSignature = errors.New("httpsig: bad signature")
	// ErrMissingHeader: a header that must be present, or must be covered by
	// the signature, is not.
	ErrMissingHeader = errors.New("httpsig: missing header")
	// ErrDateOutOfWindow: Date (or expires) is too old or too far ahead.
	ErrDateOutOfWindow = errors.New("httpsig: date out of window")
	// ErrDigestMismatch: the Digest header has no usable SHA-256 value or it
	// does not match the body.
	ErrDigestMismatch = errors.New("httpsig: digest mismatch")
	// ErrWrongHost: the signature names another host than Options.Origin:
	// it was made for another server.
	ErrWrongHost = errors.New("httpsig: signed for another host")
	// ErrBodyTooLarge: the body exceeds Options.MaxBodyBytes.
	ErrBodyTooLarge = errors.New("httpsig: body too large")
)
