package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
)

// community export writes the JSON (readable by its owner only) and the
// repertoire as Markdown; community import makes a new community from it,
// and says clearly why a file is refused.
func TestCommunityExportImportCommands(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		ctx := context.Background()
		c.ok("account", "create", "alice", "--email", "alice@example.org")
		c.ok("community", "create", "practice", "--title", "Practice", "--summary", "Night *work*", "--owner", "alice")
		db := c.openDB()
		svc := federation.NewService(db, "http://localhost:8080", slog.New(slog.DiscardHandler))
		acct, err := db.GetAccountByUsername(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		post, err := svc.Post(ctx, acct.Actor, federation.NewPost{Community: "practice", Kind: federation.KindResource,
			Title: "Handover [sheet]", Text: "Print it **twice**.", Markdown: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Curate(ctx, acct.Actor, post.URI, federation.RepertoireChange{Section: "Templates"}); err != nil {
			t.Fatal(err)
		}

		dir := t.TempDir()
		file, md := filepath.Join(dir, "practice.json"), filepath.Join(dir, "repertoire")
		out := c.ok("community", "export", "practice", "--out", file, "--markdown", md)
		if !strings.Contains(out, "1 posts") || !strings.Contains(out, "1 repertoire items") {
			t.Errorf("export output: %q", out)
		}
		if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("export file mode %v, %v", fi.Mode(), err)
		}
		var exp federation.CommunityExport
		body, _ := os.ReadFile(file)
		if err := json.Unmarshal(body, &exp); err != nil || exp.Format != federation.ExportFormat || len(exp.Posts) != 1 {
			t.Errorf("export file: %v %+v", err, exp)
		}
		readme, err := os.ReadFile(filepath.Join(md, "README.md"))
		if err != nil {
			t.Fatal(err)
		}
		entry, err := os.ReadFile(filepath.Join(md, "001-handover-sheet.md"))
		if err != nil {
			t.Fatal(err)
		}
		if r := string(readme); !strings.Contains(r, "# Practice") || !strings.Contains(r, `Night \*work*`) ||
			!strings.Contains(r, "## Templates") || !strings.Contains(r, `[Handover \[sheet\]](001-handover-sheet.md)`) {
			t.Errorf("README.md:\n%s", r)
		}
		if e := string(entry); !strings.Contains(e, `# Handover \[sheet]`) || !strings.Contains(e, "**twice**") || !strings.Contains(e, post.URI) {
			t.Errorf("entry:\n%s", e)
		}
		// The JSON on standard output, when no --out is given.
		if err := json.Unmarshal([]byte(c.ok("community", "export", "practice")), &exp); err != nil || exp.Community.Name != "practice" {
			t.Errorf("export to standard output: %v", err)
		}

		out = c.ok("community", "import", file, "--name", "practice_copy", "--owner", "alice")
		if !strings.Contains(out, "practice_copy@localhost:8080") || !strings.Contains(out, "1 posts, 0 replies, 1 repertoire items") ||
			!strings.Contains(out, "not imported: 1 members") {
			t.Errorf("import output: %q", out)
		}
		if errOut := c.fails(1, "community", "import", file, "--name", "practice_copy"); !strings.Contains(errOut, "practice_copy") {
			t.Errorf("import over an existing name: %q", errOut)
		}
		notJSON := filepath.Join(dir, "notes.txt")
		os.WriteFile(notJSON, []byte("hello"), 0o600)
		if errOut := c.fails(1, "community", "import", notJSON); !strings.Contains(errOut, "not JSON") {
			t.Errorf("import of a text file: %q", errOut)
		}
		other := filepath.Join(dir, "other.json")
		os.WriteFile(other, []byte(`{"format":"something-else","version":1}`), 0o600)
		if errOut := c.fails(1, "community", "import", other); !strings.Contains(errOut, "not a Commonplace community export") {
			t.Errorf("import of another format: %q", errOut)
		}
		if errOut := c.fails(1, "community", "export", "nosuch"); !strings.Contains(errOut, "nosuch") {
			t.Errorf("export of no community: %q", errOut)
		}
	})
}
