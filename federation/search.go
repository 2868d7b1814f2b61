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

// IndexMissing indexes, in batches, the posts stored before the search
// index existed; every replica may run it at start (indexing twice gives
// the same index).
func (s *Service) IndexMissing(ctx context.Context) {
	var after int64
	total := 0
	for ctx.Err() == nil {
		batch, err := s.DB.UnindexedObjects(ctx, after, 500)
		if err != nil {
			if ctx.Err() == nil {
				s.Log.Error("search index: read posts", "err", err)
			}
			return
		}
		if len(batch) == 0 {
			break
		}
		err = s.DB.Tx(ctx, func(tx *storage.DB) error {
			for _, o := range batch {
				if err := indexObject(ctx, tx, o.ID, o.Name, o.Summary, o.Content); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			s.Log.Error("search index: index posts", "err", err)
			return
		}
		after, total = batch[len(batch)-1].ID, total+len(batch)
	}
	if total > 0 {
		s.Log.Info("search index: posts indexed", "count", total)
	}
}
