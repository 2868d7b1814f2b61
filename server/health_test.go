package server

import (
	"net/http"
	"testing"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		f := newFixture(t, db)
		mustStatus(t, f.get("/livez", ""), http.StatusOK)
		mustStatus(t, f.get("/readyz", ""), http.StatusOK)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		res := f.get("/readyz", "")
		mustStatus(t, res, http.StatusServiceUnavailable)
		if string(res.body) != `{"error":"database unavailable"}`+"\n" {
			t.Errorf("body %q", res.body)
		}
		mustStatus(t, f.get("/livez", ""), http.StatusOK)
	})
}
