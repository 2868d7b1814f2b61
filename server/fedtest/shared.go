package fedtest

import (
	"errors"
	"fmt"
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
