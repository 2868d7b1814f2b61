package main

import (
	"context"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/storage"
)

func TestAccountToken(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		c.ok("account", "create", "alice", "--email", "alice@example.org")
		tok := strings.TrimSpace(c.ok("account", "token", "alice", "--scopes", "read write:statuses"))
		if len(tok) < 40 || strings.ContainsAny(tok, " \n") {
			t.Fatalf("token output %q", tok)
		}
		db, err := storage.Open(context.Background(), c.dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var rows []storage.OAuthToken
		if err := db.Gorm(context.Background()).Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Scopes != "read write:statuses" || rows[0].TokenHash == tok || rows[0].AccountID == nil {
			t.Errorf("stored token: %+v", rows)
		}
		if msg := c.fails(1, "account", "token", "nobody"); !strings.Contains(msg, "not found") {
			t.Errorf("unknown account: %q", msg)
		}
		if msg := c.fails(2, "account", "token", "alice", "--scopes", "read everything"); !strings.Contains(msg, "unknown scope") {
			t.Errorf("unknown scope: %q", msg)
		}
	})
}
