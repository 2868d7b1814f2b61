package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

func TestAccountCreateAndList(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		out := c.ok("account", "create", "alice", "--email", "alice@example.org", "--admin", "--display-name", "Alice A")
		if !strings.Contains(out, "alice@localhost:8080") || !strings.Contains(out, "no password set") {
			t.Errorf("create output: %q", out)
		}
		c.ok("account", "create", "bob", "--email", "bob@example.org")

		table := c.ok("account", "list")
		lines := strings.Split(strings.TrimSpace(table), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "USERNAME") {
			t.Fatalf("table:\n%s", table)
		}
		if f := strings.Fields(lines[1]); f[0] != "alice" || f[1] != "alice@localhost:8080" || f[2] != "alice@example.org" || f[3] != "yes" {
			t.Errorf("alice row: %q", lines[1])
		}
		if f := strings.Fields(lines[2]); f[0] != "bob" || f[3] != "no" {
			t.Errorf("bob row: %q", lines[2])
		}

		var got []map[string]any
		if err := json.Unmarshal([]byte(c.ok("account", "list", "--json")), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("want 2 accounts, got %v", got)
		}
		a := got[0]
		for k, want := range map[string]any{
			"username": "alice", "handle": "alice@localhost:8080", "email": "alice@example.org",
			"display_name": "Alice A", "admin": true, "disabled": false, "uri": "http://localhost:8080/u/alice",
		} {
			if a[k] != want {
				t.Errorf("%s = %v, want %v", k, a[k], want)
			}
		}
		if s, _ := a["created_at"].(string); s == "" {
			t.Errorf("created_at missing: %v", a)
		}
	})
}

func TestListEmptyIsJSONArray(t *testing.T) {
	c := newCLI(t, storage.SQLite)
	for _, what := range []string{"account", "community"} {
		if out := strings.TrimSpace(c.ok(what, "list", "--json")); out != "[]" {
			t.Errorf("%s list --json on an empty database = %q, want []", what, out)
		}
	}
}

func TestAccountDuplicate(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		c.ok("account", "create", "alice", "--email", "alice@example.org")
		if msg := c.fails(1, "account", "create", "alice", "--email", "other@example.org"); !strings.Contains(msg, "already") {
			t.Errorf("same name: %q", msg)
		}
		if msg := c.fails(1, "account", "create", "alice2", "--email", "alice@example.org"); !strings.Contains(msg, "already") {
			t.Errorf("same email: %q", msg)
		}
		// Members and communities share one namespace.
		if msg := c.fails(1, "community", "create", "alice", "--title", "Alice's"); !strings.Contains(msg, "already") {
			t.Errorf("community named like a member: %q", msg)
		}
		var got []accountJSON
		if err := json.Unmarshal([]byte(c.ok("account", "list", "--json")), &got); err != nil || len(got) != 1 {
			t.Errorf("after duplicates: %v %v", got, err)
		}
	})
}

func TestAccountInvalid(t *testing.T) {
	c := newCLI(t, storage.SQLite)
	for _, args := range [][]string{
		{"account", "create", "Alice", "--email", "a@example.org"},
		{"account", "create", "admin", "--email", "a@example.org"},
		{"account", "create", "alice", "--email", "not an email"},
	} {
		if msg := c.fails(1, args...); !strings.Contains(msg, "invalid") {
			t.Errorf("%v: %q", args, msg)
		}
	}
	if out := strings.TrimSpace(c.ok("account", "list", "--json")); out != "[]" {
		t.Errorf("invalid accounts were created: %s", out)
	}
}

func TestAccountPasswordStdin(t *testing.T) {
	c := newCLI(t, storage.SQLite)
	r := c.runIn("correct horse battery\n", "account", "create", "alice", "--email", "alice@example.org", "--password-stdin")
	if r.code != 0 || strings.Contains(r.stdout, "no password") {
		t.Fatalf("create with password: %s", r)
	}
	acct, err := c.openDB().GetAccountByUsername(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !federation.CheckPassword(acct, "correct horse battery") {
		t.Error("password from stdin (trailing newline removed) does not match")
	}
	if federation.CheckPassword(acct, "correct horse battery\n") {
		t.Error("trailing newline was kept in the password")
	}

	if r := c.runIn("", "account", "create", "bob", "--email", "bob@example.org", "--password-stdin"); r.code != 1 || !strings.Contains(r.stderr, "empty") {
		t.Errorf("empty stdin: %s", r)
	}
	if r := c.runIn("short\n", "account", "create", "bob", "--email", "bob@example.org", "--password-stdin"); r.code != 1 || !strings.Contains(r.stderr, "password") {
		t.Errorf("short password: %s", r)
	}
}

func TestReadPassword(t *testing.T) {
	for in, want := range map[string]string{
		"secret123\n":   "secret123",
		"secret123\r\n": "secret123",
		"secret123":     "secret123",
		" spaced  \n\n": " spaced  \n",
	} {
		got, err := readPassword(strings.NewReader(in))
		if err != nil || got != want {
			t.Errorf("readPassword(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestCommunityCreateAndList(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		c.ok("account", "create", "alice", "--email", "alice@example.org")
		out := c.ok("community", "create", "sepsis_care", "--title", "Sepsis care",
			"--summary", "Recognising sepsis early", "--tag", "sepsis,ICU", "--tag", "#nursing",
			"--closed", "--owner", "alice")
		if !strings.Contains(out, "sepsis_care@localhost:8080") {
			t.Errorf("create output: %q", out)
		}
		c.ok("community", "create", "practice", "--title", "Practice")

		var got []communityJSON
		if err := json.Unmarshal([]byte(c.ok("community", "list", "--json")), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("want 2 communities, got %+v", got)
		}
		practice, sepsis := got[0], got[1] // ordered by name
		slices.Sort(sepsis.Tags)
		if sepsis.Name != "sepsis_care" || sepsis.Title != "Sepsis care" || sepsis.Summary != "Recognising sepsis early" ||
			!sepsis.Closed || sepsis.Members != 1 || !slices.Equal(sepsis.Tags, []string{"icu", "nursing", "sepsis"}) ||
			sepsis.Handle != "sepsis_care@localhost:8080" || sepsis.URI != "http://localhost:8080/c/sepsis_care" {
			t.Errorf("sepsis_care: %+v", sepsis)
		}
		if practice.Name != "practice" || practice.Closed || practice.Members != 0 || practice.Tags == nil || len(practice.Tags) != 0 {
			t.Errorf("practice: %+v", practice)
		}

		table := c.ok("community", "list")
		if !strings.Contains(table, "NAME") || !strings.Contains(table, "Sepsis care") {
			t.Errorf("table:\n%s", table)
		}
	})
}

func TestCommunityCreateFailuresLeaveNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		if msg := c.fails(1, "community", "create", "practice", "--title", "Practice", "--owner", "nobody"); !strings.Contains(msg, "nobody") {
			t.Errorf("unknown owner: %q", msg)
		}
		if msg := c.fails(1, "community", "create", "Practice", "--title", "Practice"); !strings.Contains(msg, "invalid") {
			t.Errorf("invalid name: %q", msg)
		}
		if msg := c.fails(1, "community", "create", "practice", "--title", "Practice", "--tag", "no spaces"); !strings.Contains(msg, "tag") {
			t.Errorf("invalid tag: %q", msg)
		}
		if out := strings.TrimSpace(c.ok("community", "list", "--json")); out != "[]" {
			t.Errorf("a failed create left a community: %s", out)
		}
		c.ok("community", "create", "practice", "--title", "Practice")
		if msg := c.fails(1, "community", "create", "practice", "--title", "Again"); !strings.Contains(msg, "already") {
			t.Errorf("duplicate: %q", msg)
		}
	})
}

func TestMigrateTwice(t *testing.T) {
	eachEmptyDB(t, func(t *testing.T, c *cli) {
		if out := c.ok("migrate", "--init"); !strings.Contains(out, "applied migration 1") {
			t.Errorf("first migrate: %q", out)
		}
		if out := c.ok("migrate"); strings.TrimSpace(out) != "database is up to date" {
			t.Errorf("second migrate: %q", out)
		}
	})
}

func TestInvalidSettings(t *testing.T) {
	dir := t.TempDir()
	unknownKey := filepath.Join(dir, "unknown.yaml")
	if err := os.WriteFile(unknownKey, []byte("domian: example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"protocol env", map[string]string{"COMMONPLACE_PROTOCOL": "ftp"}, nil, []string{"COMMONPLACE_PROTOCOL"}},
		{"listen env", map[string]string{"COMMONPLACE_LISTEN": "nope"}, nil, []string{"COMMONPLACE_LISTEN"}},
		{"workers env", map[string]string{"COMMONPLACE_INBOX_WORKERS": "many"}, nil, []string{"COMMONPLACE_INBOX_WORKERS"}},
		{"database scheme", map[string]string{"COMMONPLACE_DATABASE": "mysql://db/x"}, nil, []string{"COMMONPLACE_DATABASE"}},
		{"log level flag", nil, []string{"--log-level", "loud"}, []string{"COMMONPLACE_LOG_LEVEL", "--log-level"}},
		{"domain flag", nil, []string{"--domain", "https://example.org"}, []string{"COMMONPLACE_DOMAIN", "--domain"}},
		{"private addresses flag", nil, []string{"--allow-private-addresses=maybe"}, []string{"allow-private-addresses"}},
		{"missing file", nil, []string{"--config", filepath.Join(dir, "missing.yaml")}, []string{"config file"}},
		{"unknown key", nil, []string{"--config", unknownKey}, []string{"domian"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t, storage.SQLite)
			for k, v := range tc.env {
				c.env[k] = v
			}
			for _, cmd := range [][]string{{"serve"}, {"migrate"}, {"account", "list"}, {"community", "list"}} {
				msg := c.fails(2, append(tc.args, cmd...)...)
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						t.Errorf("%v: message %q does not mention %q", cmd, msg, w)
					}
				}
			}
		})
	}
}

func TestSettingsPrecedence(t *testing.T) {
	c := newCLI(t, storage.SQLite)
	file := filepath.Join(t.TempDir(), "commonplace.yaml")
	if err := os.WriteFile(file, []byte("domain: file.example\nlog_level: warn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.env["COMMONPLACE_DOMAIN"] = "env.example"
	// The flag wins over the environment, which wins over the file; a
	// non-default domain without a protocol means https.
	c.ok("--config", file, "--domain", "flag.example", "account", "create", "alice", "--email", "a@example.org")
	c.ok("--config", file, "account", "create", "bob", "--email", "b@example.org")
	var got []accountJSON
	if err := json.Unmarshal([]byte(c.ok("account", "list", "--json")), &got); err != nil {
		t.Fatal(err)
	}
	if got[0].URI != "https://flag.example/u/alice" || got[1].URI != "https://env.example/u/bob" {
		t.Errorf("uris: %s, %s", got[0].URI, got[1].URI)
	}
	c.ok("--domain", "lab.example", "--protocol", "http", "community", "create", "lab", "--title", "Lab")
	var cs []communityJSON
	if err := json.Unmarshal([]byte(c.ok("community", "list", "--json")), &cs); err != nil {
		t.Fatal(err)
	}
	if cs[0].URI != "http://lab.example/c/lab" {
		t.Errorf("explicit http: %s", cs[0].URI)
	}
}

func TestUsageErrors(t *testing.T) {
	c := newCLI(t, storage.SQLite)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"acount"}, "unknown command"},
		{[]string{"account", "frobnicate"}, "frobnicate"},
		{[]string{"account", "create"}, "missing USERNAME"},
		{[]string{"account", "create", "a", "b", "--email", "a@example.org"}, "unexpected argument"},
		{[]string{"account", "create", "alice"}, "email"},
		{[]string{"community", "create", "practice"}, "title"},
		{[]string{"serve", "--no-such-flag"}, "no-such-flag"},
	} {
		msg := c.fails(2, tc.args...)
		if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "--help") {
			t.Errorf("%v: %q should mention %q and --help", tc.args, msg, tc.want)
		}
	}
}

// TestHelp runs --help on every command, so a broken definition (a flag
// registered twice, say) fails here rather than in an operator's terminal.
func TestHelp(t *testing.T) {
	c := newCLI(t, storage.SQLite)
	c.env["COMMONPLACE_PROTOCOL"] = "ftp" // help must not need valid settings
	var walk func(cmd *cobra.Command, path []string)
	n := 0
	walk = func(cmd *cobra.Command, path []string) {
		n++
		out := c.ok(append(slices.Clone(path), "--help")...)
		if !strings.Contains(out, "Usage:") || !strings.Contains(out, cmd.UseLine()) {
			t.Errorf("%v --help:\n%s", path, out)
		}
		for _, sub := range cmd.Commands() {
			walk(sub, append(slices.Clone(path), sub.Name()))
		}
	}
	walk((&app{}).rootCommand(), nil)
	if n < 9 {
		t.Errorf("walked %d commands; the tree is smaller than expected", n)
	}
	if out := c.ok("help", "account", "create"); !strings.Contains(out, "--password-stdin") {
		t.Errorf("help account create:\n%s", out)
	}
}

func TestVersion(t *testing.T) {
	c := newCLI(t, storage.SQLite)
	c.env["COMMONPLACE_PROTOCOL"] = "ftp" // version must not need valid settings
	if out := c.ok("version"); !strings.HasPrefix(out, "commonplace ") {
		t.Errorf("version: %q", out)
	}
}

// Group mappings are made, listed with the config's and removed; a
// mapping to an unknown community or role is refused.
func TestOIDCGroupRules(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		c.ok("community", "create", "early_years", "--title", "Early Years")
		c.ok("oidc", "map", "/staff/heads", "admin")
		if out := c.ok("oidc", "map", "early-years", "member", "early_years"); !strings.Contains(out, `group "early-years" to member of early_years`) {
			t.Errorf("map: %q", out)
		}
		c.ok("oidc", "map", "ey-leads", "moderator", "early_years")
		if msg := c.fails(1, "oidc", "map", "x", "member", "nowhere"); !strings.Contains(msg, "nowhere") {
			t.Errorf("unknown community: %q", msg)
		}
		if msg := c.fails(1, "oidc", "map", "x", "owner", "early_years"); !strings.Contains(msg, "admin, moderator or member") {
			t.Errorf("unknown role: %q", msg)
		}
		if msg := c.fails(1, "oidc", "map", "x", "member"); !strings.Contains(msg, "needs a community") {
			t.Errorf("member without community: %q", msg)
		}
		if msg := c.fails(1, "oidc", "map", "/staff/heads", "admin"); !strings.Contains(msg, "already") && !strings.Contains(msg, "exists") {
			t.Errorf("twice: %q", msg)
		}
		c.env["COMMONPLACE_OIDC_GROUPS"] = "governors=member:early_years"
		out := c.ok("oidc", "rules")
		for _, want := range []string{"/staff/heads  admin", "ey-leads", "governors", "config"} {
			if !strings.Contains(out, want) {
				t.Errorf("rules lack %q:\n%s", want, out)
			}
		}
		c.ok("oidc", "unmap", "ey-leads", "moderator", "early_years")
		if out := c.ok("oidc", "rules"); strings.Contains(out, "ey-leads") {
			t.Errorf("unmapped rule listed:\n%s", out)
		}
		c.fails(1, "oidc", "unmap", "ey-leads", "moderator", "early_years")
	})
}
