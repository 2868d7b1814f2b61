package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/commonplace/commonplace/server/faulttest"
	"github.com/commonplace/commonplace/storage"
)

// CPU accounting for the runs with several replicas: where the machine's
// processor time went while the backlog was processed, split between the
// server processes, the PostgreSQL backends serving them (found by the
// application_name each replica connects with), the harness itself (which
// also plays the remote servers) and everything else on the machine. On a
// machine with two cores it says whether a figure is bounded by the
// server's work, the database's or simply by the cores being full.

// machineCPU is the machine's busy and total processor time so far, over
// all cores (the first line of /proc/stat).
func machineCPU() (busy, total time.Duration, err error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, 0, errors.New("empty /proc/stat")
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 8 || fields[0] != "cpu" {
		return 0, 0, errors.New("unreadable /proc/stat")
	}
	var sum, idle int64
	// user nice system idle iowait irq softirq steal (guest time is
	// already counted in user).
	for i, v := range fields[1:min(len(fields), 9)] {
		n, _ := strconv.ParseInt(v, 10, 64)
		sum += n
		if i == 3 || i == 4 {
			idle += n
		}
	}
	tick := 10 * time.Millisecond
	return time.Duration(sum-idle) * tick, time.Duration(sum) * tick, nil
}

// selfCPU is the harness's own processor time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendSampler follows the PostgreSQL backends whose application_name
// starts with prefix: every 100 ms it lists them and reads their
// processor time, so that a backend that exits during the run (a pool
// closing a connection) loses at most 100 ms of it. Pinning, if set, is
// applied to each backend when it is first seen.
type backendSampler struct {
	db     *storage.DB
	prefix string
	pin    string // taskset CPU list for the backends, or ""

	mu       sync.Mutex
	first    map[int]time.Duration // at the start, or 0 for one born later
	last     map[int]time.Duration
	names    map[int]string
	pinned   map[int]bool
	pinErr   error
	started  bool
	stop     chan struct{}
	finished chan struct{}
}

func newBackendSampler(db *storage.DB, prefix, pin string) *backendSampler {
	return &backendSampler{db: db, prefix: prefix, pin: pin, first: map[int]time.Duration{}, last: map[int]time.Duration{},
		names: map[int]string{}, pinned: map[int]bool{}}
}

// run samples until stop; the first sample is taken before it returns.
func (s *backendSampler) run(ctx context.Context) {
	s.stop, s.finished = make(chan struct{}), make(chan struct{})
	s.sample(ctx)
	go func() {
		defer close(s.finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				s.sample(ctx)
			}
		}
	}()
}

// mark makes the next sample the start of the measured span: processor
// time before it is not counted.
func (s *backendSampler) mark(ctx context.Context) {
	s.sample(ctx)
	s.mu.Lock()
	for pid, v := range s.last {
		s.first[pid] = v
	}
	s.started = true
	s.mu.Unlock()
}

func (s *backendSampler) sample(ctx context.Context) {
	var rows []struct {
		Pid             int
		ApplicationName string
	}
	if err := s.db.Gorm(ctx).Raw(`SELECT pid, application_name FROM pg_stat_activity WHERE application_name LIKE ?`, s.prefix+"%").Scan(&rows).Error; err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rows {
		v, err := faulttest.ProcessCPU(r.Pid)
		if err != nil {
			continue // gone, or not on this machine
		}
		if _, seen := s.last[r.Pid]; !seen && s.started {
			s.first[r.Pid] = 0 // born during the span
		}
		s.last[r.Pid], s.names[r.Pid] = v, r.ApplicationName
		if s.pin != "" && !s.pinned[r.Pid] {
			s.pinned[r.Pid] = true
			if err := taskset(s.pin, r.Pid, false); err != nil && s.pinErr == nil {
				if _, gone := os.Stat(fmt.Sprintf("/proc/%d", r.Pid)); gone == nil {
					s.pinErr = err
				} // else it exited meanwhile
			}
		}
	}
}

// finish takes a last sample and returns the processor time of the
// backends during the span, by application_name.
func (s *backendSampler) finish(ctx context.Context) (map[string]time.Duration, error) {
	s.sample(ctx)
	close(s.stop)
	<-s.finished
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Duration{}
	for pid, v := range s.last {
		if f, ok := s.first[pid]; ok {
			out[s.names[pid]] += v - f
		}
	}
	return out, s.pinErr
}

// taskset sets the CPU affinity of pid (with all its threads if threads)
// to the list cpus, in taskset's syntax ("0", "1", "0-1").
func taskset(cpus string, pid int, threads bool) error {
	args := []string{"-p", "-c", cpus, strconv.Itoa(pid)}
	if threads {
		args = append([]string{"-a"}, args...)
	}
	if out, err := exec.Command("taskset", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("taskset %v: %v: %s", args, err, out)
	}
	return nil
}

// pinLayout is where -pin puts each part of a run: a CPU list per replica
// (used round robin), one for this run's PostgreSQL backends and one for
// the harness.
type pinLayout struct {
	replicas []string
	postgres string
	harness  string
}

// parsePin reads -pin: "auto" puts replica i on core i mod nproc and the
// backends and the harness on the last core; otherwise
// "replicas=0/1;postgres=1;harness=1" (CPU lists in taskset's syntax,
// one per replica separated by '/'); a part left out is not pinned.
func parsePin(spec string) (*pinLayout, error) {
	if spec == "" {
		return nil, nil
	}
	n := runtime.NumCPU()
	if spec == "auto" {
		l := &pinLayout{postgres: strconv.Itoa(n - 1), harness: strconv.Itoa(n - 1)}
		for i := range n {
			l.replicas = append(l.replicas, strconv.Itoa(i))
		}
		return l, nil
	}
	l := &pinLayout{}
	for _, part := range strings.Split(spec, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" {
			return nil, fmt.Errorf("-pin %q: want auto or replicas=CPUS/CPUS;postgres=CPUS;harness=CPUS", spec)
		}
		switch k {
		case "replicas":
			l.replicas = strings.Split(v, "/")
		case "postgres":
			l.postgres = v
		case "harness":
			l.harness = v
		default:
			return nil, fmt.Errorf("-pin %q: unknown part %q", spec, k)
		}
	}
	return l, nil
}

// replica is the CPU list for replica i, or "".
func (l *pinLayout) replica(i int) string {
	if l == nil || len(l.replicas) == 0 {
		return ""
	}
	return l.replicas[i%len(l.replicas)]
}

func (l *pinLayout) String() string {
	if l == nil {
		return ""
	}
	return fmt.Sprintf("replicas=%s;postgres=%s;harness=%s", strings.Join(l.replicas, "/"), l.postgres, l.harness)
}
