// Command commonplace-bench is the load harness: it starts a real
// commonplace process (the binary, so that its memory is its own) over a
// fresh database, and on loopback as many stand-in remote servers as a
// scenario needs. The stand-ins verify every signature they receive, so a
// run cannot pass by skipping work. Each run prints one JSON line.
//
//	commonplace-bench -scenario fanout,inbox,start -db sqlite,postgres -runs 3
//
// Scenarios:
//
//	fanout  a community with -followers followers over -hosts hosts (each
//	        with a shared inbox, running -software) gets two posts; the
//	        first lets the server learn what the hosts run, the second is
//	        measured: time from the post being accepted (202) to the last
//	        host acknowledging the form it displays, and any form; requests
//	        per host, signatures verified, forms received.
//	inbox   -activities signed Create activities from -actors remote
//	        actors (keys already cached) at -concurrency: accepted/s,
//	        p50/p99 latency, processed/s (stored, redistribution queued);
//	        processor time per accepted activity while sending (server,
//	        its PostgreSQL backends, harness, rest of the machine) and
//	        how many were processed meanwhile.
//	process a backlog of -activities accepted Creates in the community
//	        from -actors actors, written straight into the queue: time
//	        until every one is processed (stored, Announce queued to the
//	        community's follower host, a Mastodon); processed/s, the
//	        server's CPU time per activity, deliveries queued, duplicates
//	        (a second delivery of an activity to one host).
//	follows the same with -activities Follows of the community from as
//	        many actors (membership stored, Accept queued).
//	        With -replicas N (PostgreSQL), N server processes share the
//	        database and the backlog; the run reports each one's share and
//	        where the machine's processor time went (-pin to pin them).
//	start   an empty instance: time from exec to /readyz answering, and
//	        its idle memory.
//	media   -uploads photos of about 5 MB uploaded and posted through the
//	        client API: upload-to-status time (median).
//	media20 one 20-megapixel photo uploaded: the peak memory while it is
//	        processed.
//	scale   a generated instance of -posts posts (see scale.go): the time
//	        to generate it and to migrate it, start-up, and p50/p99 of
//	        each page a reader asks for.
//
// Every run also reports the time to /readyz and resident memory idle
// (after start) and at the peak (VmHWM).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	o := defaultOptions()
	fs := flag.NewFlagSet("commonplace-bench", flag.ExitOnError)
	o.register(fs)
	fs.Parse(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "commonplace-bench:", err)
		os.Exit(1)
	}
}

// options are the harness's flags.
type options struct {
	scenarios   string
	dbs         string
	postgres    string
	runs        int
	small       bool
	bin         string
	hosts       int
	followers   int
	actors      int
	activities  int
	concurrency int
	verbose     bool
	serverEnv   string
	software    string
	uploads     int
	replicas    int
	pin         string
	replicaCPU  float64
	profile     string
	profileSecs int
	hostDelay   time.Duration
	scaleOpts   scaleOptions
}

func defaultOptions() options {
	return options{
		scenarios: "fanout,inbox,start", dbs: "sqlite", postgres: os.Getenv("COMMONPLACE_TEST_POSTGRES"), runs: 1,
		hosts: 1000, followers: 10000, actors: 1000, activities: 10000, concurrency: 64,
		software: "mastodon", uploads: 5, replicas: 1,
	}
}

func (o *options) register(fs *flag.FlagSet) {
	fs.StringVar(&o.scenarios, "scenario", o.scenarios, "comma-separated scenarios: fanout, inbox, process, follows, media, media20, start, scale")
	fs.StringVar(&o.dbs, "db", o.dbs, "comma-separated databases: sqlite, postgres")
	fs.StringVar(&o.postgres, "postgres", o.postgres, "PostgreSQL URL for -db postgres (each run gets a schema of its own, dropped after); default $COMMONPLACE_TEST_POSTGRES")
	fs.IntVar(&o.runs, "runs", o.runs, "runs of each scenario on each database")
	fs.BoolVar(&o.small, "small", o.small, "small scale (20 hosts, 100 followers, 20 actors, 200 activities): shows the harness works, in seconds")
	fs.StringVar(&o.bin, "bin", o.bin, "commonplace binary to run (default: go build it into a temporary directory)")
	fs.IntVar(&o.hosts, "hosts", o.hosts, "fanout: stand-in remote hosts")
	fs.IntVar(&o.followers, "followers", o.followers, "fanout: followers of the community, spread evenly over the hosts")
	fs.IntVar(&o.actors, "actors", o.actors, "inbox: remote actors sending (100 per stand-in host)")
	fs.IntVar(&o.activities, "activities", o.activities, "inbox: activities sent")
	fs.IntVar(&o.concurrency, "concurrency", o.concurrency, "inbox: requests in flight")
	fs.StringVar(&o.software, "software", o.software, `fanout: what the hosts' NodeInfo names: "mastodon" (reads the boost), "lemmy" (reads FEP-1b12 Announces) or "" (no NodeInfo: gets both)`)
	fs.IntVar(&o.uploads, "uploads", o.uploads, "media: photos uploaded and posted, one after the other")
	fs.IntVar(&o.replicas, "replicas", o.replicas, "process, follows: server processes sharing the database (PostgreSQL only), each on a port of its own")
	fs.StringVar(&o.pin, "pin", o.pin, `process, follows: pin with taskset: "auto" (replica i on core i mod nproc, this run's PostgreSQL backends and the harness on the last core) or "replicas=0/1;postgres=1;harness=1"`)
	fs.Float64Var(&o.replicaCPU, "replica-cpu", o.replicaCPU, "process, follows: limit each replica to this many cores' worth of processor time (a cgroup v1 cpu quota; needs root), to model replicas with cores of their own")
	fs.DurationVar(&o.hostDelay, "host-delay", o.hostDelay, "fanout: each stand-in host answers an inbox POST this long after it arrives, as a server across a network would (default 0: at once, on loopback)")
	fs.StringVar(&o.profile, "profile", o.profile, "fanout: write the server's CPU profile during the measured post, and its heap after it, to PREFIX-DB-N.cpu.prof and PREFIX-DB-N.heap.prof (N counts the runs)")
	fs.IntVar(&o.profileSecs, "profile-seconds", 5, "fanout: length of the CPU profile, from just before the measured post")
	o.scaleOpts.register(fs)
	fs.BoolVar(&o.verbose, "v", o.verbose, "show the server's log")
	fs.StringVar(&o.serverEnv, "server-env", o.serverEnv, "comma-separated KEY=VALUE settings added to the server's environment, e.g. COMMONPLACE_DELIVERY_WORKERS=64, to compare settings (results are for the defaults without it)")
}

func (o *options) check() error {
	if o.replicas < 1 {
		return fmt.Errorf("-replicas %d: want at least 1", o.replicas)
	}
	if _, err := parsePin(o.pin); err != nil {
		return err
	}
	switch o.software {
	case "mastodon", "lemmy", "":
		return nil
	}
	return fmt.Errorf("-software %q: want mastodon, lemmy or \"\"", o.software)
}

func (o *options) scale() {
	if o.small {
		o.hosts, o.followers, o.actors, o.activities, o.concurrency, o.uploads = 20, 100, 20, 200, 8, 2
	}
}

// run runs every scenario on every database o.runs times and writes one
// summary line per run to out.
func run(ctx context.Context, o options, out, logw io.Writer) error {
	if err := o.check(); err != nil {
		return err
	}
	o.scale()
	log := slog.New(slog.NewTextHandler(logw, nil))
	raiseFileLimit(log, uint64(3*o.hosts+4096))
	dir, err := os.MkdirTemp("", "commonplace-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := o.bin
	if bin == "" {
		log.Info("building commonplace")
		if bin, err = buildBinary(ctx, dir); err != nil {
			return err
		}
	}
	b := &bench{o: o, bin: bin, dir: dir, log: log, logw: logw}
	enc := json.NewEncoder(out)
	for _, db := range strings.Split(o.dbs, ",") {
		db = strings.TrimSpace(db)
		if db != "sqlite" && db != "postgres" {
			return fmt.Errorf("unknown database %q", db)
		}
		if db == "postgres" && o.postgres == "" {
			return fmt.Errorf("-db postgres needs -postgres or COMMONPLACE_TEST_POSTGRES")
		}
		for _, sc := range strings.Split(o.scenarios, ",") {
			sc = strings.TrimSpace(sc)
			for i := range o.runs {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				log.Info("run", "scenario", sc, "db", db, "run", i+1)
				res, err := b.run(ctx, sc, db)
				if err != nil {
					return fmt.Errorf("%s on %s: %w", sc, db, err)
				}
				res["run"] = i + 1
				if err := enc.Encode(res); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// raiseFileLimit lifts the limit on open files to want, or as far as the
// process may: each stand-in server is a listener, and each delivery a
// connection on both sides, so ten thousand hosts need tens of thousands
// of files. Only a privileged process can raise the hard limit. The
// server inherits the limit (and Go raises its soft limit to the hard one
// at start).
func raiseFileLimit(log *slog.Logger, want uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	if lim.Max < want {
		raised := syscall.Rlimit{Cur: want, Max: want}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			return
		}
		log.Warn("open file limit below what the run may need", "limit", lim.Max, "want", want)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			log.Warn("raise the open file limit", "err", err)
		}
	}
}
