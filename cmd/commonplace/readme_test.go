package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/config"
)

var update = flag.Bool("update", false, "rewrite generated documentation in README.md")

const (
	readmePath    = "../../README.md"
	settingsBegin = "<!-- settings:begin (generated from config.Settings by `go test ./cmd/commonplace -run TestREADME -update`) -->"
	settingsEnd   = "<!-- settings:end -->"
)

// settingsTable renders config.Settings as the README's Markdown table.
func settingsTable() string {
	var b strings.Builder
	b.WriteString("| environment variable | YAML key | default | meaning |\n|---|---|---|---|\n")
	for _, s := range config.Settings {
		b.WriteString("| `" + s.Env + "` | `" + s.YAML + "` | " + s.Default + " | " + strings.ReplaceAll(s.Doc, "|", `\|`) + " |\n")
	}
	return b.String()
}

// TestREADMESettings keeps the README's configuration table identical to
// config.Settings, so the documentation cannot drift from the code.
func TestREADMESettings(t *testing.T) {
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	before, rest, ok1 := strings.Cut(readme, settingsBegin)
	current, after, ok2 := strings.Cut(rest, settingsEnd)
	if !ok1 || !ok2 {
		t.Fatalf("README.md lacks the markers %q and %q", settingsBegin, settingsEnd)
	}
	want := "\n" + settingsTable()
	if current != want {
		if !*update {
			t.Fatalf("README.md's settings table is out of date; run go test ./cmd/commonplace -run TestREADME -update")
		}
		if err := os.WriteFile(readmePath, []byte(before+settingsBegin+want+settingsEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range config.Settings {
		if !strings.Contains(readme, s.Env) && !*update {
			t.Errorf("README.md does not mention %s", s.Env)
		}
	}
}

// TestREADMECommands checks that the CLI reference names every command.
func TestREADMECommands(t *testing.T) {
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	root := (&app{}).rootCommand()
	for _, c := range root.Commands() {
		paths := []string{c.CommandPath()}
		for _, sub := range c.Commands() {
			paths = append(paths, sub.CommandPath())
		}
		for _, p := range paths {
			if !strings.Contains(string(data), p) {
				t.Errorf("README.md does not document %q", p)
			}
		}
	}
	for _, o := range overrides {
		if !strings.Contains(string(data), "--"+o.flag) {
			t.Errorf("README.md does not document --%s", o.flag)
		}
	}
}
