package federation

import (
	"context"
	"strings"

	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/storage"
)

// Full-text search (issue 15, item 4): every post and reply is indexed by
// its title, content warning and plain text when it is stored and again
// when it is edited; storage takes it out when it is deleted.

// indexObject puts a post's words in the search index.
func indexObject(ctx context.Context, tx *storage.DB, id int64, name, summary, content string) error {
	// A space before every tag, so that paragraphs and list items do not
	// run their words together once the tags are gone.
	text := sanitize.PlainText(strings.ReplaceAll(content, "<", " <"), storage.MaxIndexedText)
	if summary != "" {
		text = summary + " " + text
	}
	return tx.IndexObject(ctx, id, name, text)
}
