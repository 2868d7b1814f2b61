package federation_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/httpsig"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

func TestValidateName(t *testing.T) {
	for name, ok := range map[string]bool{
		"practice": true, "sepsis_care": true, "a": true, "x2": true,
		"": false, "Practice": false, "with space": false, "dots.not": false, "über": false,
		strings.Repeat("a", 31): false, "actor": false, "inbox": false,
	} {
		err := federation.ValidateName(name)
		if (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", name, err, ok)
		}
		if err != nil && !errors.Is(err, federation.ErrInvalid) {
			t.Errorf("ValidateName(%q) error is not ErrInvalid: %v", name, err)
		}
	}
}

func TestCreateAccountAndCommunity(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		svc := federation.NewService(db, "https://example.org", nil)
		acct, err := svc.CreateAccount(ctx, federation.NewAccount{Username: "alice", Email: "alice@example.org", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		a := acct.Actor
		if a.URI != "https://example.org/u/alice" || a.KeyID != a.URI+"#main-key" || a.SharedInboxURI != "https://example.org/inbox" {
			t.Fatalf("actor %+v", a)
		}
		key, err := httpsig.ParsePrivateKeyPEM([]byte(a.PrivateKeyPEM))
		if err != nil || key.N.BitLen() != 2048 {
			t.Fatalf("private key: %v", err)
		}
		if !federation.CheckPassword(acct, "correct horse") || federation.CheckPassword(acct, "wrong horse") {
			t.Fatal("password check")
		}
		bad := []federation.NewAccount{
			{Username: "alice", Email: "other@example.org"},
			{Username: "bob", Email: "not an email"},
			{Username: "Bob", Email: "bob@example.org"},
			{Username: "bob", Email: "bob@example.org", Password: "short"},
		}
		for _, in := range bad {
			if _, err := svc.CreateAccount(ctx, in); err == nil {
				t.Errorf("CreateAccount(%+v) succeeded", in)
			}
		}

		c, err := svc.CreateCommunity(ctx, federation.NewCommunity{Name: "practice", Title: " Practice ", Tags: []string{"#Sepsis", "sepsis", "icu"}, Closed: true, Owner: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Title != "Practice" || !c.Actor.ManuallyApprovesFollowers || strings.Join(c.TagNames(), ",") != "sepsis,icu" || c.Actor.FeaturedURI == "" {
			t.Fatalf("community %+v tags %v", c, c.TagNames())
		}
		badCommunities := []federation.NewCommunity{
			{Name: "alice", Title: "Taken by a member"},
			{Name: "other", Title: ""},
			{Name: "other", Title: "x", Owner: "nobody"},
			{Name: "other", Title: "x", Tags: []string{"no spaces"}},
			{Name: "other", Title: strings.Repeat("x", 101)},
		}
		for _, in := range badCommunities {
			if _, err := svc.CreateCommunity(ctx, in); err == nil {
				t.Errorf("CreateCommunity(%+v) succeeded", in)
			}
		}
		if _, err := db.GetLocalActor(ctx, "other"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("a refused community left an actor: %v", err)
		}

		// The instance actor is made once, even when asked twice.
		ia, err := svc.EnsureInstanceActor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		again, err := svc.EnsureInstanceActor(ctx)
		if err != nil || again.ID != ia.ID || ia.Type != storage.TypeApplication || ia.URI != "https://example.org/actor" {
			t.Fatalf("instance actor %+v / %+v: %v", ia, again, err)
		}
	})
}
