package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// On SQLite, statements stay prepared across uses and transactions; what
// they return is unchanged, savepoints are not kept, and a statement
// prepared before a schema change still runs after it.
func TestStatementsStayPrepared(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		a := localActor("alice", storage.TypePerson)
		if err := db.CreateAccount(ctx, a, &storage.Account{Email: "a@example.org"}); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			got, err := db.GetActorByURI(ctx, a.URI)
			if err != nil || got.ID != a.ID {
				t.Fatalf("get actor: %+v %v", got, err)
			}
		}
		// In transactions, with a savepoint rolled back and one kept.
		for i := range 3 {
			err := db.Tx(ctx, func(tx *storage.DB) error {
				if got, err := tx.GetActorByURI(ctx, a.URI); err != nil || got.ID != a.ID {
					return fmt.Errorf("get actor in tx: %+v %v", got, err)
				}
				o := &storage.Object{URI: fmt.Sprintf("http://example.test/o/%d", i), Type: "Note", AuthorActorID: a.ID, Local: true, PublishedAt: time.Now()}
				if err := tx.CreateObject(ctx, o); err != nil {
					return err
				}
				undone := errors.New("undone")
				if err := tx.Tx(ctx, func(tx *storage.DB) error {
					if err := tx.CreateObject(ctx, &storage.Object{URI: o.URI + "/undone", Type: "Note", AuthorActorID: a.ID, PublishedAt: time.Now()}); err != nil {
						return err
					}
					return undone
				}); !errors.Is(err, undone) {
					return fmt.Errorf("savepoint: %v", err)
				}
				return tx.Tx(ctx, func(tx *storage.DB) error {
					return tx.CreateObject(ctx, &storage.Object{URI: o.URI + "/kept", Type: "Note", AuthorActorID: a.ID, PublishedAt: time.Now()})
				})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		for i := range 3 {
			base := fmt.Sprintf("http://example.test/o/%d", i)
			if _, err := db.GetObjectByURI(ctx, base); err != nil {
				t.Fatal(err)
			}
			if _, err := db.GetObjectByURI(ctx, base+"/kept"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.GetObjectByURI(ctx, base+"/undone"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("rolled-back object: %v", err)
			}
		}
		cached := db.CachedStatements()
		if db.Dialect() == storage.SQLite {
			// Statements first run in a transaction are prepared in the
			// background: wait for them.
			deadline := time.Now().Add(10 * time.Second)
			for !hasPrefix(cached, "INSERT INTO `objects`") && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
				cached = db.CachedStatements()
			}
			if !hasPrefix(cached, "SELECT * FROM `actors` WHERE uri = ?") || !hasPrefix(cached, "INSERT INTO `objects`") {
				t.Fatalf("statements not kept prepared: %q", cached)
			}
		}
		for _, q := range cached {
			if strings.HasPrefix(strings.ToUpper(q), "SAVEPOINT") || strings.HasPrefix(strings.ToUpper(q), "RELEASE") {
				t.Errorf("savepoint kept prepared: %q", q)
			}
		}
		// Side by side, in and out of transactions.
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 16 {
			wg.Go(func() {
				if i%2 == 0 {
					if _, err := db.GetActorByURI(ctx, a.URI); err != nil {
						errs <- err
					}
					return
				}
				errs <- db.Tx(ctx, func(tx *storage.DB) error {
					return tx.CreateObject(ctx, &storage.Object{URI: fmt.Sprintf("http://example.test/p/%d", i), Type: "Note", AuthorActorID: a.ID, PublishedAt: time.Now()})
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		// A schema change while the statement is prepared (another
		// process migrating): its first run on a connection may fail,
		// as with pgx's statement cache on PostgreSQL, and the next one
		// runs.
		if err := db.Gorm(ctx).Exec("ALTER TABLE actors ADD COLUMN stmt_cache_test TEXT").Error; err != nil {
			t.Fatal(err)
		}
		db.GetActorByURI(ctx, a.URI)
		if got, err := db.GetActorByURI(ctx, a.URI); err != nil || got.ID != a.ID {
			t.Fatalf("get actor after a schema change: %+v %v", got, err)
		}
	})
}

// hasPrefix reports whether one of qs starts with prefix.
func hasPrefix(qs []string, prefix string) bool {
	for _, q := range qs {
		if strings.HasPrefix(q, prefix) {
			return true
		}
	}
	return false
}
