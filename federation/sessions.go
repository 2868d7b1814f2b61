package federation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/commonplace/commonplace/storage"
)

// SessionLifetime is how long a browser stays signed in without being
// used; every use (at most once a minute) extends it.
const SessionLifetime = 30 * 24 * time.Hour

// StartSession signs a browser in for acct and returns the token for its
// cookie. The session lives in the database, so every replica knows it
// and the member can end it from another browser.
func (s *Service) StartSession(ctx context.Context, acct *storage.Account, userAgent, ip string) (string, error) {
	token := newToken()
	now := time.Now()
	err := s.DB.CreateSession(ctx, &storage.Session{
		TokenHash: hashToken(token), AccountID: acct.ID, UserAgent: truncate(userAgent, 300), IP: truncate(ip, 64),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionLifetime),
	})
	if err != nil {
		return "", fmt.Errorf("start session: %w", err)
	}
	return token, nil
}

// Session returns the live session of a cookie's token with its account,
// or storage.ErrNotFound. A session of an account that was disabled or
// is no longer approved does not count.
func (s *Service) Session(ctx context.Context, token string) (*storage.Session, error) {
	if token == "" || len(token) > 100 {
		return nil, fmt.Errorf("session: %w", storage.ErrNotFound)
	}
	now := time.Now()
	sess, err := s.DB.GetSession(ctx, hashToken(token), now)
	if err != nil {
		return nil, err
	}
	if a := sess.Account; a == nil || a.Actor == nil || a.Disabled || !a.Approved {
		return nil, fmt.Errorf("session of a disabled account: %w", storage.ErrNotFound)
	}
	if now.Sub(sess.LastSeenAt) > time.Minute {
		if err := s.DB.TouchSession(ctx, sess.ID, now, now.Add(SessionLifetime)); err != nil {
			s.Log.Warn("record session use", "error", err)
		}
	}
	return sess, nil
}

// EndSession signs one of acct's browsers out.
func (s *Service) EndSession(ctx context.Context, acct *storage.Account, id int64) error {
	return s.DB.DeleteSession(ctx, acct.ID, id)
}

// newToken returns 32 random bytes, URL-safe: session and link tokens.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics on a broken source)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is what the database keeps of a token: SHA-256, hex. The
// tokens have 256 bits of entropy, so a fast hash is enough.
func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
