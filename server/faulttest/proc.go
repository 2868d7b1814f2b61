package faulttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Build compiles the commonplace binary into dir and returns its path.
// It runs `go build`, so it needs the Go toolchain and the module's
// source (tests and the harness run from a checkout).
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "commonplace")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/commonplace/commonplace/cmd/commonplace")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago, for a process that must keep its address across restarts.
// The port is picked below Linux's ephemeral range (32768 and up), so that
// the listeners and outgoing connections that come between choosing it and
// using it (given ports from that range) do not take it.
func FreeAddr() (string, error) {
	var err error
	for range 100 {
		var ln net.Listener
		ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000)))
		if err == nil {
			addr := ln.Addr().String()
			ln.Close()
			return addr, nil
		}
	}
	return "", err
}

// Proc is a commonplace serve process that can be killed and restarted
// with the same settings.
type Proc struct {
	Bin    string
	Listen string   // 127.0.0.1:port it listens on
	Env    []string // COMMONPLACE_* settings (added to a clean base)
	// Log receives the process's standard error; nil discards it.
	Log io.Writer

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	Started time.Time     // when the last start began
	Ready   time.Duration // how long the last start took to answer /readyz
}

// Start runs the process and waits until /readyz answers 200.
func (p *Proc) Start(ctx context.Context) error {
	p.mu.Lock()
	cmd := exec.Command(p.Bin, "serve")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}, p.Env...)
	if p.Log != nil {
		cmd.Stderr = p.Log
		cmd.Stdout = p.Log
	}
	p.Started = time.Now()
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return err
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	go func() { cmd.Wait(); close(done) }()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("commonplace exited during start: %v", cmd.ProcessState)
		case <-ctx.Done():
			p.Kill()
			return ctx.Err()
		default:
		}
		resp, err := client.Get("http://" + p.Listen + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.Ready = time.Since(p.Started)
				return nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.Kill()
	return errors.New("commonplace did not become ready within 60s")
}

// Pid is the running process's id, 0 if none.
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Alive reports whether the process is running.
func (p *Proc) Alive() bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL and waits for the process to die.
func (p *Proc) Kill() {
	p.signal(syscall.SIGKILL, 10*time.Second)
}

// Stop asks the process to shut down (SIGTERM) and waits up to 20s, then
// kills it.
func (p *Proc) Stop() {
	if !p.signal(syscall.SIGTERM, 20*time.Second) {
		p.Kill()
	}
}

func (p *Proc) signal(sig syscall.Signal, wait time.Duration) bool {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return true
	}
	select {
	case <-done:
		return true
	default:
	}
	cmd.Process.Signal(sig)
	select {
	case <-done:
		return true
	case <-time.After(wait):
		return false
	}
}

// Memory returns the process's resident memory now and at its peak, in
// bytes (VmRSS and VmHWM from /proc).
func (p *Proc) Memory() (rss, peak int64, err error) {
	pid := p.Pid()
	if pid == 0 {
		return 0, 0, errors.New("no process")
	}
	return ProcMemory(pid)
}

// ProcMemory reads VmRSS and VmHWM of process pid.
func ProcMemory(pid int) (rss, peak int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		k, v, ok := strings.Cut(string(line), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) < 1 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n << 10
		case "VmHWM":
			peak = n << 10
		}
	}
	return rss, peak, nil
}

// CPU returns the processor time the process has used so far, user and
// system together. On a shared machine it is a steadier measure of work
// than wall time.
func (p *Proc) CPU() (time.Duration, error) {
	pid := p.Pid()
	if pid == 0 {
		return 0, errors.New("no process")
	}
	return ProcessCPU(pid)
}

// ProcessCPU is the processor time process pid has used (utime + stime
// from /proc, in clock ticks of 10 ms).
func ProcessCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields
	// from the last ')'. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unreadable /proc stat")
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}
