package web

import (
	"bytes"
	"io/fs"
	"strings"
	"testing"
)

func TestEveryPageRenders(t *testing.T) {
	tmpl, err := New()
	if err != nil {
		t.Fatal(err)
	}
	page := Page{Title: "T<", Domain: "example.org"}
	for name, data := range map[string]any{
		"home":      Home{Page: page, Communities: []Community{{Name: "a", Title: "A", Summary: []string{"<b>x</b>"}}}},
		"community": CommunityPage{Page: page, Community: Community{Name: "a", Title: "A", Closed: true, Members: 1}},
		"member":    MemberPage{Page: page, Name: "m"},
		"error":     ErrorPage{Page: page, Status: 404, Message: "not found"},
	} {
		var buf bytes.Buffer
		if err := tmpl.Render(&buf, name, data); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		out := buf.String()
		if !strings.Contains(out, "<title>T&lt; · example.org</title>") {
			t.Errorf("%s: no escaped title:\n%s", name, out)
		}
		if strings.Contains(out, "<b>x</b>") || strings.Contains(out, "<script") {
			t.Errorf("%s: unescaped HTML:\n%s", name, out)
		}
	}
	if err := tmpl.Render(&bytes.Buffer{}, "nope", nil); err == nil {
		t.Error("rendering an unknown page succeeded")
	}
}

func TestParagraphs(t *testing.T) {
	got := Paragraphs("one\r\nline\n\n\n  two  \n\n")
	if len(got) != 2 || got[0] != "one\nline" || got[1] != "two" {
		t.Errorf("%q", got)
	}
	if Paragraphs("  ") != nil {
		t.Error("blank text has paragraphs")
	}
}

func TestStatic(t *testing.T) {
	if _, err := fs.Stat(Static(), "style.css"); err != nil {
		t.Fatal(err)
	}
}
