package storage

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

// The query plans behind the pages of a large instance: the community
// outbox, the timelines (home, public, tag, community), a thread of 500
// replies, the followers collection and the web community page. Each
// storage call is made for real on a generated instance, every SELECT it
// issues is recorded, and the database's plan for it must not read a large
// table from end to end.
//
// The size is small by default so that CI stays quick;
// COMMONPLACE_PLAN_POSTS raises it (e.g. 1000000, with a tenth as many
// remote members and a thousandth as many communities). The planners'
// choices are checked after ANALYZE, as on a live database.

// largeTables are the tables that grow with the instance. Those holding
// at least largeRows rows when the plans are checked count as large: below
// that, reading a table whole is what a planner rightly prefers (the
// default, CI-sized instance has fewer remote actors than that).
var largeTables = []string{"objects", "actors", "memberships", "object_tags", "activities", "deliveries", "likes", "reblogs"}

const largeRows = 10000

// recorded is one statement with its arguments.
type recorded struct {
	sql  string
	vars []any
}

// sqlRecorder keeps every statement GORM runs on a handle, through
// callbacks after its query, row and raw processors.
type sqlRecorder struct {
	mu    sync.Mutex
	stmts []recorded
}

func (r *sqlRecorder) register(t *testing.T, g *gorm.DB) {
	rec := func(tx *gorm.DB) {
		if tx.DryRun {
			return // a subquery being built into its statement
		}
		r.mu.Lock()
		r.stmts = append(r.stmts, recorded{tx.Statement.SQL.String(), append([]any(nil), tx.Statement.Vars...)})
		r.mu.Unlock()
	}
	cb := g.Callback()
	for _, err := range []error{
		cb.Query().After("gorm:query").Register("plans:record", rec),
		cb.Row().After("gorm:row").Register("plans:record", rec),
		cb.Raw().After("gorm:raw").Register("plans:record", rec),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (r *sqlRecorder) take() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stmts
	r.stmts = nil
	return s
}

// planSize is the generated instance's size.
type planSize struct{ posts, actors, communities int }

func planSizeFromEnv(t *testing.T) planSize {
	n := 30000
	if v := os.Getenv("COMMONPLACE_PLAN_POSTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 2000 {
			t.Fatalf("COMMONPLACE_PLAN_POSTS=%q: want a number ≥ 2000", v)
		}
	}
	return planSize{posts: n, actors: n / 10, communities: max(20, n/1000)}
}

// generate fills db with a large instance in a few set-based statements:
// remote actors on 100 domains, each a member of one local community; a
// local viewer following five communities and a tag; posts spread over
// authors and communities, every tenth tagged, every fifth a reply, every
// third boosted; and one thread of 500 replies. It returns the viewer, a community and the
// thread's context.
func generate(t *testing.T, db *DB, sz planSize) (viewer, community int64, thread string) {
	ctx := context.Background()
	g := db.Gorm(ctx)
	exec := func(q string, args ...any) {
		t.Helper()
		if err := g.Exec(q, args...).Error; err != nil {
			t.Fatalf("generate: %v\n%s", err, q)
		}
	}
	seq := func(n int) string {
		return fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d)`, n-1)
	}
	now := time.Now().UTC()
	exec(seq(sz.communities)+` INSERT INTO actors (uri, type, username, domain, local, inbox_uri, created_at, updated_at)
		SELECT 'https://here.test/c/c' || i, 'Group', 'c' || i, 'here.test', TRUE, 'https://here.test/c/c' || i || '/inbox', ?, ? FROM n ORDER BY i`, now, now)
	exec(`INSERT INTO actors (uri, type, username, domain, local, created_at, updated_at)
		VALUES ('https://here.test/u/viewer', 'Person', 'viewer', 'here.test', TRUE, ?, ?)`, now, now)
	var firstCommunity, base int64
	g.Raw(`SELECT MIN(id) FROM actors WHERE type = 'Group'`).Scan(&firstCommunity)
	g.Raw(`SELECT id FROM actors WHERE username = 'viewer'`).Scan(&viewer)
	exec(seq(sz.communities)+` INSERT INTO communities (actor_id, title, created_at, updated_at)
		SELECT ? + i, 'Community ' || i, ?, ? FROM n ORDER BY i`, firstCommunity, now, now)
	exec(seq(sz.actors)+` INSERT INTO actors (uri, type, username, domain, inbox_uri, shared_inbox_uri, key_id, created_at, updated_at)
		SELECT 'https://d' || (i % 100) || '.test/users/u' || i, 'Person', 'u' || i, 'd' || (i % 100) || '.test',
			'https://d' || (i % 100) || '.test/users/u' || i || '/inbox', 'https://d' || (i % 100) || '.test/inbox',
			'https://d' || (i % 100) || '.test/users/u' || i || '#main-key', ?, ? FROM n ORDER BY i`, now, now)
	g.Raw(`SELECT MIN(id) FROM actors WHERE domain <> 'here.test'`).Scan(&base)
	exec(seq(sz.actors)+` INSERT INTO memberships (community_actor_id, member_actor_id, state, follow_uri, accepted_at, created_at, updated_at)
		SELECT ? + (i % ?), ? + i, 'accepted', 'https://d' || (i % 100) || '.test/follows/' || i, ?, ?, ? FROM n ORDER BY i`,
		firstCommunity, sz.communities, base, now, now, now)
	exec(seq(5)+` INSERT INTO memberships (community_actor_id, member_actor_id, state, created_at, updated_at)
		SELECT ? + i, ?, 'accepted', ?, ? FROM n`, firstCommunity, viewer, now, now)
	exec(`INSERT INTO followed_tags (actor_id, tag, created_at) VALUES (?, 'tag7', ?)`, viewer, now)
	// The viewer follows 20 people; every third post is boosted.
	exec(seq(20)+` INSERT INTO memberships (community_actor_id, member_actor_id, state, created_at, updated_at)
		SELECT ? + i * 7, ?, 'accepted', ?, ? FROM n`, base, viewer, now, now)
	// Posts: every fifth replies to the post before it (same thread).
	exec(seq(sz.posts)+` INSERT INTO objects (uri, type, author_actor_id, community_actor_id, in_reply_to_uri, context_uri, content, published_at, created_at, updated_at)
		SELECT 'https://d' || (i % 100) || '.test/p/' || i, 'Note', ? + (i % ?), ? + (i % ?),
			CASE WHEN i % 5 = 4 THEN 'https://d' || ((i - 1) % 100) || '.test/p/' || (i - 1) ELSE '' END,
			'https://d' || ((i - (i % 5 / 4)) % 100) || '.test/p/' || (i - (i % 5 / 4)),
			'<p>Post ' || i || '</p>', ?, ?, ? FROM n ORDER BY i`,
		base, sz.actors, firstCommunity, sz.communities, now, now, now)
	exec(`INSERT INTO object_tags (object_id, tag) SELECT id, 'tag' || (id % 50) FROM objects WHERE id % 10 = 0`)
	exec(`INSERT INTO reblogs (uri, actor_id, object_id, created_at)
		SELECT 'https://d0.test/announces/' || id, ? + (id % ?), id, ? FROM objects WHERE id % 3 = 0`, base, sz.actors, now)
	// A thread of 500 replies to post 0.
	thread = "https://d0.test/p/0"
	exec(seq(500)+` INSERT INTO objects (uri, type, author_actor_id, community_actor_id, in_reply_to_uri, context_uri, content, published_at, created_at, updated_at)
		SELECT 'https://d1.test/r/' || i, 'Note', ? + (i % ?), ?, ?, ?, '<p>Reply</p>', ?, ?, ? FROM n ORDER BY i`,
		base, sz.actors, firstCommunity, thread, thread, now, now, now)
	exec(`ANALYZE`)
	return viewer, firstCommunity, thread
}

// seqScan returns the large table the plan of sql reads from end to end,
// or "".
func seqScan(t *testing.T, db *DB, large []string, st recorded) (string, []string) {
	t.Helper()
	sql := st.sql
	var lines []string
	if db.Dialect() == Postgres {
		if err := db.Gorm(context.Background()).Raw("EXPLAIN "+sql, st.vars...).Scan(&lines).Error; err != nil {
			t.Fatalf("explain: %v\n%s\n%#v", err, sql, st.vars)
		}
		for _, l := range lines {
			for _, tbl := range large {
				if regexp.MustCompile(`Seq Scan on ` + tbl + `\b`).MatchString(l) {
					return tbl, lines
				}
			}
		}
		return "", lines
	}
	var rows []struct {
		ID, Parent, Notused int
		Detail              string
	}
	if err := db.Gorm(context.Background()).Raw("EXPLAIN QUERY PLAN "+sql, st.vars...).Scan(&rows).Error; err != nil {
		t.Fatalf("explain: %v\n%s\n%#v", err, sql, st.vars)
	}
	for _, r := range rows {
		lines = append(lines, r.Detail)
	}
	for _, l := range lines {
		for _, tbl := range large {
			// "SCAN objects" reads the table; "SCAN objects USING
			// [COVERING] INDEX" reads an index from end to end; "SEARCH"
			// seeks. Aliases: "SCAN r" where r is objects.
			if m := regexp.MustCompile(`^SCAN (\w+)( AS \w+)?( USING (COVERING )?INDEX \w+)?$`).FindStringSubmatch(l); m != nil && (m[1] == tbl) {
				return tbl, lines
			}
		}
	}
	return "", lines
}

func TestQueryPlansAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("generates an instance")
	}
	sz := planSizeFromEnv(t)
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		start := time.Now()
		viewer, community, thread := generate(t, db, sz)
		t.Logf("generated %d posts, %d remote members, %d communities in %v", sz.posts, sz.actors, sz.communities, time.Since(start).Round(time.Millisecond))
		var large []string
		for _, tbl := range largeTables {
			var n int64
			if err := db.Gorm(ctx).Table(tbl).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			if n >= largeRows {
				large = append(large, tbl)
			}
		}
		t.Logf("large tables: %v", large)
		rec := &sqlRecorder{}
		rec.register(t, db.gorm)
		rdb := db
		var root Object
		if err := db.Gorm(ctx).Where("uri = ?", thread).Take(&root).Error; err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			call func() error
			// idOrder: the query reads newest first by id with a LIMIT;
			// SQLite's plan for that is a scan of the table in rowid
			// order that stops at the limit (PostgreSQL's a backward scan
			// of the primary key), which is the best plan there is.
			idOrder bool
		}{
			{"community outbox", func() error {
				_, err := rdb.ListObjects(ctx, ObjectFilter{CommunityActorID: community, Limit: 20})
				return err
			}, false},
			{"community outbox count", func() error { _, err := rdb.CountObjects(ctx, ObjectFilter{CommunityActorID: community}); return err }, false},
			{"web community page", func() error {
				_, err := rdb.ListObjects(ctx, ObjectFilter{CommunityActorID: community, TopLevelOnly: true, HideLimited: true, Limit: 21})
				return err
			}, false},
			{"web community page, active", func() error { _, err := rdb.ListActiveTopLevel(ctx, community, true, false, 0, 21); return err }, false},
			{"home timeline", func() error {
				_, err := rdb.ListStatuses(ctx, StatusFilter{HomeOf: viewer, ViewerID: viewer, Page: Page{Limit: 20}})
				return err
			}, true},
			{"home timeline with boosts", func() error {
				_, err := rdb.ListStatuses(ctx, StatusFilter{HomeOf: viewer, ViewerID: viewer, VisibleTo: &Actor{ID: viewer, URI: "https://here.test/u/viewer"}, Boosts: true, Page: Page{Limit: 20}})
				return err
			}, true},
			{"public timeline", func() error {
				_, err := rdb.ListStatuses(ctx, StatusFilter{HideLimited: true, ViewerID: viewer, Page: Page{Limit: 20}})
				return err
			}, true},
			{"tag timeline", func() error {
				_, err := rdb.ListStatuses(ctx, StatusFilter{Tag: "tag7", HideLimited: true, Page: Page{Limit: 20}})
				return err
			}, true},
			{"community timeline", func() error {
				_, err := rdb.ListStatuses(ctx, StatusFilter{CommunityActorID: community, Page: Page{Limit: 20}})
				return err
			}, false},
			{"thread of 500 replies", func() error { _, err := rdb.ListThread(ctx, thread, nil, 1000); return err }, false},
			{"replies collection", func() error {
				_, err := rdb.ListObjects(ctx, ObjectFilter{InReplyToID: root.ID, Limit: 20})
				return err
			}, false},
			{"followers page", func() error {
				_, err := rdb.MemberPage(ctx, community, StateAccepted, 0, 50)
				return err
			}, false},
			{"followers count", func() error { _, err := rdb.CountMembers(ctx, community, StateAccepted); return err }, false},
			{"member inboxes (fan-out)", func() error { _, err := rdb.MemberInboxes(ctx, community); return err }, false},
		}
		for _, c := range cases {
			rec.take()
			if err := c.call(); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			selects := 0
			for _, st := range rec.take() {
				sql := st.sql
				if !strings.HasPrefix(strings.TrimSpace(strings.ToUpper(sql)), "SELECT") {
					continue
				}
				selects++
				tbl, plan := seqScan(t, db, large, st)
				if tbl == "" {
					continue
				}
				if c.idOrder && tbl == "objects" && db.Dialect() == SQLite && strings.Contains(sql, "ORDER BY objects.id DESC LIMIT") {
					continue
				}
				t.Errorf("%s: %s is read from end to end\n%s\nplan:\n  %s", c.name, tbl, sql, strings.Join(plan, "\n  "))
			}
			if selects == 0 {
				t.Errorf("%s: no query recorded", c.name)
			}
		}
	})
}

// eachDialect is storagetest.Each for this package's internal tests
// (storagetest imports storage, so it cannot be used from here).
func eachDialect(t *testing.T, fn func(t *testing.T, db *DB)) {
	for _, d := range []Dialect{SQLite, Postgres} {
		t.Run(string(d), func(t *testing.T) {
			dsn := t.TempDir() + "/plans.db"
			if d == Postgres {
				base := os.Getenv("COMMONPLACE_TEST_POSTGRES")
				if base == "" {
					t.Skip("PostgreSQL tests skipped: set COMMONPLACE_TEST_POSTGRES")
				}
				schema := fmt.Sprintf("plans_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
				admin, err := Open(context.Background(), base)
				if err != nil {
					t.Fatal(err)
				}
				if err := admin.Gorm(context.Background()).Exec("CREATE SCHEMA " + schema).Error; err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					admin.Gorm(context.Background()).Exec("DROP SCHEMA " + schema + " CASCADE")
					admin.Close()
				})
				sep := "?"
				if strings.Contains(base, "?") {
					sep = "&"
				}
				dsn = base + sep + "search_path=" + schema
			}
			db, err := Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if _, err := db.Migrate(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			fn(t, db)
		})
	}
}
