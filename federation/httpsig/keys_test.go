package httpsig

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
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

// TestKeyBounds: keys outside 2048-8192 bits or with e != 65537 are refused
// by Verify before any arithmetic (the old code verified them, costing a
// 44,000-bit key 176 ms per forged POST), and by ParsePublicKeyPEM, so an
// actor publishing one has no usable key.
func TestKeyBounds(t *testing.T) {
	opts := Options{Now: fixedClock(testNow)}
	parsed := func(t *testing.T) *Verifier {
		v, err := opts.Parse(asServer(signed(t, http.MethodGet, "https://commonplace.example/users/bob", nil, testNow), nil))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	alice := loadKey(t, "alice")
	huge := new(big.Int).Lsh(big.NewInt(1), 44000)
	huge.Add(huge, big.NewInt(1))
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]*rsa.PublicKey{
		"44001 bits": {N: huge, E: 65537},
		"8193 bits":  {N: new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 8192), big.NewInt(1)), E: 65537},
		"1024 bits":  &small.PublicKey,
		"e = 3":      {N: alice.N, E: 3},
		"e = 2^31-1": {N: alice.N, E: 1<<31 - 1},
	} {
		t.Run(name, func(t *testing.T) {
			if err := CheckPublicKey(key); !errors.Is(err, ErrUnsupportedAlgorithm) {
				t.Errorf("CheckPublicKey = %v, want ErrUnsupportedAlgorithm", err)
			}
			if err := parsed(t).Verify(key); !errors.Is(err, ErrUnsupportedAlgorithm) {
				t.Errorf("Verify = %v, want ErrUnsupportedAlgorithm before verifying", err)
			}
			data := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(key)})
			if _, err := ParsePublicKeyPEM(data); !errors.Is(err, ErrUnsupportedAlgorithm) {
				t.Errorf("ParsePublicKeyPEM = %v, want ErrUnsupportedAlgorithm", err)
			}
		})
	}
	// The 1024-bit key signs correctly: only its size refuses it.
	c := signed(t, http.MethodGet, "https://commonplace.example/users/bob", nil, testNow)
	if err := SignRequest(c, nil, aliceKeyID, small); err != nil {
		t.Fatal(err)
	}
	v, err := opts.Parse(asServer(c, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(&small.PublicKey); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("Verify(1024-bit signer) = %v, want ErrUnsupportedAlgorithm", err)
	}
	for _, bits := range []int{2048, 8192} {
		n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
		n.Add(n, big.NewInt(1))
		if err := CheckPublicKey(&rsa.PublicKey{N: n, E: 65537}); err != nil {
			t.Errorf("%d bits: %v", bits, err)
		}
	}
	if err := parsed(t).Verify(&alice.PublicKey); err != nil {
		t.Errorf("2048-bit key of the signer: %v", err)
	}
}

// BenchmarkVerifyRefusedKey is what a forged POST with an oversized key
// costs now: a length check.
func BenchmarkVerifyRefusedKey(b *testing.B) {
	opts := Options{Now: fixedClock(testNow)}
	v, err := opts.Parse(asServer(signed(b, http.MethodGet, "https://commonplace.example/users/bob", nil, testNow), nil))
	if err != nil {
		b.Fatal(err)
	}
	huge := new(big.Int).Lsh(big.NewInt(1), 44000)
	huge.Add(huge, big.NewInt(1))
	key := &rsa.PublicKey{N: huge, E: 65537}
	for b.Loop() {
		_ = v.Verify(key)
	}
}
