package federation

import (
	"testing"

	"github.com/commonplace/commonplace/federation/vocab"
)

func TestParseKindConvention(t *testing.T) {
	for _, c := range []struct {
		in                string
		kind, title, body string
		ok                bool
	}{
		{"How do I?", "", "", "How do I?", false},
		{"#question How do I?", "question", "", "How do I?", true},
		{"#Question How do I?\n\nDetails here.", "question", "How do I?", "Details here.", true},
		{"#story\nWe tried.\nIt worked.", "story", "We tried.", "It worked.", true},
		{"#questions are welcome", "", "", "#questions are welcome", false},
		{"#discussion Title\n\nBody", "", "Title", "Body", true},
		{"#event", "event", "", "", true},
	} {
		kind, title, body, ok := ParseKindConvention(c.in)
		if kind != c.kind || title != c.title || body != c.body || ok != c.ok {
			t.Errorf("%q: got %q %q %q %v", c.in, kind, title, body, ok)
		}
	}
}

func TestObjectKind(t *testing.T) {
	for _, c := range []struct {
		obj  vocab.Object
		kind string
	}{
		{vocab.Object{PostKind: "resource"}, "resource"},
		{vocab.Object{PostKind: "nonsense"}, ""},
		{vocab.Object{PostKind: "question", InReplyTo: "https://x/1"}, ""},
		{vocab.Object{Content: `<p><span class="h-card" translate="no"><a href="https://a/c/p" class="u-url mention">@<span>practice</span></a></span> #question Where is it?</p>`}, "question"},
		{vocab.Object{Content: `<p><span class="h-card"><a href="https://a/c/p" class="u-url mention">@<span>practice</span></a></span> <a href="https://m/tags/case" class="mention hashtag" rel="tag">#<span>case</span></a> Ours</p>`}, "case"},
		{vocab.Object{Content: `<p>Is this a #question?</p>`}, ""},
	} {
		if got := objectKind(&c.obj); got != c.kind {
			t.Errorf("%+v: kind %q, want %q", c.obj, got, c.kind)
		}
	}
}
