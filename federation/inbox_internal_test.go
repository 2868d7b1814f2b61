package federation

import (
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation/httpsig"
	"github.com/commonplace/commonplace/storage"
)

func TestPublicKeyCache(t *testing.T) {
	pemOf := func() (string, *rsa.PublicKey) {
		k, err := httpsig.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		p, err := httpsig.EncodePublicKeyPEM(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return string(p), &k.PublicKey
	}
	var c publicKeyCache
	pemA, pubA := pemOf()
	pemB, pubB := pemOf()
	a1, err := c.key(pemA)
	if err != nil || !a1.Equal(pubA) {
		t.Fatalf("key(A) = %v, %v", a1, err)
	}
	if a2, _ := c.key(pemA); a2 != a1 {
		t.Error("a second lookup of the same PEM parsed it again")
	}
	// A rotated key is another PEM: never the cached key.
	if b, err := c.key(pemB); err != nil || !b.Equal(pubB) {
		t.Errorf("key(B) = %v, %v; want B's key", b, err)
	}
	if _, err := c.key("not a key"); err == nil {
		t.Error("an invalid PEM parsed")
	}
	if _, ok := c.keys["not a key"]; ok {
		t.Error("an invalid PEM was cached")
	}

	// Bounded: past maxPublicKeys entries, one is evicted per insert.
	// (Copies of one key under distinct PEM texts; the parser ignores
	// text after the PEM block.)
	for i := range maxPublicKeys + 10 {
		if _, err := c.key(pemA + strings.Repeat("\n", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.keys); n > maxPublicKeys {
		t.Errorf("%d keys cached, want at most %d", n, maxPublicKeys)
	}
}

func TestSignerCache(t *testing.T) {
	var c signerCache
	if _, ok := c.get("k"); ok {
		t.Fatal("empty cache answered")
	}
	a := &storage.Actor{URI: "https://r.example/u/a"}
	c.put("k", a)
	if got, ok := c.get("k"); !ok || got != a {
		t.Fatalf("get after put: %v %v", got, ok)
	}
	c.mu.Lock()
	c.entries["k"] = signerEntry{a, time.Now().Add(-signerTTL - time.Second)}
	c.mu.Unlock()
	if _, ok := c.get("k"); ok {
		t.Fatal("an expired signer was served")
	}
	for i := range maxSigners + 1 {
		c.put(strings.Repeat("x", i%7)+string(rune('a'+i%26))+time.Duration(i).String(), a)
	}
	c.mu.Lock()
	n := len(c.entries)
	c.mu.Unlock()
	if n > maxSigners {
		t.Fatalf("cache grew to %d entries, bound %d", n, maxSigners)
	}
}
