package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/storage"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func listRules(t *testing.T, c *cli) []ruleJSON {
	t.Helper()
	var rules []ruleJSON
	if err := json.Unmarshal([]byte(c.ok("federation", "list", "--json")), &rules); err != nil {
		t.Fatal(err)
	}
	return rules
}

func TestFederationCommands(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		c.env["USER"] = "ops"
		if out := strings.TrimSpace(c.ok("federation", "mode")); out != "blocklist" {
			t.Errorf("default mode %q", out)
		}
		c.ok("federation", "mode", "allowlist")
		if out := strings.TrimSpace(c.ok("federation", "mode")); out != "allowlist" {
			t.Errorf("mode after set %q", out)
		}
		if msg := c.fails(1, "federation", "mode", "open"); !strings.Contains(msg, "allowlist") {
			t.Errorf("bad mode: %q", msg)
		}
		c.ok("federation", "allow", "Hospital-B.example.", "--comment", "regional network")
		c.ok("federation", "block", "spam.example", "--reason", "spam wave", "--public-comment", "Spam")
		c.ok("federation", "block", "loud.example:8443", "--severity", "limit")
		if msg := c.fails(1, "federation", "block", "x.example", "--severity", "nuke"); !strings.Contains(msg, "severity") {
			t.Errorf("bad severity: %q", msg)
		}
		if msg := c.fails(1, "federation", "block", "https://x.example/path"); !strings.Contains(msg, "not a domain") {
			t.Errorf("URL as domain: %q", msg)
		}
		if msg := c.fails(1, "federation", "block", "localhost:8080"); !strings.Contains(msg, "own domain") {
			t.Errorf("own domain: %q", msg)
		}
		if out := c.ok("federation", "block", "spam.example", "--reason", "spam wave", "--public-comment", "Spam"); !strings.Contains(out, "unchanged") {
			t.Errorf("repeated block: %q", out)
		}

		rules := listRules(t, c)
		if len(rules) != 3 {
			t.Fatalf("rules: %+v", rules)
		}
		got := map[string]ruleJSON{}
		for _, r := range rules {
			got[r.Domain] = r
		}
		if r := got["hospital-b.example"]; r.Kind != "allow" || r.PublicComment != "regional network" || r.CreatedBy != "cli:"+r.CreatedBy[4:] || r.CreatedBy == "" {
			t.Errorf("allow: %+v", r)
		}
		if r := got["spam.example"]; r.Kind != "block" || r.Severity != "suspend" || r.Reason != "spam wave" {
			t.Errorf("block: %+v", r)
		}
		if r := got["loud.example:8443"]; r.Severity != "limit" {
			t.Errorf("limit: %+v", r)
		}
		table := c.ok("federation", "list")
		if !strings.Contains(table, "mode: allowlist") || !strings.Contains(table, "spam.example") {
			t.Errorf("table:\n%s", table)
		}

		c.ok("federation", "remove", "spam.example")
		if msg := c.fails(1, "federation", "remove", "spam.example"); !strings.Contains(msg, "not found") {
			t.Errorf("remove twice: %q", msg)
		}
		c.ok("federation", "publish", "on")

		var audit []auditJSON
		if err := json.Unmarshal([]byte(c.ok("federation", "audit", "--json")), &audit); err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, a := range audit {
			actions = append(actions, a.Action+":"+a.Domain)
			if !strings.HasPrefix(a.Actor, "cli:") {
				t.Errorf("audit actor %q", a.Actor)
			}
		}
		want := "mode:,allow:hospital-b.example,block:spam.example,block:loud.example:8443,remove_block:spam.example,publish:"
		if strings.Join(actions, ",") != want {
			t.Errorf("audit actions\n got %s\nwant %s", strings.Join(actions, ","), want)
		}
		if out := c.ok("federation", "audit"); !strings.Contains(out, "remove_block") {
			t.Errorf("audit table:\n%s", out)
		}
	})
}

// A 1,000-line Mastodon export is imported in one go; exporting gives the
// same file back; a file with bad lines is refused whole.
func TestFederationImportExport(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		var b strings.Builder
		b.WriteString("#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n")
		for i := range 1000 {
			sev := "suspend"
			if i%3 == 0 {
				sev = "silence"
			}
			fmt.Fprintf(&b, "host%04d.example,%s,false,false,\"Comment, %d\",false\n", i, sev, i)
		}
		file := writeFile(t, "blocks.csv", b.String())
		r := c.run("federation", "import", file)
		if r.code != 0 {
			t.Fatalf("import: %s", r)
		}
		if !strings.Contains(r.stdout, "1000 added, 0 changed, 0 skipped") {
			t.Errorf("summary: %q", r.stdout)
		}
		if !strings.Contains(r.stderr, "importing: 1000/1000") {
			t.Errorf("no progress line on stderr: %q", r.stderr)
		}
		if n := len(listRules(t, c)); n != 1000 {
			t.Fatalf("%d rules after import", n)
		}
		export := c.ok("federation", "export")
		if export != strings.ReplaceAll(b.String(), "Comment, ", "Comment, ") {
			// Identical but for quoting of fields csv writes the same way.
			if strings.Count(export, "\n") != 1001 || !strings.Contains(export, "host0003.example,silence,false,false,\"Comment, 3\",false") {
				t.Errorf("export differs:\n%.400s", export)
			}
		}
		// Importing it again changes nothing.
		if out := c.ok("federation", "import", file); !strings.Contains(out, "0 added, 0 changed, 1000 skipped") {
			t.Errorf("re-import: %q", out)
		}

		// Bad lines: every one reported by number, nothing applied.
		bad := "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n" +
			"new1.example,suspend,false,false,,false\n" +
			"not a domain,suspend,false,false,,false\n" +
			"new2.example,obliterate,false,false,,false\n" +
			"new3.example,silence,maybe,false,,false\n" +
			"new4.example,suspend,false,false,,false,extra\n" +
			"host0001.example,silence,false,false,changed,false\n"
		msg := c.fails(1, "federation", "import", writeFile(t, "bad.csv", bad))
		for _, want := range []string{"4 invalid line(s), nothing imported", "line 3:", "line 4:", "line 5:", "line 6:"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error should mention %q:\n%s", want, msg)
			}
		}
		if strings.Contains(msg, "line 2:") || strings.Contains(msg, "line 7:") {
			t.Errorf("valid lines reported:\n%s", msg)
		}
		rules := listRules(t, c)
		if len(rules) != 1000 {
			t.Errorf("%d rules after the rejected import, want 1000", len(rules))
		}
		for _, r := range rules {
			if r.Domain == "host0001.example" && r.Severity != "suspend" {
				t.Errorf("rejected import changed host0001: %+v", r)
			}
		}

		// Allows: a plain list.
		list := "# partners\nhospital-a.example Hospital A\n\nhospital-b.example\n"
		if out := c.ok("federation", "import", "--allows", writeFile(t, "allows.txt", list)); !strings.Contains(out, "2 added") {
			t.Errorf("allows import: %q", out)
		}
		if out := c.ok("federation", "export", "--allows"); out != "hospital-a.example Hospital A\nhospital-b.example\n" {
			t.Errorf("allows export: %q", out)
		}
		if msg := c.fails(1, "federation", "import", "--allows", writeFile(t, "bad.txt", "ok.example\nbad/domain\n")); !strings.Contains(msg, "line 2:") {
			t.Errorf("bad allows: %q", msg)
		}
	})
}

func TestCommunityPartnersCommand(t *testing.T) {
	c := newCLI(t, storage.SQLite)
	c.ok("community", "create", "network", "--title", "Network")
	if out := c.ok("community", "partners", "network", "list"); !strings.Contains(out, "no partners") {
		t.Errorf("empty list: %q", out)
	}
	c.ok("community", "partners", "network", "add", "hospital-b.example")
	c.ok("community", "partners", "network", "add", "hospital-c.example:8443")
	if out := c.ok("community", "partners", "network", "list"); out != "hospital-b.example\nhospital-c.example:8443\n" {
		t.Errorf("list: %q", out)
	}
	c.ok("community", "partners", "network", "remove", "hospital-b.example")
	if out := c.ok("community", "partners", "network", "list"); out != "hospital-c.example:8443\n" {
		t.Errorf("list after remove: %q", out)
	}
	c.fails(2, "community", "partners", "network", "add")
	c.fails(1, "community", "partners", "nosuch", "list")
	if out := c.ok("federation", "audit"); !strings.Contains(out, "partner_add") || !strings.Contains(out, "partner_remove") {
		t.Errorf("audit:\n%s", out)
	}
}
