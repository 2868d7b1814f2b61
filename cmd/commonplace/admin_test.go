package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/storage"
)

// TestAdminCommands: disable and enable an account, make and revoke an
// admin, read delivery health and retry a host; each is in the audit log.
func TestAdminCommands(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		c.ok("account", "create", "alice", "--email", "alice@example.org")
		c.ok("account", "disable", "alice")
		db := c.openDB()
		ctx := context.Background()
		acct, err := db.GetAccountByUsername(ctx, "alice")
		if err != nil || !acct.Disabled {
			t.Fatalf("after disable: %+v %v", acct, err)
		}
		c.ok("account", "enable", "alice")
		c.ok("account", "admin", "alice")
		if acct, _ := db.GetAccountByUsername(ctx, "alice"); acct.Disabled || !acct.Admin {
			t.Fatalf("after enable and admin: %+v", acct)
		}
		c.ok("account", "admin", "alice", "--revoke")
		if acct, _ := db.GetAccountByUsername(ctx, "alice"); acct.Admin {
			t.Fatal("still an admin after --revoke")
		}
		if msg := c.fails(1, "account", "disable", "nobody"); !strings.Contains(msg, "not found") {
			t.Errorf("disable nobody: %q", msg)
		}
		c.ok("community", "create", "practice", "--title", "Practice")

		// A host that fails, with a delivery waiting.
		if _, err := db.RecordHostFailure(ctx, "down.example", time.Now()); err != nil {
			t.Fatal(err)
		}
		out := c.ok("federation", "health")
		if !strings.Contains(out, "down.example") || !strings.Contains(out, "FAILING SINCE") {
			t.Errorf("health: %q", out)
		}
		if out := c.ok("federation", "health", "--json"); !strings.Contains(out, `"host": "down.example"`) || !strings.Contains(out, `"consecutive_failures": 1`) {
			t.Errorf("health --json: %q", out)
		}
		if out := c.ok("federation", "retry", "down.example"); !strings.Contains(out, "0 deliveries to down.example are due now") {
			t.Errorf("retry: %q", out)
		}
		c.fails(1, "federation", "retry", "not a host")

		audit := c.ok("federation", "audit")
		for _, want := range []string{"disable_account", "enable_account", "make_admin", "revoke_admin", "create_community", "retry_deliveries", "cli:"} {
			if !strings.Contains(audit, want) {
				t.Errorf("audit lacks %s:\n%s", want, audit)
			}
		}
	})
}

func TestInstanceAndTransferCommands(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		c.ok("instance", "set", "--name", "North practice", "--contact", "admins@example.org", "--rule", "Be kind", "--rule", "No patient data")
		c.ok("instance", "set", "--description", "For clinicians.", "--registrations", "approval")
		out := c.ok("instance", "show")
		for _, want := range []string{"name: North practice", "contact: admins@example.org", "description: For clinicians.", "registrations: approval", "rule 1: Be kind", "rule 2: No patient data"} {
			if !strings.Contains(out, want) {
				t.Errorf("instance show lacks %q:\n%s", want, out)
			}
		}
		c.ok("instance", "set", "--registrations", "config")
		if out := c.ok("instance", "show"); !strings.Contains(out, "registrations: closed") {
			t.Errorf("back to the configuration: %s", out)
		}
		if msg := c.fails(1, "instance", "set", "--contact", "not an address"); !strings.Contains(msg, "not an e-mail address") {
			t.Errorf("bad contact: %q", msg)
		}

		c.ok("account", "create", "alice", "--email", "alice@example.org")
		c.ok("account", "create", "bea", "--email", "bea@example.org")
		c.ok("community", "create", "practice", "--title", "Practice", "--owner", "alice")
		if msg := c.fails(1, "community", "transfer", "practice", "bea"); !strings.Contains(msg, "must join") {
			t.Errorf("transfer to a non-member: %q", msg)
		}
		db := c.openDB()
		ctx := context.Background()
		bea, _ := db.GetLocalActor(ctx, "bea")
		g, _ := db.GetLocalActor(ctx, "practice")
		if err := db.Gorm(ctx).Create(&storage.Membership{CommunityActorID: g.ID, MemberActorID: bea.ID, State: storage.StateAccepted, Role: storage.RoleMember}).Error; err != nil {
			t.Fatal(err)
		}
		c.ok("community", "transfer", "practice", "bea")
		alice, _ := db.GetLocalActor(ctx, "alice")
		for who, want := range map[int64]string{bea.ID: storage.RoleOwner, alice.ID: storage.RoleModerator} {
			m, err := db.GetMembership(ctx, g.ID, who)
			if err != nil || m.Role != want {
				t.Errorf("member %d: %+v %v, want %s", who, m, err, want)
			}
		}
		c.ok("community", "edit", "practice", "--title", "Practice and craft", "--tag", "reading,phonics", "--closed")
		if out := c.ok("community", "list", "--json"); !strings.Contains(out, `"title": "Practice and craft"`) || !strings.Contains(out, `"closed": true`) || !strings.Contains(out, `"phonics"`) {
			t.Errorf("after edit: %s", out)
		}
		if msg := c.fails(1, "community", "edit", "practice", "--title", ""); !strings.Contains(msg, "title must not be empty") {
			t.Errorf("empty title: %q", msg)
		}
		if msg := c.fails(1, "community", "delete", "practice"); !strings.Contains(msg, "--yes") {
			t.Errorf("delete without --yes: %q", msg)
		}
		c.ok("community", "delete", "practice", "--yes")
		if out := c.ok("community", "list", "--json"); strings.TrimSpace(out) != "[]" {
			t.Errorf("communities after delete: %s", out)
		}
		audit := c.ok("federation", "audit")
		for _, want := range []string{"instance_settings", "transfer_community", "delete_community"} {
			if !strings.Contains(audit, want) {
				t.Errorf("audit lacks %s", want)
			}
		}
	})
}
