package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// -replica-cpu gives each replica a processor quota of its own (a cgroup
// with the cpu controller): a model, on a small machine, of a large one
// where each replica has its own cores and the database has cores to
// spare. Whether N replicas then do N times the work of one says whether
// the replicas scale, apart from whether the cores of this machine do.

// cpuCgroupRoot is where the cgroup v1 cpu controller is mounted.
const cpuCgroupRoot = "/sys/fs/cgroup/cpu"

// cpuQuota is one process's cgroup.
type cpuQuota struct{ dir string }

// limitCPU puts process pid (all its threads, and those it starts later)
// in a new cgroup named name, limited to cores processor-seconds per
// second.
func limitCPU(name string, pid int, cores float64) (*cpuQuota, error) {
	if _, err := os.Stat(filepath.Join(cpuCgroupRoot, "cpu.cfs_quota_us")); err != nil {
		return nil, fmt.Errorf("-replica-cpu needs the cgroup v1 cpu controller at %s: %w", cpuCgroupRoot, err)
	}
	q := &cpuQuota{dir: filepath.Join(cpuCgroupRoot, name)}
	if err := os.Mkdir(q.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create cgroup: %w", err)
	}
	const period = 100000 // µs
	for _, w := range []struct{ file, value string }{
		{"cpu.cfs_period_us", strconv.Itoa(period)},
		{"cpu.cfs_quota_us", strconv.Itoa(int(cores * period))},
		{"cgroup.procs", strconv.Itoa(pid)},
	} {
		if err := os.WriteFile(filepath.Join(q.dir, w.file), []byte(w.value), 0o644); err != nil {
			q.remove()
			return nil, fmt.Errorf("cgroup %s: %w", w.file, err)
		}
	}
	return q, nil
}

// throttled is how long the group's processes have waited, so far, for
// their quota to come back.
func (q *cpuQuota) throttled() (time.Duration, error) {
	f, err := os.Open(filepath.Join(q.dir, "cpu.stat"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok && k == "throttled_time" {
			ns, err := strconv.ParseInt(v, 10, 64)
			return time.Duration(ns), err
		}
	}
	return 0, errors.New("no throttled_time in cpu.stat")
}

// remove deletes the group once its process has exited.
func (q *cpuQuota) remove() {
	for range 50 {
		if err := os.Remove(q.dir); err == nil || os.IsNotExist(err) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
