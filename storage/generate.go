package storage

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Generate fills a database with a large instance for the query-plan test
// and commonplace-bench's scale scenario, in a few set-based statements
// (a million posts take minutes, not the hours a row at a time would).

// GenerateOptions is the instance to generate.
type GenerateOptions struct {
	// Posts, remote Actors (each a member of one community) and local
	// Communities (named c0, c1, ...).
	Posts, Actors, Communities int
	// Base is the local URL prefix ("https://here.test"): the
	// communities' ids are Base/c/cN, as federation.URLs names them.
	Base string
	// PublicKeyPEM and PrivateKeyPEM are the key every generated
	// community signs with (a benchmark's server serves and signs as
	// them); none if empty.
	PublicKeyPEM, PrivateKeyPEM string
	// Viewer is a local member's actor (0: one named viewer is made
	// without an account): they follow five communities and a tag.
	Viewer int64
}

// Generated is what Generate made.
type Generated struct {
	Viewer    int64 // the member
	Community int64 // c0's actor: a thousandth of the posts, the thread
	// Thread is the context of c0's post with 500 replies (ThreadRoot).
	Thread     string
	ThreadRoot int64
	// Tag is the tag the viewer follows (a fiftieth of the tagged posts).
	Tag string
	// Words are search words found in about a thousandth (Rare) and a
	// hundredth (Common) of the posts, in every community.
	RareWord, CommonWord string
	// LimitedDomain is the domain of remote authors a limit rule covers
	// (a hundredth of the authors).
	LimitedDomain string
}

// Generate fills db, which must hold no generated instance yet:
// o.Actors remote actors on 100 domains (d0.test ...), each a member of
// one community; the viewer a member of five communities and a follower
// of a tag and of 20 people; o.Posts posts spread over authors and
// communities, every fifth a reply to the post before it, every tenth
// tagged, every seventh liked, every third boosted, all indexed for
// search; one thread of 500 replies; a limit rule on one domain. Then it
// runs ANALYZE, as a live database would have.
func (db *DB) Generate(ctx context.Context, o GenerateOptions) (*Generated, error) {
	g := db.Gorm(ctx)
	var err error
	exec := func(q string, args ...any) {
		if err == nil {
			if e := g.Exec(q, args...).Error; e != nil {
				err = fmt.Errorf("generate: %w\n%s", e, q)
			}
		}
	}
	scan := func(dst any, q string, args ...any) {
		if err == nil {
			if e := g.Raw(q, args...).Scan(dst).Error; e != nil {
				err = fmt.Errorf("generate: %w\n%s", e, q)
			}
		}
	}
	seq := func(n int) string {
		return fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d)`, n-1)
	}
	base := strings.TrimRight(o.Base, "/")
	domain := strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://")
	now := time.Now().UTC()
	out := &Generated{Viewer: o.Viewer, Tag: "tag7", RareWord: "topic7", CommonWord: "theme7", LimitedDomain: "d99.test"}

	exec(seq(o.Communities)+` INSERT INTO actors (uri, type, username, domain, local, url, inbox_uri, outbox_uri, shared_inbox_uri,
			followers_uri, following_uri, featured_uri, key_id, public_key_pem, private_key_pem, display_name, published_at, created_at, updated_at)
		SELECT ? || i, 'Group', 'c' || i, ?, TRUE, ? || i, ? || i || '/inbox', ? || i || '/outbox', ?,
			? || i || '/followers', ? || i || '/following', ? || i || '/featured', ? || i || '#main-key', ?, ?, 'Community ' || i, ?, ?, ?
		FROM n ORDER BY i`,
		base+"/c/c", domain, base+"/c/c", base+"/c/c", base+"/c/c", base+"/inbox",
		base+"/c/c", base+"/c/c", base+"/c/c", base+"/c/c", o.PublicKeyPEM, o.PrivateKeyPEM, now, now, now)
	scan(&out.Community, `SELECT id FROM actors WHERE uri = ?`, base+"/c/c0")
	exec(seq(o.Communities)+` INSERT INTO communities (actor_id, title, created_at, updated_at)
		SELECT ? + i, 'Community ' || i, ?, ? FROM n ORDER BY i`, out.Community, now, now)
	if out.Viewer == 0 {
		exec(`INSERT INTO actors (uri, type, username, domain, local, created_at, updated_at)
			VALUES (?, 'Person', 'viewer', ?, TRUE, ?, ?)`, base+"/u/viewer", domain, now, now)
		scan(&out.Viewer, `SELECT id FROM actors WHERE uri = ?`, base+"/u/viewer")
	}
	var first int64
	exec(seq(o.Actors)+` INSERT INTO actors (uri, type, username, domain, inbox_uri, shared_inbox_uri, key_id, created_at, updated_at)
		SELECT 'https://d' || (i % 100) || '.test/users/u' || i, 'Person', 'u' || i, 'd' || (i % 100) || '.test',
			'https://d' || (i % 100) || '.test/users/u' || i || '/inbox', 'https://d' || (i % 100) || '.test/inbox',
			'https://d' || (i % 100) || '.test/users/u' || i || '#main-key', ?, ? FROM n ORDER BY i`, now, now)
	scan(&first, `SELECT id FROM actors WHERE uri = 'https://d0.test/users/u0'`)
	exec(seq(o.Actors)+` INSERT INTO memberships (community_actor_id, member_actor_id, state, follow_uri, accepted_at, created_at, updated_at)
		SELECT ? + (i % ?), ? + i, 'accepted', 'https://d' || (i % 100) || '.test/follows/' || i, ?, ?, ? FROM n ORDER BY i`,
		out.Community, o.Communities, first, now, now, now)
	exec(seq(5)+` INSERT INTO memberships (community_actor_id, member_actor_id, state, accepted_at, created_at, updated_at)
		SELECT ? + i, ?, 'accepted', ?, ?, ? FROM n`, out.Community, out.Viewer, now, now, now)
	exec(`INSERT INTO followed_tags (actor_id, tag, created_at) VALUES (?, ?, ?)`, out.Viewer, out.Tag, now)
	// The viewer follows 20 people.
	exec(seq(20)+` INSERT INTO memberships (community_actor_id, member_actor_id, state, accepted_at, created_at, updated_at)
		SELECT ? + i * 7, ?, 'accepted', ?, ?, ? FROM n`, first, out.Viewer, now, now, now)
	exec(`INSERT INTO domain_rules (kind, domain, severity, created_at, updated_at) VALUES ('block', ?, 'limit', ?, ?)`, out.LimitedDomain, now, now)
	// Posts: every fifth replies to the post before it (same thread);
	// words for search, as frequent in each community as in all (a
	// thousandth and a hundredth of the posts).
	var firstPost int64
	exec(seq(o.Posts)+` INSERT INTO objects (uri, type, author_actor_id, community_actor_id, in_reply_to_uri, context_uri, content, published_at, created_at, updated_at)
		SELECT 'https://d' || (i % 100) || '.test/p/' || i, 'Note', ? + (i % ?), ? + (i % ?),
			CASE WHEN i % 5 = 4 THEN 'https://d' || ((i - 1) % 100) || '.test/p/' || (i - 1) ELSE '' END,
			'https://d' || ((i - (i % 5 / 4)) % 100) || '.test/p/' || (i - (i % 5 / 4)),
			'<p>Post ' || i || ' on topic' || (i / ? % 1000) || ' and theme' || (i / ? % 100) || '</p>', ?, ?, ? FROM n ORDER BY i`,
		first, o.Actors, out.Community, o.Communities, o.Communities, o.Communities, now, now, now)
	scan(&firstPost, `SELECT id FROM objects WHERE uri = 'https://d0.test/p/0'`)
	exec(`INSERT INTO object_tags (object_id, tag) SELECT id, 'tag' || (id / 10 % 50) FROM objects WHERE id % 10 = 0`)
	// Every seventh post is liked.
	exec(`INSERT INTO likes (uri, actor_id, object_id, created_at)
		SELECT 'https://d0.test/likes/' || id, ? + (id % ?), id, ? FROM objects WHERE id % 7 = 0`, first, o.Actors, now)
	// Every third post is boosted.
	exec(`INSERT INTO reblogs (uri, actor_id, object_id, created_at)
		SELECT 'https://d0.test/announces/' || id, ? + (id % ?), id, ? FROM objects WHERE id % 3 = 0`, first, o.Actors, now)
	// A thread of 500 replies to post 0, in c0.
	out.Thread, out.ThreadRoot = "https://d0.test/p/0", firstPost
	exec(seq(500)+` INSERT INTO objects (uri, type, author_actor_id, community_actor_id, in_reply_to_uri, in_reply_to_id, context_uri, content, published_at, created_at, updated_at)
		SELECT 'https://d1.test/r/' || i, 'Note', ? + (i % ?), ?, ?, ?, ?, '<p>Reply ' || i || ' on topic' || (i / 7 % 1000) || '</p>', ?, ?, ? FROM n ORDER BY i`,
		first, o.Actors, out.Community, out.Thread, firstPost, out.Thread, now, now, now)
	// Each top-level post's thread activity, as storage.CreateObject
	// keeps it (after statistics: without, PostgreSQL joins the two as
	// if objects were empty, a loop over every pair).
	exec(`ANALYZE objects`)
	exec(`UPDATE objects SET last_activity_id = t.last
		FROM (SELECT context_uri, MAX(id) AS last FROM objects GROUP BY context_uri) t
		WHERE objects.in_reply_to_uri = '' AND objects.context_uri = t.context_uri`)
	// The search index, as the federation layer writes it (plain text).
	text := `substr(content, 4, length(content) - 7)`
	if db.dialect == Postgres {
		exec(`INSERT INTO object_texts (object_id, title, body) SELECT id, '', ` + text + ` FROM objects`)
	} else {
		exec(`INSERT INTO object_fts (rowid, title, body) SELECT id, '', ` + text + ` FROM objects`)
	}
	if db.dialect == Postgres {
		// As autovacuum would have, on every table (the empty ones too:
		// without statistics the planner guesses they hold rows): the
		// search index's pending entries merged (the planner shuns a GIN
		// index with many), the visibility map set (index-only scans),
		// statistics. By name: a bare VACUUM would take every schema of
		// the database.
		var tables []string
		scan(&tables, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`)
		if len(tables) > 0 {
			exec(`VACUUM ANALYZE ` + strings.Join(tables, ", "))
		}
	} else {
		exec(`ANALYZE`)
	}
	return out, err
}
