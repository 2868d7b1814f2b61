package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/commonplace/commonplace/server/faulttest"
	"github.com/commonplace/commonplace/storage"
)

// The process and follows scenarios measure inbound processing alone: a
// backlog of accepted activities is written straight into the queue, as
// the inbox would have written it, while the server runs, and one more is
// POSTed through the inbox to wake the workers. The clock starts when the
// backlog is committed and stops when the last activity is done (or
// failed). The activities' signatures were "checked" by the inbox that
// never saw them; processing trusts what is queued, as it does after a
// real acceptance.
//
//	process  -activities Creates from -actors remote actors, each in the
//	         community (stored, Announced to the community's one follower
//	         host, known to run Mastodon: one delivery, the boost).
//	follows  -activities Follows of the community from as many remote
//	         actors (membership stored, Accept queued to each).
//
// With -replicas N (PostgreSQL only) N server processes serve the same
// database schema, each on a port of its own (the first on the instance's
// public address), as replicas behind a balancer would; the backlog is
// written once and each replica is woken by an activity of its own. The
// clock stops when the last activity is done, whichever replica did it.
// Each replica connects with an application_name of its own, so that the
// queue log (faulttest.InstallQueueLog) counts what each one processed and
// the PostgreSQL backends serving each can be found and their processor
// time read. The run reports where the machine's processor time went:
// server processes, their backends, the harness (with the stand-in remote
// servers), and the rest of the machine.

// backlog is a seeded queue: the rows to insert, and one signed request
// per replica that wakes it.
type backlog struct {
	farm     *faulttest.Farm
	rows     []storage.Activity
	wakes    []prepared
	follower *faulttest.Host // process: the community's one follower host
}

// seedBacklog stores the senders (keys cached) and builds the backlog of
// kind "process" or "follows".
func (b *bench) seedBacklog(ctx context.Context, e *env, kind string, res result) (*backlog, error) {
	pg := e.db.Dialect() == storage.Postgres
	if b.o.replicas > 1 && !pg {
		return nil, errors.New("-replicas needs -db postgres")
	}
	if pg {
		// The first replica is started by run with e's settings: named
		// here, before it starts.
		dsn, err := faulttest.ReplicaDSN(e.dsn, b.replicaName(0))
		if err != nil {
			return nil, err
		}
		e.dsn = dsn
		if err := faulttest.InstallQueueLog(ctx, e.db, false); err != nil {
			return nil, err
		}
	}
	keys, err := b.sharedKeys()
	if err != nil {
		return nil, err
	}
	n := b.o.activities
	actors := b.o.actors
	if kind == "follows" {
		actors = n // one Follow per actor
	}
	senderHosts := max(1, actors/100)
	farm, err := faulttest.NewFarm(senderHosts + 1)
	if err != nil {
		return nil, err
	}
	bl := &backlog{farm: farm}
	fail := func(err error) (*backlog, error) { farm.Close(); return nil, err }
	senders := make([]*faulttest.RemoteActor, actors)
	for i := range senders {
		if senders[i], err = farm.NewActor(farm.Hosts[i%senderHosts], fmt.Sprintf("u%d", i), keys[i%len(keys)]); err != nil {
			return fail(err)
		}
	}
	if err := faulttest.Seed(ctx, e.db, nil, senders); err != nil {
		return fail(err)
	}
	if kind == "process" {
		// The follower's server is known to run Mastodon: each post
		// costs it one delivery, the boost.
		bl.follower = farm.Hosts[senderHosts]
		bl.follower.Software = "mastodon"
		if err := e.db.PutHostSoftware(ctx, storage.HostSoftware{Domain: bl.follower.Domain, Software: "mastodon", Version: "4.3.0", CheckedAt: time.Now()}); err != nil {
			return fail(err)
		}
		f, err := farm.NewActor(bl.follower, "follower", keys[0])
		if err != nil {
			return fail(err)
		}
		if err := faulttest.Seed(ctx, e.db, e.community, []*faulttest.RemoteActor{f}); err != nil {
			return fail(err)
		}
	}
	// n rows in the queue, and one more per replica sent through its
	// inbox.
	for i := range n + b.o.replicas {
		a := senders[i%len(senders)]
		var id string
		var body []byte
		if kind == "process" {
			id, body = a.Create(e.community.URI, "", i+1)
		} else {
			id, body = follow(a, e.community.URI, i+1)
		}
		if i >= n {
			// Signed for the instance's public address, whichever
			// replica it is sent to.
			req, err := a.Request("http://"+e.addr+"/inbox", body, time.Now())
			if err != nil {
				return fail(err)
			}
			bl.wakes = append(bl.wakes, prepared{body: body, header: req.Header})
			continue
		}
		typ, object := "Create", id[:len(id)-len("/activity")]
		if kind == "follows" {
			typ, object = "Follow", e.community.URI
		}
		bl.rows = append(bl.rows, storage.Activity{
			URI: id, Type: typ, ActorURI: a.URI, ObjectURI: object, Raw: string(body),
		})
	}
	res["actors"], res["activities"] = actors, n+b.o.replicas
	return bl, nil
}

// follow returns a Follow of community by a, numbered n.
func follow(a *faulttest.RemoteActor, community string, n int) (id string, body []byte) {
	id = fmt.Sprintf("%s/follows/%d", a.URI, n)
	body, _ = json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       id, "type": "Follow", "actor": a.URI, "object": community,
	})
	return id, body
}

// replicaName is the application_name replica i of this run connects
// with; namePrefix is what the run's names share.
func (b *bench) replicaName(i int) string { return fmt.Sprintf("%sr%d", b.namePrefix(), i) }
func (b *bench) namePrefix() string       { return fmt.Sprintf("cpbench%d_%d_", os.Getpid(), b.n) }

// replica starts replica i (from 1; run starts the first) of e: the
// settings of proc, on a port of its own, connecting with its own name.
func (b *bench) replica(ctx context.Context, e *env, i int) (*faulttest.Proc, error) {
	addr, err := faulttest.FreeAddr()
	if err != nil {
		return nil, err
	}
	dsn, err := faulttest.ReplicaDSN(e.dsn, b.replicaName(i))
	if err != nil {
		return nil, err
	}
	return b.start(ctx, e.addr, addr, dsn, fmt.Sprintf("media%d", b.n), "")
}

// process starts the other replicas, queues the backlog, wakes every
// replica and waits until every activity is done; then it checks what
// processing left behind and where the processor time went.
func (b *bench) process(ctx context.Context, e *env, first *faulttest.Proc, kind string, bl *backlog, res result) error {
	pg := e.db.Dialect() == storage.Postgres
	procs := []*faulttest.Proc{first}
	for i := 1; i < b.o.replicas; i++ {
		p, err := b.replica(ctx, e, i)
		if err != nil {
			return err
		}
		defer p.Stop()
		procs = append(procs, p)
	}
	res["replicas"] = len(procs)
	res["cores"] = runtime.NumCPU()
	var quotas []*cpuQuota
	if b.o.replicaCPU > 0 {
		for i, p := range procs {
			q, err := limitCPU(b.replicaName(i), p.Pid(), b.o.replicaCPU)
			if err != nil {
				return err
			}
			e.cleanup = append(e.cleanup, q.remove) // after the replicas have stopped
			quotas = append(quotas, q)
		}
		res["replica_cpu_quota"] = b.o.replicaCPU
	}
	layout, err := parsePin(b.o.pin)
	if err != nil {
		return err
	}
	if layout != nil {
		for i, p := range procs {
			// Unpinned is every core: a replica started by a pinned
			// harness (the run before) would inherit its core.
			cpus := layout.replica(i)
			if cpus == "" {
				cpus = fmt.Sprintf("0-%d", runtime.NumCPU()-1)
			}
			if err := taskset(cpus, p.Pid(), true); err != nil {
				return err
			}
		}
		if layout.harness != "" {
			if err := taskset(layout.harness, os.Getpid(), true); err != nil {
				return err
			}
		}
		res["pin"] = layout.String()
	}
	// The harness watches the queue through a handle of its own, named so
	// that its backends are told apart from the replicas'.
	poll := e.db
	var backends *backendSampler
	if pg {
		dsn, err := faulttest.ReplicaDSN(e.dsn, b.namePrefix()+"harness")
		if err != nil {
			return err
		}
		if poll, err = storage.Open(ctx, dsn); err != nil {
			return err
		}
		defer poll.Close()
		pinPG := ""
		if layout != nil {
			pinPG = layout.postgres
		}
		backends = newBackendSampler(poll, b.namePrefix(), pinPG)
		backends.run(ctx)
	}

	now := time.Now().UTC()
	for i := range bl.rows {
		bl.rows[i].State, bl.rows[i].RunAfter = storage.ActivityPending, &now
	}
	if err := e.db.Gorm(ctx).CreateInBatches(bl.rows, 500).Error; err != nil {
		return fmt.Errorf("queue the backlog: %w", err)
	}
	cpu0 := make([]time.Duration, len(procs))
	for i, p := range procs {
		if cpu0[i], err = p.CPU(); err != nil {
			return err
		}
	}
	throttled0 := make([]time.Duration, len(quotas))
	for i, q := range quotas {
		if throttled0[i], err = q.throttled(); err != nil {
			return err
		}
	}
	self0 := selfCPU()
	busy0, all0, err := machineCPU()
	if err != nil {
		return err
	}
	if backends != nil {
		backends.mark(ctx)
	}
	start := time.Now()
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() { errs[i] = wake(ctx, p.Listen, e.addr, bl.wakes[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Done when nothing inbound is pending: every row and wake-up was
	// queued before this. (Asking whether one row is pending costs the
	// database little; counting thousands every few milliseconds cost it
	// as much as a share of the work measured.)
	if err := waitFor(ctx, "the backlog to be processed", func() (bool, error) {
		var pending bool
		if err := poll.Gorm(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM activities WHERE state = ? AND NOT local)`, storage.ActivityPending).Scan(&pending).Error; err != nil {
			return false, err
		}
		if pending {
			time.Sleep(10 * time.Millisecond)
		}
		return !pending, nil
	}); err != nil {
		return fmt.Errorf("%w; %s", err, stuck(e.db))
	}
	elapsed := time.Since(start)
	var serverCPU time.Duration
	replicaCPU := make([]float64, len(procs))
	for i, p := range procs {
		c, err := p.CPU()
		if err != nil {
			return err
		}
		serverCPU += c - cpu0[i]
		replicaCPU[i] = ms(c - cpu0[i])
	}
	harnessCPU := selfCPU() - self0
	if len(quotas) > 0 {
		// Time the replicas waited for their quota: how far their own
		// processor time bounded them.
		waited := make([]float64, len(quotas))
		for i, q := range quotas {
			t, err := q.throttled()
			if err != nil {
				return err
			}
			waited[i] = ms(t - throttled0[i])
		}
		res["replica_throttled_ms"] = waited
	}
	busy1, all1, err := machineCPU()
	if err != nil {
		return err
	}
	total := int64(len(bl.rows) + len(bl.wakes))
	done, err := countInbound(ctx, e.db, storage.ActivityDone)
	if err != nil {
		return err
	}
	failed, err := countInbound(ctx, e.db, storage.ActivityFailed)
	if err != nil {
		return err
	}
	perActivity := func(d time.Duration) float64 {
		return round2(float64(d) / float64(time.Millisecond) / float64(total))
	}
	// The server's own processor time per activity: on a machine shared
	// with other work, wall time says how busy the machine was as much
	// as how fast the server is.
	res["server_cpu_ms_per_activity"] = perActivity(serverCPU)
	res["processed"], res["failed"] = done, failed
	res["processed_per_s"] = round2(float64(done) / elapsed.Seconds())
	res["elapsed_ms"] = ms(elapsed)

	// Where the machine's processor time went meanwhile.
	res["harness_cpu_ms_per_activity"] = perActivity(harnessCPU)
	machineBusy := busy1 - busy0
	accounted := serverCPU + harnessCPU
	if backends != nil {
		byName, err := backends.finish(ctx)
		if err != nil {
			return err
		}
		var serving, watching time.Duration
		for name, d := range byName {
			if strings.HasSuffix(name, "harness") {
				watching += d
			} else {
				serving += d
			}
		}
		res["pg_cpu_ms_per_activity"] = perActivity(serving)
		res["pg_harness_cpu_ms_per_activity"] = perActivity(watching)
		accounted += serving + watching
		marks, twice, err := faulttest.DoneMarks(ctx, e.db)
		if err != nil {
			return err
		}
		processedBy := make([]int64, len(procs))
		for i := range procs {
			processedBy[i] = marks[b.replicaName(i)]
		}
		res["replica_processed"] = processedBy
		// How many activities each "done" write marked, per replica:
		// batching amortises less when a replica runs slower.
		writes, err := faulttest.MarkStatements(ctx, e.db)
		if err != nil {
			return err
		}
		perWrite := make([]float64, len(procs))
		for i := range procs {
			if w := writes[b.replicaName(i)]; w > 0 {
				perWrite[i] = round2(float64(processedBy[i]) / float64(w))
			}
		}
		res["replica_marks_per_write"] = perWrite
		res["marked_done_twice"] = twice
	}
	res["replica_cpu_ms"] = replicaCPU
	res["other_cpu_ms_per_activity"] = perActivity(max(0, machineBusy-accounted))
	res["machine_busy_cores"] = round2(float64(machineBusy) / float64(elapsed))
	if all := all1 - all0; all > 0 {
		res["machine_busy_pct"] = round2(100 * float64(machineBusy) / float64(all))
	}
	var peaks []float64
	for _, p := range procs {
		_, peak, err := p.Memory()
		if err != nil {
			return err
		}
		peaks = append(peaks, mb(peak))
	}
	res["replica_rss_peak_mb"] = peaks

	// What processing left: the work it queued, one delivery per host and
	// activity.
	g := e.db.Gorm(ctx)
	var deliveries, activitiesDelivered int64
	if err := g.Model(&storage.Delivery{}).Count(&deliveries).Error; err != nil {
		return err
	}
	if err := g.Model(&storage.Delivery{}).Distinct("activity_id").Count(&activitiesDelivered).Error; err != nil {
		return err
	}
	res["deliveries_queued"] = deliveries
	switch kind {
	case "process":
		var posts int64
		if err := g.Model(&storage.Object{}).Where("community_actor_id = ?", e.community.ID).Count(&posts).Error; err != nil {
			return err
		}
		res["posts_stored"] = posts
	case "follows":
		var members int64
		if err := g.Model(&storage.Membership{}).Where("community_actor_id = ? AND state = ?", e.community.ID, storage.StateAccepted).Count(&members).Error; err != nil {
			return err
		}
		res["members"] = members
	}
	res["activities_delivered"] = activitiesDelivered
	// One delivery per host and activity: a second one is a duplicate.
	var dup int64
	if err := g.Raw(`SELECT COUNT(*) FROM (SELECT activity_id, host FROM deliveries GROUP BY activity_id, host HAVING COUNT(*) > 1) d`).Scan(&dup).Error; err != nil {
		return err
	}
	res["duplicate_deliveries"] = dup
	// Activities that failed for a passing reason (a deadlock, a lost
	// connection) before they were done: retried after a delay.
	var retried int64
	if err := g.Model(&storage.Activity{}).Where("NOT local AND attempts > 0").Count(&retried).Error; err != nil {
		return err
	}
	res["retried_activities"] = retried
	if failed > 0 || done+failed != total {
		return fmt.Errorf("%d of %d activities done, %d failed", done, total, failed)
	}
	return nil
}

// wake sends w, signed for the instance's public address publicAddr, to
// the inbox of the replica listening on listen.
func wake(ctx context.Context, listen, publicAddr string, w prepared) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+listen+"/inbox", bytes.NewReader(w.body))
	if err != nil {
		return err
	}
	req.Header = w.header.Clone()
	req.Host = publicAddr
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("wake-up POST to %s answered %d", listen, resp.StatusCode)
	}
	return nil
}

// stuck describes what is still pending, for a run that timed out.
func stuck(db *storage.DB) string {
	var rows []storage.Activity
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := db.Gorm(ctx).Select("id", "type", "attempts", "run_after", "locked_until", "last_error").
		Where("NOT local AND state = ?", storage.ActivityPending).Order("id").Limit(3).Find(&rows).Error
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, a := range rows {
		fmt.Fprintf(&b, "pending %d %s: %d attempts, run after %v, leased until %v, last error %q; ", a.ID, a.Type, a.Attempts, a.RunAfter, a.LockedUntil, a.LastError)
	}
	return b.String()
}
