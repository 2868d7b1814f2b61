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
// COMMONPLACE_PLAN_SHOW=1 logs every statement with its plan.

// largeTables are the tables that grow with the instance. Those holding
// at least largeRows rows when the plans are checked count as large: below
// that, reading a table whole is what a planner rightly prefers (the
// default, CI-sized instance has fewer remote actors than that).
var largeTables = []string{"objects", "actors", "memberships", "object_tags", "activities", "deliveries", "likes", "reblogs", "object_texts"}

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

// planSize is the generated instance's size: COMMONPLACE_PLAN_POSTS
// posts (30,000 by default), a tenth as many remote members and a
// thousandth as many communities (at least 20).
func planSize(t *testing.T) GenerateOptions {
	n := 30000
	if v := os.Getenv("COMMONPLACE_PLAN_POSTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 2000 {
			t.Fatalf("COMMONPLACE_PLAN_POSTS=%q: want a number ≥ 2000", v)
		}
	}
	return GenerateOptions{Posts: n, Actors: n / 10, Communities: max(20, n/1000), Base: "https://here.test"}
}

// seqScan returns the large table the plan of sql reads from end to end,
// or "".
func seqScan(t *testing.T, db *DB, large []string, st recorded) (string, []string) {
	t.Helper()
	sql := st.sql
	var lines []string
	if db.Dialect() == Postgres {
		// database/sql, not GORM: the statement is already in $n form.
		rows, err := db.sql.QueryContext(context.Background(), "EXPLAIN "+sql, st.vars...)
		if err != nil {
			t.Fatalf("explain: %v\n%s\n%#v", err, sql, st.vars)
		}
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		rows.Close()
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
	sz := planSize(t)
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		start := time.Now()
		gen, err := db.Generate(ctx, sz)
		if err != nil {
			t.Fatal(err)
		}
		viewer, community, thread := gen.Viewer, gen.Community, gen.Thread
		t.Logf("generated %d posts, %d remote members, %d communities in %v", sz.Posts, sz.Actors, sz.Communities, time.Since(start).Round(time.Millisecond))
		var large []string
		for _, tbl := range largeTables {
			var n int64
			if tbl == "object_texts" && db.Dialect() == SQLite {
				continue // PostgreSQL's search index (SQLite's is FTS5's)
			}
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
			{"likers of a post (its page)", func() error { _, err := rdb.ListLikers(ctx, root.ID, 20); return err }, false},
			{"status counts of a page", func() error {
				_, err := rdb.StatusStats(ctx, []int64{root.ID, root.ID + 7, root.ID + 14}, viewer)
				return err
			}, false},
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
			{"search (client API and web): statuses, rare word", func() error {
				_, err := rdb.ListStatuses(ctx, StatusFilter{Query: gen.RareWord, Page: Page{Limit: 20}})
				return err
			}, false},
			{"search: statuses, common word", func() error {
				_, err := rdb.ListStatuses(ctx, StatusFilter{Query: gen.CommonWord, HideLimited: true, Page: Page{Limit: 20}})
				return err
			}, false},
			{"search: statuses, a word no post holds", func() error {
				_, err := rdb.ListStatuses(ctx, StatusFilter{Query: "nowhere", Page: Page{Limit: 20}})
				return err
			}, false},
			{"search: accounts", func() error { _, err := rdb.SearchActors(ctx, "u12", 20); return err }, false},
			{"search: hashtags", func() error { _, err := rdb.SearchTags(ctx, "tag1", 20); return err }, false},
			{"community search, rare word", func() error {
				_, err := rdb.Search(ctx, SearchFilter{Query: gen.RareWord, CommunityActorID: community, Limit: 21})
				return err
			}, false},
			{"community search, common word", func() error {
				_, err := rdb.Search(ctx, SearchFilter{Query: gen.CommonWord, CommunityActorID: community, Limit: 21})
				return err
			}, false},
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
				if os.Getenv("COMMONPLACE_PLAN_SHOW") != "" {
					t.Logf("%s:\n%s\nplan:\n  %s", c.name, sql, strings.Join(plan, "\n  "))
				}
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
