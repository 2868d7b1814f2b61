package ratelimit

import (
	"testing"
	"time"
)

func TestTakeRefillsOverWindow(t *testing.T) {
	l := New(2, 10*time.Second)
	now := time.Unix(1000, 0)
	for i := range 2 {
		if ok, _, _ := l.Take("k", now); !ok {
			t.Fatalf("take %d refused from a full bucket", i)
		}
	}
	ok, remaining, reset := l.Take("k", now)
	if ok || remaining != 0 {
		t.Fatalf("third take: ok=%v remaining=%d", ok, remaining)
	}
	if want := now.Add(10 * time.Second); !reset.Equal(want) {
		t.Errorf("reset %v, want %v", reset, want)
	}
	if ok, _, _ := l.Take("other", now); !ok {
		t.Error("keys share a bucket")
	}
	if ok, _, _ := l.Take("k", now.Add(5*time.Second)); !ok {
		t.Error("half a window did not give back one token")
	}
	// Buckets that have refilled are forgotten.
	l.Take("k", now.Add(2*time.Minute))
	if len(l.buckets) != 1 {
		t.Errorf("%d buckets kept after refilling", len(l.buckets))
	}
}

func TestReturn(t *testing.T) {
	l := New(2, time.Hour)
	now := time.Unix(1000, 0)
	l.Take("k", now)
	l.Take("k", now)
	l.Return("k", now)
	if ok, _, _ := l.Take("k", now); !ok {
		t.Fatal("a returned token cannot be taken again")
	}
	l.Return("k", now)
	l.Return("k", now)
	l.Return("k", now)
	for i := range 2 {
		if ok, _, _ := l.Take("k", now); !ok {
			t.Fatalf("take %d refused", i)
		}
	}
	if ok, _, _ := l.Take("k", now); ok {
		t.Error("returns filled the bucket past its capacity")
	}
	l.Return("unknown", now) // no bucket: nothing to give back, no panic
}
