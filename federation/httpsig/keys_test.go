package httpsig

import (
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

func TestKeyPEM(t *testing.T) {
	key := loadKey(t, "alice") // PKCS#1 "RSA PRIVATE KEY", as Mastodon stores keys
	if loadKey(t, "mallory").N.Cmp(key.N) == 0 {
		t.Fatal("test keys are identical")
	}

	priv, err := EncodePrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(priv), "-----BEGIN PRIVATE KEY-----") {
		t.Fatalf("private key PEM starts %q", priv[:30])
	}
	back, err := ParsePrivateKeyPEM(priv)
	if err != nil || !back.Equal(key) {
		t.Fatalf("private key round trip: %v", err)
	}

	pkix, err := EncodePublicKeyPEM(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pkix), "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("public key PEM starts %q", pkix[:30])
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)})
	mislabelled := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)})
	crlf := []byte(strings.ReplaceAll("\n"+string(pkix), "\n", "\r\n"))
	for name, data := range map[string][]byte{"pkix": pkix, "pkcs1": pkcs1, "mislabelled": mislabelled, "crlf": crlf} {
		pub, err := ParsePublicKeyPEM(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !pub.Equal(&key.PublicKey) {
			t.Errorf("%s: different key", name)
		}
	}

	for name, data := range map[string]string{
		"empty":   "",
		"garbage": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
		"no pem":  "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
	} {
		if _, err := ParsePublicKeyPEM([]byte(data)); err == nil {
			t.Errorf("public %s: no error", name)
		}
		if _, err := ParsePrivateKeyPEM([]byte(data)); err == nil {
			t.Errorf("private %s: no error", name)
		}
	}
}

func TestGenerateKey(t *testing.T) {
	if testing.Short() {
		t.Skip("key generation is slow")
	}
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if key.N.BitLen() != KeyBits {
		t.Fatalf("key has %d bits", key.N.BitLen())
	}
}
