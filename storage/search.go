package storage

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/fts5"
	"gorm.io/gorm"
)

// Full-text search over posts and replies (issue 15, item 4): SQLite's
// FTS5 (object_fts) and PostgreSQL's text search (object_texts), both
// with English stemming, ranked (bm25; ts_rank_cd with the title
// weighted above the text), with highlighted snippets. The index holds
// the plain text the federation layer gives it, kept in step as posts are
// stored, edited and deleted.

// registerSQLiteExtensions loads FTS5 into every SQLite connection opened
// after it (the driver's WebAssembly build has it, unregistered).
var registerSQLiteExtensions = sync.OnceFunc(func() { sqlite3.AutoExtension(fts5.Register) })

// Snippets mark the words found between MarkStart and MarkEnd, control
// characters no post's plain text holds, for pages to turn into markup
// after escaping the rest.
const (
	MarkStart = "\x01"
	MarkEnd   = "\x02"
)

// MaxIndexedText bounds the text indexed for one post (a post is at most
// 10,000 characters; a remote one may be longer).
const MaxIndexedText = 20000

// IndexObject puts (or replaces) an object's title and plain text in the
// search index.
func (db *DB) IndexObject(ctx context.Context, id int64, title, text string) error {
	if len(text) > MaxIndexedText {
		text = text[:MaxIndexedText]
	}
	var err error
	if db.dialect == Postgres {
		err = db.Gorm(ctx).Exec(`INSERT INTO object_texts (object_id, title, body) VALUES (?, ?, ?)
			ON CONFLICT (object_id) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body`, id, title, text).Error
	} else {
		err = db.Gorm(ctx).Exec(`DELETE FROM object_fts WHERE rowid = ?`, id).Error
		if err == nil {
			err = db.Gorm(ctx).Exec(`INSERT INTO object_fts (rowid, title, body) VALUES (?, ?, ?)`, id, title, text).Error
		}
	}
	return wrap(err, "index object %d", id)
}

// unindexObject takes an object out of the search index.
func (db *DB) unindexObject(ctx context.Context, id int64) error {
	table, col := "object_fts", "rowid"
	if db.dialect == Postgres {
		table, col = "object_texts", "object_id"
	}
	return wrap(db.Gorm(ctx).Exec(`DELETE FROM `+table+` WHERE `+col+` = ?`, id).Error, "unindex object %d", id)
}

// SearchFilter is a full-text search.
type SearchFilter struct {
	// Query is what the reader typed: its words (letters and digits) are
	// all looked for, stemmed.
	Query string
	// CommunityActorID limits the search to one community's posts and
	// replies (0: anywhere).
	CommunityActorID int64
	// Kind limits it to one kind of post ("question", ...; "" any).
	Kind string
	// Tag limits it to posts with a hashtag (lower-case, no '#').
	Tag string
	// Viewer is who reads (nil: a signed-out reader): only what they may
	// read is found.
	Viewer *Actor
	// AnyWord finds posts with any of the words, not all of them.
	AnyWord bool
	// TopLevel finds posts only, no replies; Exclude leaves out one post.
	TopLevel bool
	Exclude  int64
	Offset   int
	Limit    int
}

// SearchHit is one post found, best first.
type SearchHit struct {
	ObjectID int64
	Rank     float64
	// Snippet is a part of the text with the words found between
	// MarkStart and MarkEnd.
	Snippet string
}

// maxQueryWords bounds the words of one search.
const maxQueryWords = 12

var wordRe = regexp.MustCompile(`[\p{L}\p{N}]+`)

// searchWords are the words of a query, lower-case, at most
// maxQueryWords of at most 64 bytes.
func searchWords(q string) []string {
	words := wordRe.FindAllString(strings.ToLower(q), maxQueryWords)
	out := words[:0]
	for _, w := range words {
		if len(w) <= 64 {
			out = append(out, w)
		}
	}
	return out
}

// Search finds posts and replies by their words, best first, with a
// snippet each. A query with no words finds nothing.
func (db *DB) Search(ctx context.Context, f SearchFilter) ([]SearchHit, error) {
	words := searchWords(f.Query)
	if len(words) == 0 || f.Limit <= 0 {
		return nil, nil
	}
	var hits []SearchHit
	var err error
	if db.dialect == Postgres {
		hits, err = db.searchPostgres(ctx, words, f)
	} else {
		hits, err = db.searchSQLite(ctx, words, f)
	}
	return hits, wrap(err, "search %q", f.Query)
}

// searchFilters are the conditions on the object found (o) besides its
// words.
func searchFilters(f SearchFilter) (string, []any) {
	vis, args := visibleSQL(f.Viewer)
	conds := []string{"o.deleted_at IS NULL", strings.ReplaceAll(vis, "objects.", "o.")}
	if f.CommunityActorID != 0 {
		conds = append(conds, "o.community_actor_id = ?")
		args = append(args, f.CommunityActorID)
	}
	if f.Kind != "" {
		conds = append(conds, "o.kind = ?")
		args = append(args, f.Kind)
	}
	if f.Tag != "" {
		conds = append(conds, "EXISTS (SELECT 1 FROM object_tags st WHERE st.object_id = o.id AND st.tag = ?)")
		args = append(args, strings.ToLower(f.Tag))
	}
	if f.TopLevel {
		conds = append(conds, "o.in_reply_to_uri = ''")
	}
	if f.Exclude != 0 {
		conds = append(conds, "o.id <> ?")
		args = append(args, f.Exclude)
	}
	return strings.Join(conds, " AND "), args
}

func (db *DB) searchSQLite(ctx context.Context, words []string, f SearchFilter) ([]SearchHit, error) {
	// Every word quoted: FTS5's query syntax (NEAR, *, column filters)
	// is not the reader's to use.
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = `"` + w + `"`
	}
	sep := " "
	if f.AnyWord {
		sep = " OR "
	}
	match := strings.Join(quoted, sep)
	conds, args := searchFilters(f)
	var hits []SearchHit
	err := db.Gorm(ctx).Raw(`SELECT o.id AS object_id, bm25(object_fts, 4.0, 1.0) AS rank
		FROM object_fts JOIN objects o ON o.id = object_fts.rowid
		WHERE object_fts MATCH ? AND `+conds+`
		ORDER BY rank, o.id DESC LIMIT ? OFFSET ?`,
		append(append([]any{match}, args...), f.Limit, f.Offset)...).Scan(&hits).Error
	if err != nil || len(hits) == 0 {
		return nil, err
	}
	// Snippets for the page only, not for every post that matched.
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.ObjectID
	}
	var snips []struct {
		ID      int64
		Snippet string
	}
	err = db.Gorm(ctx).Raw(`SELECT rowid AS id, snippet(object_fts, 1, ?, ?, '…', 24) AS snippet
		FROM object_fts WHERE object_fts MATCH ? AND rowid IN ?`, MarkStart, MarkEnd, match, ids).Scan(&snips).Error
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]string, len(snips))
	for _, s := range snips {
		byID[s.ID] = s.Snippet
	}
	for i := range hits {
		hits[i].Snippet = byID[hits[i].ObjectID]
	}
	return hits, nil
}

// headlineOptions are ts_headline's: the marks, and up to two fragments
// of about 12 to 30 words.
const headlineOptions = `StartSel="` + MarkStart + `", StopSel="` + MarkEnd + `", MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "`

func (db *DB) searchPostgres(ctx context.Context, words []string, f SearchFilter) ([]SearchHit, error) {
	conds, args := searchFilters(f)
	text := strings.Join(words, " ")
	parse := "plainto_tsquery"
	if f.AnyWord {
		// The words are letters and digits only, safe in to_tsquery.
		text, parse = strings.Join(words, " | "), "to_tsquery"
	}
	// The headline is made for the page's posts only, after the ranking.
	var hits []SearchHit
	err := db.Gorm(ctx).Raw(fmt.Sprintf(`SELECT h.object_id, h.rank,
			ts_headline('english', t.body, %[1]s('english', ?), ?) AS snippet
		FROM (SELECT t.object_id, ts_rank_cd(t.tsv, q) AS rank
			FROM object_texts t JOIN objects o ON o.id = t.object_id, %[1]s('english', ?) q
			WHERE t.tsv @@ q AND %[2]s
			ORDER BY rank DESC, t.object_id DESC LIMIT ? OFFSET ?) h
		JOIN object_texts t ON t.object_id = h.object_id
		ORDER BY h.rank DESC, h.object_id DESC`, parse, conds),
		append(append([]any{text, headlineOptions, text}, args...), f.Limit, f.Offset)...).Scan(&hits).Error
	return hits, err
}

// matchingText restricts a query on objects to those whose indexed text
// holds every word of query (none if it has no words): the search index
// finds them, not a reading of every post.
func (db *DB) matchingText(q *gorm.DB, query string) *gorm.DB {
	words := searchWords(query)
	if len(words) == 0 {
		return q.Where("1 = 0")
	}
	if db.dialect == Postgres {
		return q.Where("objects.id IN (SELECT object_id FROM object_texts WHERE tsv @@ plainto_tsquery('english', ?))", strings.Join(words, " "))
	}
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = `"` + w + `"`
	}
	return q.Where("objects.id IN (SELECT rowid FROM object_fts WHERE object_fts MATCH ?)", strings.Join(quoted, " "))
}

// UnindexedObjects returns live objects with ids above afterID that the
// search index lacks (posts stored before it existed), in id order, at
// most limit.
func (db *DB) UnindexedObjects(ctx context.Context, afterID int64, limit int) ([]Object, error) {
	missing := "NOT EXISTS (SELECT 1 FROM object_fts f WHERE f.rowid = objects.id)"
	if db.dialect == Postgres {
		missing = "NOT EXISTS (SELECT 1 FROM object_texts t WHERE t.object_id = objects.id)"
	}
	var out []Object
	err := db.Gorm(ctx).Select("id", "name", "summary", "content").
		Where("id > ? AND deleted_at IS NULL AND "+missing, afterID).Order("id").Limit(limit).Find(&out).Error
	return out, wrap(err, "unindexed objects after %d", afterID)
}

// RelatedPosts returns up to limit live top-level posts of o's community
// that viewer may read, related to o: those sharing most of its hashtags
// first, then those sharing words of its title (any of them, longer than
// three letters), best first. o itself is left out.
func (db *DB) RelatedPosts(ctx context.Context, o *Object, viewer *Actor, limit int) ([]int64, error) {
	if o.CommunityActorID == nil || limit <= 0 {
		return nil, nil
	}
	vis, vargs := visibleSQL(viewer)
	var ids []int64
	err := db.Gorm(ctx).Raw(`SELECT t.object_id FROM object_tags t JOIN objects ON objects.id = t.object_id
		WHERE t.tag IN (SELECT tag FROM object_tags WHERE object_id = ?) AND t.object_id <> ?
			AND objects.community_actor_id = ? AND objects.in_reply_to_uri = '' AND objects.deleted_at IS NULL AND `+vis+`
		GROUP BY t.object_id ORDER BY COUNT(*) DESC, t.object_id DESC LIMIT ?`,
		append(append([]any{o.ID, o.ID, *o.CommunityActorID}, vargs...), limit)...).Scan(&ids).Error
	if err != nil {
		return nil, wrap(err, "related posts of %d", o.ID)
	}
	var words []string
	for _, w := range searchWords(o.Name) {
		if len([]rune(w)) > 3 {
			words = append(words, w)
		}
	}
	if len(ids) >= limit || len(words) == 0 {
		return ids, nil
	}
	hits, err := db.Search(ctx, SearchFilter{Query: strings.Join(words, " "), AnyWord: true, CommunityActorID: *o.CommunityActorID,
		TopLevel: true, Exclude: o.ID, Viewer: viewer, Limit: limit})
	if err != nil {
		return nil, err
	}
	for _, h := range hits {
		if len(ids) < limit && !slices.Contains(ids, h.ObjectID) {
			ids = append(ids, h.ObjectID)
		}
	}
	return ids, nil
}
