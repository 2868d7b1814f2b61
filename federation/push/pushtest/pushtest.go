// Package pushtest is a push service on loopback for tests, standing in
// for the browser's (Mozilla's autopush, Google's FCM): it holds the
// subscriber's keys, checks each push's VAPID token (RFC 8292) with
// golang-jwt and decrypts its aes128gcm body (RFC 8291) with the standard
// library's ECDH, HKDF and AES-GCM, independently of the sender's code,
// and records what it read.
package pushtest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Push is one push the service accepted.
type Push struct {
	// Plain is the decrypted payload.
	Plain []byte
	// ServerKey is the VAPID public key it was signed with (base64url).
	ServerKey string
	// Claims are the VAPID token's claims.
	Claims jwt.MapClaims
	TTL    string
}

// Service is a push service with one subscription.
type Service struct {
	t    testing.TB
	srv  *httptest.Server
	key  *ecdh.PrivateKey
	auth []byte

	mu       sync.Mutex
	status   int
	attempts int
	pushes   []Push
	refused  []string
}

// New starts a push service on loopback, answering 201 Created.
func New(t testing.TB) *Service {
	t.Helper()
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{t: t, key: key, auth: make([]byte, 16), status: http.StatusCreated}
	rand.Read(s.auth)
	s.srv = httptest.NewServer(http.HandlerFunc(s.receive))
	t.Cleanup(s.srv.Close)
	return s
}

// Endpoint is the subscription's push URL.
func (s *Service) Endpoint() string { return s.srv.URL + "/push/subscription-1" }

// P256dh is the subscriber's public key as browsers give it.
func (s *Service) P256dh() string {
	return base64.RawURLEncoding.EncodeToString(s.key.PublicKey().Bytes())
}

// Auth is the subscription's authentication secret.
func (s *Service) Auth() string { return base64.RawURLEncoding.EncodeToString(s.auth) }

// AnswerWith makes the service answer every later push with status (410:
// the subscription is gone).
func (s *Service) AnswerWith(status int) {
	s.mu.Lock()
	s.status = status
	s.mu.Unlock()
}

// Pushes returns the pushes accepted so far.
func (s *Service) Pushes() []Push {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Push(nil), s.pushes...)
}

// Attempts counts the pushes received, whatever the answer.
func (s *Service) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Refused returns why pushes were refused.
func (s *Service) Refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refused...)
}

func (s *Service) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8192))
	var p Push
	if err == nil {
		p, err = s.read(r, body)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if err != nil {
		s.refused = append(s.refused, err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if s.status >= 200 && s.status < 300 {
		s.pushes = append(s.pushes, p)
	}
	w.WriteHeader(s.status)
}

// read checks and decrypts one push.
func (s *Service) read(r *http.Request, body []byte) (Push, error) {
	if r.Method != http.MethodPost || r.URL.Path != "/push/subscription-1" {
		return Push{}, fmt.Errorf("%s %s", r.Method, r.URL.Path)
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		return Push{}, fmt.Errorf("Content-Encoding %q", ce)
	}
	p := Push{TTL: r.Header.Get("TTL")}
	if p.TTL == "" {
		return Push{}, errors.New("no TTL")
	}
	claims, serverKey, err := s.vapid(r.Header.Get("Authorization"))
	if err != nil {
		return Push{}, err
	}
	p.Claims, p.ServerKey = claims, serverKey
	if p.Plain, err = s.decrypt(body); err != nil {
		return Push{}, err
	}
	return p, nil
}

// vapid checks an Authorization of RFC 8292's "vapid t=<JWT>, k=<key>":
// an ES256 token signed by k, for this service's origin, not expired and
// valid for at most 24 hours, naming a contact.
func (s *Service) vapid(h string) (jwt.MapClaims, string, error) {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return nil, "", fmt.Errorf("Authorization %q is not vapid", h)
	}
	var token, key string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			token = v
		case "k":
			key = v
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil || len(raw) != 65 {
		return nil, "", fmt.Errorf("vapid k %q", key)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return nil, "", fmt.Errorf("vapid k: %w", err)
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience(s.srv.URL), jwt.WithExpirationRequired())
	if err != nil {
		return nil, "", fmt.Errorf("vapid token: %w", err)
	}
	exp, _ := claims.GetExpirationTime()
	if exp.After(time.Now().Add(24 * time.Hour)) {
		return nil, "", fmt.Errorf("vapid token valid until %s: more than 24 hours", exp)
	}
	sub, _ := claims["sub"].(string)
	if !strings.HasPrefix(sub, "mailto:") && !strings.HasPrefix(sub, "https:") {
		return nil, "", fmt.Errorf("vapid sub %q is no contact", sub)
	}
	return claims, key, nil
}

// decrypt reads an aes128gcm body (RFC 8188) encrypted to the subscriber
// (RFC 8291): salt, record size, the sender's ephemeral key, one record.
func (s *Service) decrypt(body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("body too short")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || idlen != 65 {
		return nil, fmt.Errorf("key id of %d bytes", idlen)
	}
	senderKey, err := ecdh.P256().NewPublicKey(body[21 : 21+idlen])
	if err != nil {
		return nil, fmt.Errorf("sender key: %w", err)
	}
	record := body[21+idlen:]
	if uint32(len(record)) > rs {
		return nil, fmt.Errorf("record of %d bytes, record size %d: more than one record", len(record), rs)
	}
	shared, err := s.key.ECDH(senderKey)
	if err != nil {
		return nil, err
	}
	info := append([]byte("WebPush: info\x00"), s.key.PublicKey().Bytes()...)
	info = append(info, senderKey.Bytes()...)
	ikm, err := hkdf.Key(sha256.New, shared, s.auth, string(info), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, record, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	// The last record ends with the delimiter 2, then zero padding.
	plain = bytes.TrimRight(plain, "\x00")
	if len(plain) == 0 || plain[len(plain)-1] != 2 {
		return nil, errors.New("no last-record delimiter")
	}
	return plain[:len(plain)-1], nil
}
