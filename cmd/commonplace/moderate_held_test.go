package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// Pre-moderation from the shell: a moderator sets the rules, a newcomer's
// post is held and listed, approved once; another is rejected; members may
// neither read the queue nor decide.
func TestModerateHeldCommands(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		ctx := context.Background()
		c.ok("account", "create", "alice", "--email", "alice@example.org")
		c.ok("account", "create", "cy", "--email", "cy@example.org")
		c.ok("community", "create", "practice", "--title", "Practice", "--owner", "alice")
		if !strings.Contains(c.fails(1, "moderate", "rules", "practice", "--hold-new-members", "--as", "cy"), "moderat") {
			t.Error("a member set the rules")
		}
		out := c.ok("moderate", "rules", "practice", "--hold-new-members", "--member-posts-per-hour", "5", "--as", "alice")
		if !strings.Contains(out, "hold new members: yes") || !strings.Contains(out, "per member: 5") || !strings.Contains(out, "per server: no limit") {
			t.Errorf("rules: %s", out)
		}
		if got := c.ok("moderate", "rules", "practice"); got != out {
			t.Errorf("rules shown: %q, set: %q", got, out)
		}
		db := c.openDB()
		svc := federation.NewService(db, "http://localhost:8080", slog.New(slog.DiscardHandler))
		acct, err := db.GetAccountByUsername(ctx, "cy")
		if err != nil {
			t.Fatal(err)
		}
		cy := acct.Actor
		if _, err := svc.Join(ctx, cy, "practice"); err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{"First words", "Second words"} {
			if _, err := svc.Post(ctx, cy, federation.NewPost{Community: "practice", Text: text}); !strings.Contains(errString(err), "waits for a moderator") {
				t.Fatalf("cy's post: %v", err)
			}
		}
		var list []struct {
			ID     int64  `json:"id"`
			Post   string `json:"post"`
			Author string `json:"author"`
			Reason string `json:"reason"`
			Text   string `json:"text"`
		}
		if err := json.Unmarshal([]byte(c.ok("moderate", "held", "practice", "--json")), &list); err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || !strings.HasSuffix(list[0].Text, "First words") || list[0].Reason != storage.HoldNewMember || !strings.HasPrefix(list[0].Author, "cy@") {
			t.Fatalf("held: %+v", list)
		}
		c.fails(1, "moderate", "held", "practice", "--as", "cy")
		first, second := strconv.FormatInt(list[0].ID, 10), strconv.FormatInt(list[1].ID, 10)
		c.fails(1, "moderate", "approve", first, "--as", "cy")
		c.ok("moderate", "approve", first, "--as", "alice")
		if !strings.Contains(c.fails(1, "moderate", "approve", first), "already") {
			t.Error("approved twice")
		}
		c.ok("moderate", "reject", second, "--reason", "duplicate", "--private")
		for _, p := range []struct {
			uri  string
			want bool
		}{{list[0].Post, true}, {list[1].Post, false}} {
			o, err := db.GetObjectByURI(ctx, p.uri)
			if (err == nil && o.CommunityActorID != nil) != p.want {
				t.Errorf("post %s in the community: %v, want %v", p.uri, err == nil, p.want)
			}
		}
		if out := c.ok("moderate", "held", "practice"); strings.Count(out, "\n") != 1 {
			t.Errorf("queue after deciding:\n%s", out)
		}
		log := c.ok("moderate", "log", "practice")
		if !strings.Contains(log, storage.ModApprovePost) || !strings.Contains(log, storage.ModRejectPost) || !strings.Contains(log, "duplicate (private)") {
			t.Errorf("modlog:\n%s", log)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
