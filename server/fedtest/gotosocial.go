package fedtest

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// GoToSocial is a real GoToSocial server, built from its own source, that
// tests federate with: stand-ins can only be as strict as what their
// authors remembered to check, and a real peer is not (see
// ../shared/peers/README.md).
//
// StartGoToSocial runs one on a random loopback address, on port 80 under a
// unique host name, with one confirmed, unlocked member; it is stopped and
// its /etc/hosts line removed when the test ends. Its Commonplace peer must
// also be reached on port 80 by name: start it with StartNamed. Members are
// driven through GoToSocial's own client API (GTSUser.API), the way an app
// would. The test is skipped, with the reason, where ../shared/peers is
// absent or the process is not root; CI has both, and sets
// COMMONPLACE_REQUIRE_PEERS=1 so that either lack fails instead.
//
//	gts := fedtest.StartGoToSocial(t, "gina")
//	cp := fedtest.StartNamed(t, storage.SQLite)
//	acct := gts.User.Lookup(t, cp.Handle("practice"))
//	gts.User.API(t, "POST", "/api/v1/accounts/"+acct.ID+"/follow", nil, nil)
type GoToSocial struct {
	Name string   // host name, e.g. gts-1a2b3c4d.test
	IP   string   // its loopback address
	URL  string   // http://Name
	Dir  string   // its database, storage, config and server.log
	User *GTSUser // the member up.sh made

	t      testing.TB
	script string
	pid    int
}

// GTSUser is a member of a GoToSocial server with a client-API token
// (scopes read write follow push).
type GTSUser struct {
	Username string
	Token    string
	g        *GoToSocial
}

// StartGoToSocial starts a fresh GoToSocial whose first member is
// username. It takes 10–30 s.
func StartGoToSocial(t testing.TB, username string) *GoToSocial {
	t.Helper()
	peers, err := SharedDir("peers/gotosocial")
	if err != nil {
		skipPeers(t, fmt.Sprintf("the real GoToSocial peer is not here: %v", err))
	}
	requireRoot(t)
	h := reserveHost(t, "gts", false)
	g := &GoToSocial{Name: h.Name, IP: h.IP, URL: "http://" + h.Name, Dir: t.TempDir(), t: t, script: filepath.Join(peers, "up.sh")}
	// up.sh unpacks the 90 MB binary into DIR unless one is there: share
	// one unpacked copy between runs.
	bin, err := unpackedGoToSocial(filepath.Join(peers, "gotosocial.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bin, filepath.Join(g.Dir, "gotosocial")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.script, g.Name, g.IP, username, g.Dir)
	// GoToSocial stays in up.sh's process group after the script exits,
	// so the whole group can be stopped even if the pid line is lost.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if pgid := cmd.Process; pgid != nil {
		group := pgid.Pid
		t.Cleanup(func() { g.stop(group) })
	}
	if err == nil {
		vals := map[string]string{}
		for line := range strings.Lines(string(out)) {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
				vals[k] = v
			}
		}
		g.pid, _ = strconv.Atoi(vals["pid"])
		if g.pid == 0 || vals["token"] == "" {
			t.Fatalf("GoToSocial up.sh printed no pid or token:\n%s", out)
		}
		g.User = &GTSUser{Username: username, Token: vals["token"], g: g}
		return g
	}
	// up.sh gives the server a minute to come up. Migrating a fresh
	// database takes longer on a loaded 2-core machine (CI runs every
	// package at once): if the server is still starting, wait for it and
	// make the member as up.sh would have.
	pid, _ := os.ReadFile(filepath.Join(g.Dir, "server.pid"))
	g.pid, _ = strconv.Atoi(strings.TrimSpace(string(pid)))
	if g.pid == 0 || !alive(g.pid) || !g.waitUp(3*time.Minute) {
		t.Fatalf("GoToSocial up.sh: %v\n%s\nlast log lines:\n%s", err, stderr.Bytes(), lastLines(g.Log(), 20))
	}
	t.Logf("GoToSocial took more than up.sh's minute to start; member %s made by the harness", username)
	g.User = g.NewUser(username)
	return g
}

// waitUp waits until the server answers NodeInfo.
func (g *GoToSocial) waitUp(limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && alive(g.pid) {
		resp, err := http.Get(g.URL + "/nodeinfo/2.0")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	return false
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// stop ends the server (SIGTERM, then SIGKILL after 10 s) and waits until
// it is gone.
func (g *GoToSocial) stop(group int) {
	syscall.Kill(-group, syscall.SIGTERM)
	if g.pid != 0 {
		syscall.Kill(g.pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(10 * time.Second)
	for g.pid != 0 && alive(g.pid) {
		if time.Now().After(deadline) {
			syscall.Kill(-group, syscall.SIGKILL)
			syscall.Kill(g.pid, syscall.SIGKILL)
			deadline = time.Now().Add(time.Hour)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive reports whether pid runs (a zombie awaiting its reaper does not).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// Log is GoToSocial's log so far.
func (g *GoToSocial) Log() string {
	b, _ := os.ReadFile(filepath.Join(g.Dir, "server.log"))
	return string(b)
}

// Warnings are the log's WARN and ERROR lines that contain every one of
// words (all of them when none are given).
func (g *GoToSocial) Warnings(words ...string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(g.Log()))
	sc.Buffer(nil, 1<<20)
lines:
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "level=WARN") && !strings.Contains(line, "level=ERROR") {
			continue
		}
		for _, w := range words {
			if !strings.Contains(line, w) {
				continue lines
			}
		}
		out = append(out, line)
	}
	return out
}

// Handle is username@host for a member of this server.
func (g *GoToSocial) Handle(username string) string { return username + "@" + g.Name }

// ActorURI is the ActivityPub id of a member of this server.
func (g *GoToSocial) ActorURI(username string) string { return g.URL + "/users/" + username }

// NewUser adds a confirmed, unlocked member with a client-API token, as
// up.sh makes the first one.
func (g *GoToSocial) NewUser(username string) *GTSUser {
	g.t.Helper()
	bin, cfg := filepath.Join(g.Dir, "gotosocial"), filepath.Join(g.Dir, "config.yaml")
	pass := cmp.Or(os.Getenv("GTS_PASSWORD"), "Interop-Test-Pass-1234!")
	for _, args := range [][]string{
		{"admin", "account", "create", "--username", username, "--email", username + "@" + g.Name, "--password", pass},
		{"admin", "account", "confirm", "--username", username},
	} {
		cmd := exec.Command(bin, append([]string{"--config-path", cfg}, args...)...)
		cmd.Dir = g.Dir
		if out, err := cmd.CombinedOutput(); err != nil {
			g.t.Fatalf("gotosocial %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	out, err := exec.Command(filepath.Join(filepath.Dir(g.script), "token.sh"), g.URL, username+"@"+g.Name, pass).Output()
	tok := strings.TrimSpace(string(out))
	if err != nil || tok == "" {
		g.t.Fatalf("token for %s: %v", username, err)
	}
	u := &GTSUser{Username: username, Token: tok, g: g}
	u.API(g.t, http.MethodPatch, "/api/v1/accounts/update_credentials", url.Values{"locked": {"false"}}, nil)
	return u
}

// Handle is the member's username@host.
func (u *GTSUser) Handle() string { return u.g.Handle(u.Username) }

// ActorURI is the member's ActivityPub id.
func (u *GTSUser) ActorURI() string { return u.g.ActorURI(u.Username) }

// APIError is a client-API answer outside 2xx.
type APIError struct {
	Method, Path string
	Code         int
	Body         string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("GoToSocial %s %s: %d %s", e.Method, e.Path, e.Code, e.Body)
}

// Call makes a client-API request as the member: params go in the query of
// a GET or DELETE and as a form otherwise; a JSON answer is decoded into
// out unless it is nil. A status outside 2xx is an *APIError.
func (u *GTSUser) Call(method, path string, params url.Values, out any) error {
	target := u.g.URL + path
	var body io.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		if len(params) > 0 {
			target += "?" + params.Encode()
		}
	} else {
		body = strings.NewReader(params.Encode())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+u.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &APIError{Method: method, Path: path, Code: resp.StatusCode, Body: string(data)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("GoToSocial %s %s: %w: %s", method, path, err, data)
	}
	return nil
}

// API is Call that fails the test on error.
func (u *GTSUser) API(t testing.TB, method, path string, params url.Values, out any) {
	t.Helper()
	if err := u.Call(method, path, params, out); err != nil {
		t.Fatal(err)
	}
}

// GTSAccount and GTSStatus are the parts of Mastodon's entities, as
// GoToSocial serves them, that tests read.
type GTSAccount struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Acct     string `json:"acct"`
	URL      string `json:"url"`
	Group    bool   `json:"group"`
	Locked   bool   `json:"locked"`
}

type GTSStatus struct {
	ID          string     `json:"id"`
	URI         string     `json:"uri"`
	URL         string     `json:"url"`
	Content     string     `json:"content"`
	InReplyToID *string    `json:"in_reply_to_id"`
	Account     GTSAccount `json:"account"`
	Reblog      *GTSStatus `json:"reblog"`
	Mentions    []struct {
		ID   string `json:"id"`
		Acct string `json:"acct"`
		URL  string `json:"url"`
	} `json:"mentions"`
	Tags []struct {
		Name string `json:"name"`
	} `json:"tags"`
	EditedAt         *string              `json:"edited_at"`
	FavouritesCount  int                  `json:"favourites_count"`
	Visibility       string               `json:"visibility"`
	MediaAttachments []GTSMediaAttachment `json:"media_attachments"`
}

// GTSMediaAttachment is an attachment as GoToSocial's client API shows it.
type GTSMediaAttachment struct {
	ID          string  `json:"id"`
	Type        string  `json:"type"`
	URL         string  `json:"url"`
	PreviewURL  string  `json:"preview_url"`
	RemoteURL   *string `json:"remote_url"`
	Description *string `json:"description"`
	Blurhash    *string `json:"blurhash"`
}

// Lookup resolves an account on another server by its handle, through the
// search API with resolve=true (as an app's search box does), which makes
// GoToSocial WebFinger and fetch it.
func (u *GTSUser) Lookup(t testing.TB, handle string) GTSAccount {
	t.Helper()
	var res struct {
		Accounts []GTSAccount `json:"accounts"`
	}
	u.API(t, http.MethodGet, "/api/v2/search", url.Values{"q": {"@" + strings.TrimPrefix(handle, "@")}, "resolve": {"true"}, "type": {"accounts"}}, &res)
	for _, a := range res.Accounts {
		if strings.EqualFold(a.Acct, strings.TrimPrefix(handle, "@")) {
			return a
		}
	}
	t.Fatalf("GoToSocial search found no %s: %+v\n%s", handle, res.Accounts, strings.Join(u.g.Warnings(), "\n"))
	return GTSAccount{}
}

// unpackedGoToSocial returns the GoToSocial binary unpacked from gz into
// the system's temporary directory, once per version of gz: it is written
// beside and renamed into place, so concurrent runs never see half a file.
func unpackedGoToSocial(gz string) (string, error) {
	st, err := os.Stat(gz)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(os.TempDir(), "commonplace-gotosocial")
	bin := filepath.Join(dir, fmt.Sprintf("gotosocial-%d-%d", st.Size(), st.ModTime().Unix()))
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	in, err := os.Open(gz)
	if err != nil {
		return "", err
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return "", fmt.Errorf("%s: %w", gz, err)
	}
	tmp, err := os.CreateTemp(dir, "unpack-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, zr); err != nil {
		tmp.Close()
		return "", fmt.Errorf("unpack %s: %w", gz, err)
	}
	if err := errors.Join(tmp.Chmod(0o755), tmp.Close()); err != nil {
		return "", err
	}
	return bin, os.Rename(tmp.Name(), bin)
}
