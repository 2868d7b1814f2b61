package fedtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
)

// SharedDir finds sub (such as "peers" or "ap-samples/gotosocial") in the
// project's shared directory, which lives beside the clone: ../shared for
// the main checkout, further up for a worktree (/work/wt/NAME finds
// /work/shared). COMMONPLACE_SHARED names the directory explicitly. The
// error says where it looked, for a test's skip message.
func SharedDir(sub string) (string, error) {
	if dir := os.Getenv("COMMONPLACE_SHARED"); dir != "" {
		p := filepath.Join(dir, sub)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("COMMONPLACE_SHARED=%s: %w", dir, err)
		}
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "shared", sub)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if dir == filepath.Dir(dir) {
			return "", fmt.Errorf("no shared/%s beside %s or above it (set COMMONPLACE_SHARED)", sub, root)
		}
	}
}

// moduleRoot is the directory of the go.mod above the working directory,
// which is the package's directory under go test.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if dir == filepath.Dir(dir) {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = filepath.Dir(dir)
	}
}

// ServeNodeInfo serves NodeInfo 2.0 naming software at version on mux, as
// stand-ins of real servers must: Commonplace picks the form of a
// community's Announce by it.
func ServeNodeInfo(mux *http.ServeMux, software, version string) {
	mux.HandleFunc("GET /.well-known/nodeinfo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"links": []map[string]string{
			{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": "http://" + r.Host + "/nodeinfo/2.0"},
		}})
	})
	mux.HandleFunc("GET /nodeinfo/2.0", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.0#"`)
		json.NewEncoder(w).Encode(map[string]any{"version": "2.0",
			"software": map[string]string{"name": software, "version": version}, "protocols": []string{"activitypub"},
			"usage": map[string]any{"users": map[string]int{"total": 1}}, "openRegistrations": false, "metadata": map[string]any{}})
	})
}
