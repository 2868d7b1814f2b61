package httpsig

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// KeyBits is the size of generated keys: what Mastodon and GoToSocial use,
// and what every peer can verify.
const KeyBits = 2048

// The RSA keys Verify accepts: what Mastodon, GoToSocial, Pleroma and Lemmy
// generate (2048 or 4096 bits, e = 65537) with room to grow. Verifying
// costs the verifier time quadratic in the modulus size and linear in the
// exponent's bits while the signer pays nothing (a forged signature needs
// no private key), so a key outside these bounds is refused before any
// arithmetic.
const (
	MinPublicKeyBits = 2048
	MaxPublicKeyBits = 8192
	PublicExponent   = 65537
)

// CheckPublicKey refuses an RSA key outside the accepted sizes or with an
// exponent other than 65537. It looks only at lengths, never computes.
func CheckPublicKey(key *rsa.PublicKey) error {
	if key == nil || key.N == nil {
		return fmt.Errorf("%w: no RSA key", ErrUnsupportedAlgorithm)
	}
	if bits := key.N.BitLen(); bits < MinPublicKeyBits || bits > MaxPublicKeyBits {
		return fmt.Errorf("%w: RSA key of %d bits (accepted: %d to %d)", ErrUnsupportedAlgorithm, bits, MinPublicKeyBits, MaxPublicKeyBits)
	}
	if key.E != PublicExponent {
		return fmt.Errorf("%w: RSA public exponent %d (accepted: %d)", ErrUnsupportedAlgorithm, key.E, PublicExponent)
	}
	return nil
}

// GenerateKey returns a new RSA key for an actor.
func GenerateKey() (*rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("httpsig: generate key: %w", err)
	}
	return key, nil
}

// EncodePrivateKeyPEM encodes key as a PKCS#8 "PRIVATE KEY" block.
func EncodePrivateKeyPEM(key *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("httpsig: encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// EncodePublicKeyPEM encodes pub as a PKIX "PUBLIC KEY" block, the form
// actor documents carry in publicKey.publicKeyPem.
func EncodePublicKeyPEM(pub *rsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("httpsig: encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKeyPEM decodes an RSA private key in PKCS#8 ("PRIVATE KEY")
// or PKCS#1 ("RSA PRIVATE KEY", as Mastodon stores them) form.
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("httpsig: parse private key: no PEM block")
	}
	if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return key, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("httpsig: parse private key (%s): %w", block.Type, err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("httpsig: parse private key: %T is not RSA", k)
	}
	return key, nil
}

// ParsePublicKeyPEM decodes an RSA public key from a remote actor. Both
// PKIX ("PUBLIC KEY") and PKCS#1 ("RSA PUBLIC KEY") appear in the wild, and
// some servers put one under the other's label, so both encodings are
// tried whatever the block type says. A key CheckPublicKey refuses is an
// error too, so that an actor with such a key is not stored as usable.
func ParsePublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	key, err := parsePublicKeyPEM(data)
	if err != nil {
		return nil, err
	}
	if err := CheckPublicKey(key); err != nil {
		return nil, fmt.Errorf("httpsig: parse public key: %w", err)
	}
	return key, nil
}

func parsePublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("httpsig: parse public key: no PEM block")
	}
	if key, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
		return key, nil
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("httpsig: parse public key (%s): %w", block.Type, err)
	}
	key, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("httpsig: parse public key: %T is not RSA", k)
	}
	return key, nil
}
