package mastoapi_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation/media/mediatest"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// TestRealAppLibraries runs the client libraries of the apps members use
// (masto.js 8 under Elk and Phanpy, megalodon 10 under Whalebird and
// Fedistar) against a live instance: sign-in through the authorize page,
// home, notifications v1 and v2, compose, edit from the source,
// @-autocomplete, a photo with GPS EXIF and alt text, and the screens
// around them (testdata/apps). It needs
// Node.js and the pinned libraries, which `bash .ci/run` installs from the
// lockfile; without them it is skipped with a message.
func TestRealAppLibraries(t *testing.T) {
	// CI installs what this needs and sets COMMONPLACE_REQUIRE_APPS: a
	// missing piece is a failure there, not a skip.
	skip := t.Skipf
	if os.Getenv("COMMONPLACE_REQUIRE_APPS") != "" {
		skip = t.Fatalf
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("Node.js is not installed: the app libraries test needs it (bash .ci/run installs it)")
	}
	dir := filepath.Join("testdata", "apps")
	for _, lib := range []string{"masto", "megalodon"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", lib)); err != nil {
			skip("%s is not installed: run npm ci --prefix server/mastoapi/testdata/apps (bash .ci/run does)", lib)
		}
	}
	n := fedtest.Start(t, storage.SQLite)
	member(t, n, "nadia")
	n.Community("nightshift", false, "nadia")

	photo := filepath.Join(t.TempDir(), "board.jpg")
	if err := os.WriteFile(photo, mediatest.JPEGWithGPS(300, 200, 1), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "apps.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COMMONPLACE_URL="+n.URL, "COMMONPLACE_USER=nadia",
		"COMMONPLACE_PASSWORD="+password, "COMMONPLACE_COMMUNITY=nightshift", "COMMONPLACE_PHOTO="+photo, "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the app libraries failed against the instance:\n%s\n%v", out, err)
	}
	t.Logf("node --test:\n%s", out)
}
