package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/media/mediatest"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/blob"
)

// media usage lists what each account's files take; media prune removes
// uploads never attached once they are older than the limit, files too.
func TestMediaUsageAndPrune(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		dir := t.TempDir()
		c.env["COMMONPLACE_MEDIA_DIR"] = dir
		c.ok("account", "create", "alice", "--email", "alice@example.org")
		ctx := context.Background()
		db, err := storage.Open(ctx, c.dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		svc := federation.NewService(db, "http://localhost:8080", nil)
		if svc.Blobs, err = blob.NewLocal(dir); err != nil {
			t.Fatal(err)
		}
		alice, err := db.GetLocalActorByType(ctx, "alice", storage.TypePerson)
		if err != nil {
			t.Fatal(err)
		}
		var ups []*storage.MediaAttachment
		for _, data := range [][]byte{mediatest.JPEGWithGPS(64, 48, 1), mediatest.PDF} {
			m, err := svc.UploadMedia(ctx, alice, federation.Upload{Name: "f", File: bytes.NewReader(data), Size: int64(len(data))})
			if err != nil {
				t.Fatal(err)
			}
			ups = append(ups, m)
		}
		var usage []mediaUsageJSON
		if err := json.Unmarshal([]byte(c.ok("media", "usage", "--json")), &usage); err != nil {
			t.Fatal(err)
		}
		want := ups[0].FileSize + ups[0].ThumbSize + ups[1].FileSize
		if len(usage) != 1 || usage[0].Handle != "alice@localhost:8080" || usage[0].Files != 2 || usage[0].Bytes != want {
			t.Fatalf("usage %+v, want 2 files of %d bytes", usage, want)
		}
		if out := c.ok("media", "usage"); !strings.Contains(out, "alice@localhost:8080") {
			t.Errorf("table: %s", out)
		}

		// The photo is two days old; the PDF is new and stays.
		old := time.Now().Add(-48 * time.Hour).UTC()
		if err := db.Gorm(ctx).Model(&storage.MediaAttachment{}).Where("id = ?", ups[0].ID).Update("created_at", old).Error; err != nil {
			t.Fatal(err)
		}
		if out := c.ok("media", "prune"); !strings.Contains(out, "removed 1 unattached uploads and 0 cached") {
			t.Errorf("prune: %s", out)
		}
		for _, k := range []string{ups[0].FileKey, ups[0].ThumbKey} {
			if _, err := os.Stat(filepath.Join(dir, k)); !os.IsNotExist(err) {
				t.Errorf("%s still on disk: %v", k, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, ups[1].FileKey)); err != nil {
			t.Errorf("the new upload's file: %v", err)
		}
		if _, err := db.GetMedia(ctx, ups[1].ID); err != nil {
			t.Errorf("the new upload: %v", err)
		}
		c.fails(2, "media", "prune", "--unattached-older-than", "1s")
	})
}

// community image sets and removes a community's avatar and header.
func TestCommunityImage(t *testing.T) {
	eachDB(t, func(t *testing.T, c *cli) {
		dir := t.TempDir()
		c.env["COMMONPLACE_MEDIA_DIR"] = dir
		c.ok("account", "create", "alice", "--email", "alice@example.org")
		c.ok("community", "create", "practice", "--title", "Practice", "--owner", "alice")
		logo := filepath.Join(t.TempDir(), "logo.png")
		if err := os.WriteFile(logo, mediatest.PNG(mediatest.Photo(600, 600)), 0o600); err != nil {
			t.Fatal(err)
		}
		out := c.ok("community", "image", "practice", "--avatar", logo, "--header", logo)
		if !strings.Contains(out, "avatar of practice: http://localhost:8080/media/") || !strings.Contains(out, "header of practice: ") {
			t.Fatalf("output: %s", out)
		}
		ctx := context.Background()
		db, err := storage.Open(ctx, c.dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		g, err := db.GetLocalActorByType(ctx, "practice", storage.TypeGroup)
		if err != nil || g.AvatarKey == "" || g.HeaderKey == "" {
			t.Fatalf("group %+v %v", g, err)
		}
		if _, err := os.Stat(filepath.Join(dir, g.AvatarKey)); err != nil {
			t.Errorf("avatar file: %v", err)
		}
		c.ok("community", "image", "practice", "--remove-avatar")
		if g2, _ := db.GetLocalActorByType(ctx, "practice", storage.TypeGroup); g2.AvatarKey != "" || g2.HeaderKey != g.HeaderKey {
			t.Errorf("after remove: %+v", g2)
		}
		if _, err := os.Stat(filepath.Join(dir, g.AvatarKey)); !os.IsNotExist(err) {
			t.Errorf("removed avatar's file: %v", err)
		}
		pdf := filepath.Join(t.TempDir(), "x.pdf")
		os.WriteFile(pdf, mediatest.PDF, 0o600)
		c.fails(1, "community", "image", "practice", "--avatar", pdf)
	})
}
