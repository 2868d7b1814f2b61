package federation

import "strings"

// Paragraphs splits plain text into paragraphs at blank lines, so that
// they can be shown as <p> elements with their text escaped.
func Paragraphs(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var out []string
	for _, p := range strings.Split(text, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
