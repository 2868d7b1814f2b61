package fedtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Named hosts on loopback. GoToSocial puts the host name without a port in
// its ids, so it and every Commonplace instance it federates with are
// reached on port 80 of an address of their own in 127.0.0.0/8, by a name
// in /etc/hosts. Addresses and names are random per run, so that two runs
// on one machine cannot collide, and each line is removed when the test
// ends.

const hostsFile = "/etc/hosts"

// hostsLock serialises edits of /etc/hosts between processes (two
// engineers' test runs, several test binaries of one run).
var hostsLock = filepath.Join(os.TempDir(), "commonplace-etc-hosts.lock")

// requireRoot skips t unless the process may bind port 80 and edit
// /etc/hosts.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipPeers(t, "needs root (port 80 and /etc/hosts for a named loopback host); CI runs it as root")
	}
}

// skipPeers skips a test that needs a real peer or a named host, or fails
// it where COMMONPLACE_REQUIRE_PEERS is set (CI), so that an interop test
// cannot pass there by not running.
func skipPeers(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("COMMONPLACE_REQUIRE_PEERS") != "" {
		t.Fatalf("COMMONPLACE_REQUIRE_PEERS is set, but: %s", why)
	}
	t.Skip(why)
}

// namedHost is a host name bound to a loopback address in /etc/hosts.
type namedHost struct {
	Name string // e.g. gts-1a2b3c4d.test
	IP   string // e.g. 127.83.20.7
	// Listener is bound to IP:80, for a server in this process; nil when
	// the port was only probed (for a server in another process).
	Listener net.Listener
}

// reserveHost picks a free random loopback address (never 127.0.0.1) and
// a unique name starting with prefix, adds the pair to /etc/hosts, and
// removes it when t ends. With keep, the listener on IP:80 is handed over;
// otherwise it is closed again for another process to bind.
func reserveHost(t testing.TB, prefix string, keep bool) namedHost {
	t.Helper()
	requireRoot(t)
	var (
		h   namedHost
		err error
	)
	for range 20 {
		h.IP = fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(254), rand.IntN(256), 1+rand.IntN(254))
		h.Listener, err = net.Listen("tcp", net.JoinHostPort(h.IP, "80"))
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("no free loopback address for port 80: %v", err)
	}
	if !keep {
		h.Listener.Close()
		h.Listener = nil
	}
	h.Name = fmt.Sprintf("%s-%08x.test", prefix, rand.Uint32())
	line := h.IP + " " + h.Name
	if err := editHosts(func(b []byte) []byte { return append(b, line+"\n"...) }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if h.Listener != nil {
			h.Listener.Close()
		}
		err := editHosts(func(b []byte) []byte {
			var out []byte
			for l := range bytes.Lines(b) {
				if string(bytes.TrimSpace(l)) != line {
					out = append(out, l...)
				}
			}
			return out
		})
		if err != nil {
			t.Errorf("remove %q from %s: %v", line, hostsFile, err)
		}
	})
	return h
}

// editHosts rewrites /etc/hosts in place (it may be a bind mount, which a
// rename would not update) under an exclusive lock.
func editHosts(edit func([]byte) []byte) error {
	lf, err := os.OpenFile(hostsLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", hostsLock, err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
	f, err := os.OpenFile(hostsFile, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	old, err := os.ReadFile(hostsFile)
	if err != nil {
		return err
	}
	if len(old) > 0 && old[len(old)-1] != '\n' {
		old = append(old, '\n')
	}
	next := edit(old)
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(next, 0); err != nil {
		return err
	}
	return f.Sync()
}
