package federation

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation/ratelimit"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// signInService is a Service with one member, olga, whose clock stands
// still so that no budget refills while a test runs.
func signInService(t *testing.T, db *storage.DB) *Service {
	s := NewService(db, "https://local.example", nil)
	now := time.Now()
	s.clock = func() time.Time { return now }
	if _, err := s.CreateAccount(context.Background(), NewAccount{Username: "olga", Email: "olga@local.example", Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSignInSpraying: one address trying one password on many names is
// stopped after SignInAddressLimit failures, though each name is tried
// once; its members' successful sign-ins do not count, other addresses
// are not affected, and an IPv6 client is counted by its /64.
func TestSignInSpraying(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := signInService(t, db)
		spray := func(from string, n int) (failed, limited int) {
			for i := range n {
				_, err := s.SignIn(ctx, from, fmt.Sprintf("name%d", i), "Summer2026!")
				var rl *RateLimited
				switch {
				case errors.As(err, &rl) && errors.Is(err, ErrTooManyAttempts) && rl.RetryAfterSeconds() >= 1:
					limited++
				case errors.Is(err, ErrUnauthorized) && limited == 0:
					failed++
				default:
					t.Fatalf("attempt %d from %s: %v (after %d failures, %d refusals)", i, from, err, failed, limited)
				}
			}
			return failed, limited
		}
		// Members signing in from the address spend nothing of it.
		for range 3 {
			if _, err := s.SignIn(ctx, "192.0.2.7", "olga", "correct horse"); err != nil {
				t.Fatalf("olga: %v", err)
			}
		}
		if failed, limited := spray("192.0.2.7", 40); failed != SignInAddressLimit || limited != 40-SignInAddressLimit {
			t.Fatalf("40 names from one address: %d failed, %d refused; want %d, %d", failed, limited, SignInAddressLimit, 40-SignInAddressLimit)
		}
		if _, err := s.SignIn(ctx, "192.0.2.7", "olga", "correct horse"); !errors.Is(err, ErrTooManyAttempts) {
			t.Errorf("right password from the spraying address: %v", err)
		}
		if _, err := s.SignIn(ctx, "192.0.2.8", "olga", "correct horse"); err != nil {
			t.Errorf("another address: %v", err)
		}
		// One /64, many addresses: one budget.
		for i := range SignInAddressLimit {
			if _, err := s.SignIn(ctx, fmt.Sprintf("2001:db8:1:1::%x", i+1), fmt.Sprintf("v6name%d", i), "x"); !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("IPv6 attempt %d: %v", i, err)
			}
		}
		if _, err := s.SignIn(ctx, "2001:db8:1:1:ffff::1", "v6next", "x"); !errors.Is(err, ErrTooManyAttempts) {
			t.Errorf("another address of the same /64: %v", err)
		}
		if _, err := s.SignIn(ctx, "2001:db8:1:2::1", "olga", "correct horse"); err != nil {
			t.Errorf("another /64: %v", err)
		}
	})
}

// TestSignInKDFQueueBounded: password checks past KDFPerAddress from one
// address, or past KDFQueue in all, are refused at once (429 with
// Retry-After) rather than queued behind the others. The admitted
// checks are held before they hash, so the queue stays full while the
// flood arrives; a refusal that returns while they are held did not wait.
func TestSignInKDFQueueBounded(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := signInService(t, db)
		entered, release := make(chan struct{}), make(chan struct{})
		// The hook holds admitted checks: it signals, then waits.
		s.kdf.admitted = func() { entered <- struct{}{}; <-release }
		results := make(chan error)
		flood := func(froms []string) (admitted, refused int) {
			for i, from := range froms {
				go func() {
					_, err := s.SignIn(ctx, from, fmt.Sprintf("fresh-%s-%d", from, i), "guess")
					results <- err
				}()
			}
			for range froms {
				select {
				case <-entered:
					admitted++
				case err := <-results:
					var rl *RateLimited
					if !errors.As(err, &rl) || rl.RetryAfterSeconds() < 1 {
						t.Fatalf("refusal while the queue is full: %v", err)
					}
					refused++
				}
			}
			return admitted, refused
		}

		one := make([]string, 20)
		for i := range one {
			one[i] = "192.0.2.7"
		}
		if a, r := flood(one); a != KDFPerAddress || r != len(one)-KDFPerAddress {
			t.Fatalf("20 from one address: %d admitted, %d refused; want %d admitted", a, r, KDFPerAddress)
		}
		var many []string
		for i := range KDFQueue {
			many = append(many, fmt.Sprintf("198.51.100.%d", i+1))
		}
		if a, r := flood(many); a != KDFQueue-KDFPerAddress || r != KDFPerAddress {
			t.Fatalf("%d from as many addresses: %d admitted, %d refused; want %d", len(many), a, r, KDFQueue-KDFPerAddress)
		}
		if q := s.kdf.queued(); q != KDFQueue {
			t.Fatalf("%d checks queued, want the bound %d", q, KDFQueue)
		}
		// Let the held checks finish: each is a wrong password, nothing more.
		close(release)
		for range KDFQueue {
			if err := <-results; !errors.Is(err, ErrUnauthorized) {
				t.Errorf("held check: %v", err)
			}
		}
		if q := s.kdf.queued(); q != 0 {
			t.Errorf("%d checks still queued", q)
		}
		s.kdf.admitted = nil
		if _, err := s.SignIn(ctx, "192.0.2.9", "olga", "correct horse"); err != nil {
			t.Errorf("a member after the flood: %v", err)
		}
	})
}

// TestSignUpsBounded: sign-ups, each a password hash and a key pair, are
// limited per address and refused at once (429 with Retry-After) while
// the password checks' queue is full.
func TestSignUpsBounded(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := signInService(t, db)
		s.signUps = ratelimit.New(3, time.Hour) // SignUpLimit, smaller: each costs a key pair
		open := RegistrationRules{Mode: RegistrationOpen}
		signUp := func(name, from string) error {
			_, err := s.Register(ctx, Registration{Username: name, Email: name + "@school.example", Password: "correct horse", From: from}, open)
			return err
		}
		for i := range 3 {
			if err := signUp(fmt.Sprintf("pupil%d", i), "192.0.2.7"); err != nil {
				t.Fatalf("sign-up %d: %v", i, err)
			}
		}
		var rl *RateLimited
		if err := signUp("pupil3", "192.0.2.7"); !errors.As(err, &rl) || rl.RetryAfterSeconds() < 1 {
			t.Fatalf("fourth sign-up from one address: %v", err)
		}
		// The queue full of held password checks: refused at once.
		entered, release := make(chan struct{}), make(chan struct{})
		s.kdf.admitted = func() { entered <- struct{}{}; <-release }
		done := make(chan error)
		for i := range KDFQueue {
			go func() {
				_, err := s.SignIn(ctx, fmt.Sprintf("198.51.100.%d", i+1), "olga", "wrong")
				done <- err
			}()
			<-entered
		}
		if err := signUp("pupil4", "192.0.2.8"); !errors.As(err, &rl) {
			t.Errorf("sign-up while the queue is full: %v", err)
		}
		close(release)
		for range KDFQueue {
			<-done
		}
		s.kdf.admitted = nil
		if err := signUp("pupil5", "192.0.2.8"); err != nil {
			t.Errorf("sign-up once the queue drained: %v", err)
		}
	})
}
