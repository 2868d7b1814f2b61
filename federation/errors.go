package federation

import "errors"

// Error kinds of the federation layer. Callers wrap them with detail that is
// safe to show (fmt.Errorf("%w: ...", ErrInvalid)); the HTTP layer maps
// kinds to status codes. storage.ErrNotFound and storage.ErrConflict pass
// through unchanged.
var (
	// ErrInvalid: the input is malformed or breaks a rule.
	ErrInvalid = errors.New("invalid")
	// ErrForbidden: the caller may not do this.
	ErrForbidden = errors.New("forbidden")
)

// ErrUnauthorized: the request is not signed, or not by whom it claims.
var ErrUnauthorized = errors.New("unauthorized")
