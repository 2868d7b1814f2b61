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
// tried whatever the block type says.
func ParsePublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
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
