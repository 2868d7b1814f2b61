package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHTML(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain paragraph", "<p>Hello <strong>world</strong></p>", "<p>Hello <strong>world</strong></p>"},
		{"script removed with content", `<p>a</p><script>alert(1)</script><p>b</p>`, "<p>a</p><p>b</p>"},
		{"style removed", `<style>p{color:red}</style><p style="color:red">x</p>`, "<p>x</p>"},
		{"iframe and img removed", `<iframe src="https://evil.example"></iframe><img src="https://evil.example/x.png" onerror="alert(1)">ok`, "ok"},
		{"event handlers removed", `<p onclick="alert(1)">x</p><span onmouseover="x()">y</span>`, "<p>x</p><span>y</span>"},
		{"javascript href removed", `<a href="javascript:alert(1)">click</a>`, "click"},
		{"entity-encoded javascript href removed", `<a href="jav&#x09;ascript:alert(1)">click</a>`, "click"},
		{"data href removed", `<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>`, "x"},
		{"relative href removed", `<a href="/admin">x</a>`, "x"},
		{"link rel forced", `<a href="https://example.org/" rel="me" target="_self">x</a>`,
			`<a href="https://example.org/" rel="nofollow noreferrer noopener" target="_blank">x</a>`},
		{"classes filtered", `<span class="h-card evil invisible">x</span><span class="evil">y</span>`,
			`<span class="h-card invisible">x</span><span>y</span>`},
		{"mention kept", `<span class="h-card"><a href="https://gts.test/@bo" class="u-url mention" rel="nofollow noreferrer noopener" target="_blank">@<span>bo</span></a></span>`,
			`<span class="h-card"><a class="u-url mention" href="https://gts.test/@bo" rel="nofollow noreferrer noopener" target="_blank">@<span>bo</span></a></span>`},
		{"hashtag kept", `<a href="https://m.example/tags/x" class="mention hashtag" rel="tag">#<span>x</span></a>`,
			`<a class="mention hashtag" href="https://m.example/tags/x" rel="nofollow noreferrer noopener" target="_blank">#<span>x</span></a>`},
		{"lists and quotes", `<blockquote><ol start="3"><li>a</li></ol><ul><li>b</li></ul></blockquote>`,
			`<blockquote><ol start="3"><li>a</li></ol><ul><li>b</li></ul></blockquote>`},
		{"headings and code", `<h2>T</h2><pre><code>x &lt; y</code></pre>`, `<h2>T</h2><pre><code>x &lt; y</code></pre>`},
		{"unknown elements unwrapped", `<div><table><tr><td>cell</td></tr></table></div>`, "cell"},
		{"nested junk", `<p><b><i><u><del><svg><script>alert(1)</script></svg><math><mi>x</mi></math></del></u></i></b></p>`,
			`<p><b><i><u><del>x</del></u></i></b></p>`},
		{"br", "a<br>b<br/>c", "a<br/>b<br/>c"},
		{"broken markup closed", `<p><a href="https://e.example/">x`, `<p><a href="https://e.example/" rel="nofollow noreferrer noopener" target="_blank">x</a></p>`},
		{"stray closing tags dropped", `</p></blockquote></li></ul></div><b>x`, "<p></p><b>x</b>"},
		{"comments removed", `a<!-- <script>alert(1)</script> -->b`, "ab"},
		{"attribute breakout", `<span class='mention" onclick="alert(1)'>x</span>`, `<span>x</span>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := HTML(tc.in); got != tc.want {
				t.Errorf("HTML(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestHTMLNeverLeaksActiveContent(t *testing.T) {
	inputs := []string{
		`<scr<script>ipt>alert(1)</script>`,
		`<a href="JaVaScRiPt:alert(1)">x</a>`,
		`<a href=" javascript:alert(1)">x</a>`,
		`<svg onload=alert(1)>`,
		`<img src=x onerror=alert(1)//`,
		`<object data="x"></object><embed src="x">`,
		`<a href="https://ok.example/" onclick="alert(1)">x</a>`,
		`<form action="https://e.example"><input name=x></form>`,
		`<base href="https://evil.example/">`,
		`<meta http-equiv="refresh" content="0;url=https://evil.example">`,
	}
	for _, in := range inputs {
		got := strings.ToLower(HTML(in))
		for _, bad := range []string{"<script", "javascript:", "onerror", "onload", "onclick", "<svg", "<img", "<object", "<embed", "<form", "<input", "<base", "<meta", "<iframe"} {
			if strings.Contains(got, bad) {
				t.Errorf("HTML(%q) = %q contains %q", in, got, bad)
			}
		}
	}
}

func TestHTMLLargeInput(t *testing.T) {
	unit := `<p>Some <a href="https://example.org/x" class="u-url mention junk">@x</a> text &amp; <script>bad()</script><span class="invisible">y</span></p>`
	in := strings.Repeat(unit, 100*1024/len(unit)+1)
	if len(in) < 100*1024 {
		t.Fatal("input too small")
	}
	got := HTML(in)
	if strings.Contains(got, "script") || strings.Contains(got, "junk") {
		t.Error("large input not sanitised")
	}
	if n := strings.Count(got, `<a class="u-url mention" href=`); n != strings.Count(in, unit) {
		t.Errorf("mentions kept: %d", n)
	}

	// Beyond MaxHTMLBytes the input is cut, not rejected, and not split
	// inside a character.
	huge := strings.Repeat("é", MaxHTMLBytes)
	if out := HTML(huge); !utf8.ValidString(out) || len(out) > MaxHTMLBytes {
		t.Errorf("huge input: valid %v len %d", utf8.ValidString(out), len(out))
	}
}

func TestPlainText(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"tags stripped", "<p>Hello <b>world</b></p>", 0, "Hello world"},
		{"blocks separated", "<p>one</p><p>two</p>three<br>four", 0, "one two three four"},
		{"entities decoded once", "Fish &amp; chips &amp;lt;3 &quot;q&quot;", 0, `Fish & chips &lt;3 "q"`},
		{"whitespace collapsed", "  a\n\t b\u00a0\u00a0c  ", 0, "a b c"},
		{"script content dropped", "a <script>alert(1)</script>b", 0, "a b"},
		{"control characters dropped", "a\x00b\x07c", 0, "abc"},
		{"bidi controls dropped", "admin\u202egnp.exe\u202c \u2067x\u2069\u200e\u200f\u061c", 0, "admingnp.exe x"},
		{"zero-width spaces dropped", "ad\u200bmin\ufeff\u2060", 0, "admin"},
		{"joiners kept", "\U0001F469\u200d\U0001F4BB \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", 0, "\U0001F469\u200d\U0001F4BB \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"},
		{"newlines collapsed", "Eve\n\nAdmin\r\nof the server", 0, "Eve Admin of the server"},
		{"text with angle brackets", "1 &lt; 2 &gt; 0", 0, "1 < 2 > 0"},
		{"cut at a word", "<p>The quick brown fox jumps</p>", 16, "The quick brown…"},
		{"cut a long word", "Donaudampfschifffahrt", 8, "Donauda…"},
		{"short enough", "short", 5, "short"},
		{"multibyte", "ééééé", 3, "éé…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PlainText(tc.in, tc.max)
			if got != tc.want {
				t.Errorf("PlainText(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
			if tc.max > 0 && utf8.RuneCountInString(got) > tc.max {
				t.Errorf("longer than %d runes: %q", tc.max, got)
			}
		})
	}
}

func FuzzHTML(f *testing.F) {
	f.Add(`<a href="https://x.example" class="mention x">@<span class="invisible">a</span></a>`)
	f.Add(`<p onclick=x><script>alert(1)</script>`)
	f.Add("<A ClAss>")
	f.Fuzz(func(t *testing.T, in string) {
		out := HTML(in)
		low := strings.ToLower(out)
		if strings.Contains(low, "<script") || strings.Contains(low, "javascript:") {
			t.Fatalf("HTML(%q) = %q", in, out)
		}
		// Sanitised output is a fixed point: nothing in it is left for a
		// second pass to remove, and nothing is left open.
		if again := HTML(out); again != out {
			t.Fatalf("not idempotent:\n in %q\nout %q\n2nd %q", in, out, again)
		}
		if s := PlainText(in, 50); utf8.RuneCountInString(s) > 50 {
			t.Fatalf("PlainText too long: %q", s)
		}
	})
}
