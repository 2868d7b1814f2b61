package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// The moderate commands: appoint, remove, lock, ban, unban, restrict and
// the modlog, as the admin and as a moderator.
func TestModerateCommands(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		ctx := context.Background()
		c.ok("account", "create", "alice", "--email", "alice@example.org")
		c.ok("account", "create", "bob", "--email", "bob@example.org")
		c.ok("account", "create", "cy", "--email", "cy@example.org")
		c.ok("community", "create", "practice", "--title", "Practice", "--owner", "alice")
		db := c.openDB()
		svc := federation.NewService(db, "http://localhost:8080", slog.New(slog.DiscardHandler))
		var bob, cy *storage.Actor
		for _, name := range []string{"bob", "cy"} {
			acct, err := db.GetAccountByUsername(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Join(ctx, acct.Actor, "practice"); err != nil {
				t.Fatal(err)
			}
			if name == "bob" {
				bob = acct.Actor
			} else {
				cy = acct.Actor
			}
		}
		post, err := svc.Post(ctx, cy, federation.NewPost{Community: "practice", Text: "Spam spam"})
		if err != nil {
			t.Fatal(err)
		}

		if !strings.Contains(c.fails(1, "moderate", "appoint", "practice", "bob", "--as", "cy"), "owner") {
			t.Error("a member appointed a moderator")
		}
		c.ok("moderate", "appoint", "practice", "bob", "--as", "alice")
		c.ok("moderate", "remove", post.URI, "--as", "bob", "--reason", "spam")
		if o, err := db.GetObjectByURI(ctx, post.URI); err != nil || o.CommunityActorID != nil || o.RemovedAt == nil {
			t.Fatalf("removed post of a local author: %+v %v", o, err)
		}
		top, err := svc.Post(ctx, bob, federation.NewPost{Community: "practice", Text: "Rules"})
		if err != nil {
			t.Fatal(err)
		}
		c.ok("moderate", "lock", top.URI, "--reason", "read only")
		if _, err := svc.Post(ctx, cy, federation.NewPost{InReplyTo: top.URI, Text: "no"}); err == nil {
			t.Error("replied to a locked thread")
		}
		c.ok("moderate", "lock", top.URI, "--unlock")
		c.ok("moderate", "ban", "practice", "cy", "--as", "bob", "--until", "48h", "--reason", "abuse", "--private")
		if banned, err := db.IsBanned(ctx, mustCommunity(t, db, "practice"), cy.ID); err != nil || !banned {
			t.Fatalf("cy not banned: %v", err)
		}
		if _, err := svc.Post(ctx, cy, federation.NewPost{Community: "practice", Text: "again"}); err == nil {
			t.Error("a banned member posted")
		}
		c.ok("moderate", "unban", "practice", "cy")
		c.ok("moderate", "restrict", "practice")
		c.ok("moderate", "restrict", "practice", "--off")
		c.ok("moderate", "appoint", "practice", "bob", "--remove")

		var log []modActionJSON
		if err := json.Unmarshal([]byte(c.ok("moderate", "log", "practice", "--json")), &log); err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, m := range log {
			actions = append(actions, m.Action)
		}
		want := "remove_moderator open_posting restrict_posting unban ban unlock lock remove_post add_moderator"
		if strings.Join(actions, " ") != want {
			t.Fatalf("modlog actions %q, want %q", actions, want)
		}
		ban := log[4]
		if ban.Moderator != "bob@localhost:8080" || ban.Target != "cy@localhost:8080" || ban.Reason != "abuse" || !ban.ReasonPrivate ||
			ban.ExpiresAt == nil || ban.ExpiresAt.Before(time.Now().Add(47*time.Hour)) {
			t.Errorf("ban entry: %+v", ban)
		}
		if table := c.ok("moderate", "log", "practice"); !strings.Contains(table, "abuse (private)") {
			t.Errorf("table:\n%s", table)
		}
	})
}

func mustCommunity(t *testing.T, db *storage.DB, name string) int64 {
	t.Helper()
	c, err := db.GetCommunityByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return c.ActorID
}
