package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/faulttest"
	"github.com/commonplace/commonplace/storage"
)

func buildBinary(ctx context.Context, dir string) (string, error) {
	return faulttest.Build(ctx, dir)
}

type bench struct {
	o    options
	bin  string
	dir  string
	log  *slog.Logger
	logw io.Writer
	keys []*rsa.PrivateKey
	n    int
}

type result map[string]any

// env is one run: a fresh database with a community, and the settings of
// the process that serves it.
type env struct {
	dsn       string
	db        *storage.DB
	addr      string
	community *storage.Actor
	// debug is the server's profiler address (COMMONPLACE_DEBUG_LISTEN),
	// when the run is profiled.
	debug   string
	cleanup []func()
}

func (e *env) close() {
	for i := len(e.cleanup) - 1; i >= 0; i-- {
		e.cleanup[i]()
	}
}

func (b *bench) newEnv(ctx context.Context, dbKind string) (*env, error) {
	b.n++
	e := &env{}
	if dbKind == "sqlite" {
		e.dsn = filepath.Join(b.dir, fmt.Sprintf("run%d", b.n), "commonplace.db")
		e.cleanup = append(e.cleanup, func() { os.RemoveAll(filepath.Dir(e.dsn)) })
	} else {
		dsn, drop, err := pgSchema(ctx, b.o.postgres, fmt.Sprintf("bench_%d_%d", os.Getpid(), b.n))
		if err != nil {
			return nil, err
		}
		e.dsn = dsn
		e.cleanup = append(e.cleanup, drop)
	}
	db, err := storage.Open(ctx, e.dsn)
	if err != nil {
		e.close()
		return nil, err
	}
	e.db = db
	e.cleanup = append(e.cleanup, func() { db.Close() })
	if _, err := db.Migrate(ctx, nil); err != nil {
		e.close()
		return nil, err
	}
	if e.addr, err = faulttest.FreeAddr(); err != nil {
		e.close()
		return nil, err
	}
	svc := federation.NewService(db, "http://"+e.addr, slog.New(slog.DiscardHandler))
	c, err := svc.CreateCommunity(ctx, federation.NewCommunity{Name: "practice", Title: "Practice", Summary: "Benchmarks."})
	if err != nil {
		e.close()
		return nil, err
	}
	e.community = c.Actor
	return e, nil
}

// pgSchema creates a schema for one run and returns a URL that uses it.
func pgSchema(ctx context.Context, base, schema string) (string, func(), error) {
	admin, err := storage.Open(ctx, base)
	if err != nil {
		return "", nil, err
	}
	if err := admin.Gorm(ctx).Exec("CREATE SCHEMA " + schema).Error; err != nil {
		admin.Close()
		return "", nil, err
	}
	drop := func() {
		admin.Gorm(context.Background()).Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// proc starts commonplace for e with the default settings, apart from
// what loopback needs.
func (b *bench) proc(ctx context.Context, e *env) (*faulttest.Proc, error) {
	return b.start(ctx, e.addr, e.addr, e.dsn, fmt.Sprintf("media%d", b.n), e.debug)
}

// start runs the binary for the instance at domain, listening on listen,
// on the database dsn, with media under the run's directory in mediaDir,
// the Go profiler on debug when set, and -server-env added.
func (b *bench) start(ctx context.Context, domain, listen, dsn, mediaDir, debug string) (*faulttest.Proc, error) {
	p := &faulttest.Proc{Bin: b.bin, Listen: listen, Env: []string{
		"COMMONPLACE_DOMAIN=" + domain, "COMMONPLACE_PROTOCOL=http", "COMMONPLACE_LISTEN=" + listen,
		"COMMONPLACE_DATABASE=" + dsn, "COMMONPLACE_ALLOW_PRIVATE_ADDRESSES=true", "COMMONPLACE_LOG_LEVEL=warn",
		"COMMONPLACE_MEDIA_DIR=" + filepath.Join(b.dir, mediaDir),
	}}
	if debug != "" {
		p.Env = append(p.Env, "COMMONPLACE_DEBUG_LISTEN="+debug)
	}
	for _, kv := range strings.Split(b.o.serverEnv, ",") {
		if kv = strings.TrimSpace(kv); kv != "" {
			p.Env = append(p.Env, kv)
		}
	}
	if b.o.verbose {
		p.Log = b.logw
	}
	if err := p.Start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

func (b *bench) sharedKeys() ([]*rsa.PrivateKey, error) {
	if b.keys == nil {
		keys, err := faulttest.Keys(4)
		if err != nil {
			return nil, err
		}
		b.keys = keys
	}
	return b.keys, nil
}

func (b *bench) run(ctx context.Context, scenario, dbKind string) (result, error) {
	if scenario == "scale" {
		return b.scale(ctx, dbKind) // a database of its own, kept between runs
	}
	e, err := b.newEnv(ctx, dbKind)
	if err != nil {
		return nil, err
	}
	defer e.close()
	res := result{"scenario": scenario, "db": dbKind}
	var body func(*faulttest.Proc) error
	switch scenario {
	case "start":
		body = func(*faulttest.Proc) error { return nil }
	case "fanout":
		farm, err := b.seedFanout(ctx, e, res)
		if err != nil {
			return nil, err
		}
		if b.o.profile != "" {
			if e.debug, err = faulttest.FreeAddr(); err != nil {
				farm.Close()
				return nil, err
			}
		}
		defer farm.Close()
		body = func(p *faulttest.Proc) error { return b.fanout(ctx, e, p, farm, res) }
	case "inbox":
		farm, reqs, err := b.seedInbox(ctx, e, res)
		if err != nil {
			return nil, err
		}
		defer farm.Close()
		body = func(p *faulttest.Proc) error { return b.inbox(ctx, e, p, reqs, res) }
	case "media", "media20":
		token, err := b.seedMedia(ctx, e)
		if err != nil {
			return nil, err
		}
		data, uploads := photo(4000, 3000, 40, 92), b.o.uploads
		if scenario == "media20" {
			data, uploads = photo(5472, 3648, 16, 85), 1
		}
		if b.o.small {
			data = photo(800, 600, 40, 92)
		}
		body = func(*faulttest.Proc) error { return b.media(ctx, e, token, data, uploads, res) }
	case "process", "follows":
		bl, err := b.seedBacklog(ctx, e, scenario, res)
		if err != nil {
			return nil, err
		}
		defer bl.farm.Close()
		body = func(p *faulttest.Proc) error { return b.process(ctx, e, p, scenario, bl, res) }
	default:
		return nil, fmt.Errorf("unknown scenario %q", scenario)
	}
	p, err := b.proc(ctx, e)
	if err != nil {
		return nil, err
	}
	defer p.Stop()
	res["start_ms"] = ms(p.Ready)
	time.Sleep(time.Second) // let start-up garbage settle
	rss, _, err := p.Memory()
	if err != nil {
		return nil, err
	}
	res["rss_idle_mb"] = mb(rss)
	if err := body(p); err != nil {
		return nil, err
	}
	_, peak, err := p.Memory()
	if err != nil {
		return nil, err
	}
	res["rss_peak_mb"] = mb(peak)
	return res, nil
}

// seedFanout stores the community's followers, evenly over the hosts,
// and a poster on a host of its own.
func (b *bench) seedFanout(ctx context.Context, e *env, res result) (*faulttest.Farm, error) {
	keys, err := b.sharedKeys()
	if err != nil {
		return nil, err
	}
	farm, err := faulttest.NewFarm(b.o.hosts + 1)
	if err != nil {
		return nil, err
	}
	for _, h := range farm.Hosts {
		h.Software = b.o.software
		if d := b.o.hostDelay; d > 0 {
			// A server across a network: each answer takes d.
			h.Respond = func(int) faulttest.Reply { return faulttest.Reply{Delay: d} }
		}
	}
	var followers []*faulttest.RemoteActor
	for i := range b.o.followers {
		h := farm.Hosts[i%b.o.hosts]
		a, err := farm.NewActor(h, fmt.Sprintf("u%d", i), keys[i%len(keys)])
		if err != nil {
			farm.Close()
			return nil, err
		}
		followers = append(followers, a)
	}
	poster, err := farm.NewActor(farm.Hosts[b.o.hosts], "poster", keys[0])
	if err == nil {
		err = faulttest.Seed(ctx, e.db, e.community, followers)
	}
	if err == nil {
		err = faulttest.Seed(ctx, e.db, nil, []*faulttest.RemoteActor{poster})
	}
	if err != nil {
		farm.Close()
		return nil, err
	}
	res["hosts"], res["followers"] = b.o.hosts, b.o.followers
	if b.o.hostDelay > 0 {
		res["host_delay_ms"] = ms(b.o.hostDelay)
	}
	e.cleanup = append(e.cleanup, func() {}) // farm closed by the caller
	fanoutPoster[e] = poster
	return farm, nil
}

var fanoutPoster = map[*env]*faulttest.RemoteActor{}

// fanout posts twice. After the first post the server has asked every
// host what software it runs (NodeInfo, in the background, prompted by
// that fan-out, which sends hosts of unknown software both forms); the
// second post is measured: time from its acceptance (202) to the last host
// acknowledging the form it displays (the boost for Mastodon-like
// software and for unknown software, which gets it first; the Announce of
// the Create for FEP-1b12 software), and to the last acknowledgement of
// any form; requests per host.
func (b *bench) fanout(ctx context.Context, e *env, p *faulttest.Proc, farm *faulttest.Farm, res result) error {
	poster := fanoutPoster[e]
	delete(fanoutPoster, e)
	hosts := farm.Hosts[:b.o.hosts]
	firstForms := 2 // unknown software: both forms
	if _, err := b.post(ctx, e, poster, 1); err != nil {
		return err
	}
	if err := waitFor(ctx, "the first post's deliveries", func() (bool, error) {
		return farm.Accepted.Load() >= int64(firstForms*len(hosts)), nil
	}); err != nil {
		return err
	}
	domains := make([]string, len(hosts))
	for i, h := range hosts {
		domains[i] = h.Domain
	}
	// A query, not a counter: asked every 100 ms, not to load the
	// database the server uses.
	if err := waitEvery(ctx, "the hosts' software to be known", 100*time.Millisecond, func() (bool, error) {
		rows, err := e.db.HostsSoftware(ctx, domains)
		return len(rows) == len(domains), err
	}); err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond) // a stray request of the first post would show now
	res["first_post_requests_per_host"] = round2(float64(farm.Requests.Load()) / float64(len(hosts)))

	// The measured post.
	requests, verified, accepted0 := farm.Requests.Load(), farm.Verified.Load(), farm.Accepted.Load()
	b0, acts0 := farm.Boosts.Load(), farm.ActivityAnnounces.Load()
	// What each host displays: the boost, unless it reads FEP-1b12.
	displayed, lastDisplayed, displayed0, forms := &farm.Boosts, farm.LastBoost, b0, 1
	switch b.o.software {
	case "":
		forms = 2
	case "lemmy":
		displayed, lastDisplayed, displayed0 = &farm.ActivityAnnounces, farm.LastActivityAnnounce, acts0
	}
	prof := b.startProfile(e, dbKindOf(res))
	cpu0, err := p.CPU()
	if err != nil {
		return err
	}
	accepted, err := b.post(ctx, e, poster, 2)
	if err != nil {
		return err
	}
	if err := waitFor(ctx, "every host's displayed form", func() (bool, error) {
		return displayed.Load()-displayed0 >= int64(len(hosts)), nil
	}); err != nil {
		return err
	}
	res["accept_to_last_displayed_ms"] = ms(lastDisplayed().Sub(accepted))
	if err := waitFor(ctx, "every delivery", func() (bool, error) {
		return farm.Accepted.Load()-accepted0 >= int64(forms*len(hosts)), nil
	}); err != nil {
		return err
	}
	cpu, err := p.CPU()
	if err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond) // a duplicate or a stray request would show now
	res["software"] = b.o.software
	// Each host's last requests (forms of them) are of the measured post.
	var first time.Time
	for _, h := range hosts {
		if ts := h.Times(); len(ts) >= forms && (first.IsZero() || ts[len(ts)-forms].Before(first)) {
			first = ts[len(ts)-forms]
		}
	}
	res["accept_to_first_request_ms"] = ms(first.Sub(accepted))
	res["server_cpu_ms_per_request"] = round2(float64(cpu-cpu0) / float64(time.Millisecond) / float64(max(1, farm.Requests.Load()-requests)))
	res["accept_to_last_ack_ms"] = ms(farm.LastAck().Sub(accepted))
	res["requests"] = farm.Requests.Load() - requests
	res["signatures_verified"] = farm.Verified.Load() - verified
	res["refused"] = farm.Refused.Load()
	res["requests_per_host"] = round2(float64(farm.Requests.Load()-requests) / float64(len(hosts)))
	res["boosts"], res["activity_announces"] = farm.Boosts.Load()-b0, farm.ActivityAnnounces.Load()-acts0
	return prof.finish(res)
}

func dbKindOf(res result) string { s, _ := res["db"].(string); return s }

// profile is a CPU profile of the server being taken, and where it and a
// heap profile taken after it go.
type profile struct {
	debug, prefix string
	cpu           chan error
}

// startProfile starts the server's CPU profile for -profile-seconds, if
// profiles were asked for; the zero profile does nothing.
func (b *bench) startProfile(e *env, db string) *profile {
	if b.o.profile == "" || e.debug == "" {
		return &profile{}
	}
	p := &profile{debug: e.debug, prefix: fmt.Sprintf("%s-%s-%d", b.o.profile, db, b.n), cpu: make(chan error, 1)}
	started := make(chan struct{})
	go func() {
		p.cpu <- fetchTo(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.debug, b.o.profileSecs), p.prefix+".cpu.prof", started)
	}()
	<-started
	time.Sleep(50 * time.Millisecond) // the request reaches the profiler
	return p
}

// finish waits for the CPU profile and takes the heap's (after a
// collection: what the server keeps, not what it has freed).
func (p *profile) finish(res result) error {
	if p.cpu == nil {
		return nil
	}
	if err := <-p.cpu; err != nil {
		return fmt.Errorf("CPU profile: %w", err)
	}
	if err := fetchTo("http://"+p.debug+"/debug/pprof/heap?gc=1", p.prefix+".heap.prof", nil); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	res["profile"] = p.prefix
	return nil
}

// fetchTo GETs url into the file path; started, if not nil, is closed
// once the request is about to be sent.
func fetchTo(url, path string, started chan struct{}) error {
	if started != nil {
		close(started)
	}
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// post makes the poster send a post (number n) to the community and
// returns when it was accepted.
func (b *bench) post(ctx context.Context, e *env, poster *faulttest.RemoteActor, n int) (time.Time, error) {
	_, body := poster.Create(e.community.URI, "", n)
	req, err := poster.Request("http://"+e.addr+"/inbox", body, time.Now())
	if err != nil {
		return time.Time{}, err
	}
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return time.Time{}, err
	}
	resp.Body.Close()
	accepted := time.Now()
	if resp.StatusCode != http.StatusAccepted {
		return accepted, fmt.Errorf("post answered %d", resp.StatusCode)
	}
	return accepted, nil
}

// waitFor polls cond every 2 ms for up to 10 minutes.
func waitFor(ctx context.Context, what string, cond func() (bool, error)) error {
	return waitEvery(ctx, what, 2*time.Millisecond, cond)
}

// waitEvery polls cond every interval for up to 10 minutes.
func waitEvery(ctx context.Context, what string, interval time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("timed out waiting for %s (%v)", what, err)
		}
		time.Sleep(interval)
	}
}

// prepared is a signed inbox POST, ready to send.
type prepared struct {
	body   []byte
	header http.Header
}

// seedInbox stores the sending actors (keys cached, not members: the
// community is open) on actors/100 hosts, one follower on a host of its
// own so that each post is redistributed, and signs every request in
// advance so that the harness's signing does not compete with the server.
func (b *bench) seedInbox(ctx context.Context, e *env, res result) (*faulttest.Farm, []prepared, error) {
	if e.db.Dialect() == storage.Postgres {
		// Named, so that inbox can find the server's backends.
		dsn, err := faulttest.ReplicaDSN(e.dsn, b.replicaName(0))
		if err != nil {
			return nil, nil, err
		}
		e.dsn = dsn
	}
	keys, err := b.sharedKeys()
	if err != nil {
		return nil, nil, err
	}
	senderHosts := max(1, b.o.actors/100)
	farm, err := faulttest.NewFarm(senderHosts + 1)
	if err != nil {
		return nil, nil, err
	}
	var senders []*faulttest.RemoteActor
	for i := range b.o.actors {
		a, err := farm.NewActor(farm.Hosts[i%senderHosts], fmt.Sprintf("u%d", i), keys[i%len(keys)])
		if err != nil {
			farm.Close()
			return nil, nil, err
		}
		senders = append(senders, a)
	}
	follower, err := farm.NewActor(farm.Hosts[senderHosts], "follower", keys[0])
	if err == nil {
		err = faulttest.Seed(ctx, e.db, nil, senders)
	}
	if err == nil {
		err = faulttest.Seed(ctx, e.db, e.community, []*faulttest.RemoteActor{follower})
	}
	if err != nil {
		farm.Close()
		return nil, nil, err
	}
	inbox := "http://" + e.addr + "/inbox"
	reqs := make([]prepared, b.o.activities)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	workers := 8
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(reqs); i += workers {
				a := senders[i%len(senders)]
				_, body := a.Create(e.community.URI, "", i+1)
				req, err := a.Request(inbox, body, time.Now())
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				reqs[i] = prepared{body: body, header: req.Header}
			}
		})
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		farm.Close()
		return nil, nil, err
	}
	res["actors"], res["activities"], res["concurrency"] = b.o.actors, b.o.activities, b.o.concurrency
	return farm, reqs, nil
}

// inbox sends the prepared requests at the chosen concurrency and waits
// until the server has processed every accepted one. Besides wall-clock
// figures it reports where processor time went while the requests were
// sent, per accepted activity: the server's, its PostgreSQL backends',
// the harness's own (clients and stand-ins) and the rest of the
// machine's; and how many activities were processed meanwhile, which
// competed with acceptance for the same cores.
func (b *bench) inbox(ctx context.Context, e *env, p *faulttest.Proc, reqs []prepared, res result) error {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: b.o.concurrency, MaxIdleConnsPerHost: b.o.concurrency,
	}}
	defer client.CloseIdleConnections()
	inbox := "http://" + e.addr + "/inbox"
	latencies := make([]time.Duration, len(reqs))
	codes := make([]int, len(reqs))
	var next atomic.Int64
	var wg sync.WaitGroup
	var backends *backendSampler
	if e.db.Dialect() == storage.Postgres {
		backends = newBackendSampler(e.db, b.replicaName(0), "")
		backends.run(ctx)
		backends.mark(ctx)
	}
	cpu0, err := p.CPU()
	if err != nil {
		return err
	}
	self0 := selfCPU()
	busy0, _, err := machineCPU()
	if err != nil {
		return err
	}
	start := time.Now()
	for range b.o.concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(reqs) || ctx.Err() != nil {
					return
				}
				req, _ := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(reqs[i].body))
				req.Header = reqs[i].header.Clone()
				t := time.Now()
				resp, err := client.Do(req)
				latencies[i] = time.Since(t)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes[i] = resp.StatusCode
			}
		})
	}
	wg.Wait()
	sent := time.Since(start)
	cpu, err := p.CPU()
	if err != nil {
		return err
	}
	self := selfCPU()
	busy, _, err := machineCPU()
	if err != nil {
		return err
	}
	var dbCPU time.Duration
	if backends != nil {
		byName, err := backends.finish(ctx)
		if err != nil {
			return err
		}
		for _, d := range byName {
			dbCPU += d
		}
	}
	processedSending, err := countInbound(ctx, e.db, storage.ActivityDone)
	if err != nil {
		return err
	}
	accepted := 0
	other := map[int]int{}
	for _, c := range codes {
		if c == http.StatusAccepted {
			accepted++
		} else {
			other[c]++
		}
	}
	// Processed: the activity is done (stored, redistribution queued).
	deadline := time.Now().Add(10 * time.Minute)
	var processed int64
	for {
		n, err := countInbound(ctx, e.db, storage.ActivityDone)
		if err != nil {
			return err
		}
		failed, _ := countInbound(ctx, e.db, storage.ActivityFailed)
		processed = n
		if n+failed >= int64(accepted) {
			if failed > 0 {
				res["failed"] = failed
			}
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("only %d of %d accepted activities processed", n, accepted)
		}
		time.Sleep(20 * time.Millisecond)
	}
	done := time.Since(start)
	slices.Sort(latencies)
	res["accepted"] = accepted
	if len(other) > 0 {
		res["refused_by_status"] = other
	}
	res["accepted_per_s"] = round2(float64(accepted) / sent.Seconds())
	res["p50_ms"] = ms(latencies[len(latencies)/2])
	res["p99_ms"] = ms(latencies[len(latencies)*99/100])
	perAccepted := func(d time.Duration) float64 {
		return round2(float64(d) / float64(time.Millisecond) / float64(max(accepted, 1)))
	}
	res["server_cpu_ms_per_accepted"] = perAccepted(cpu - cpu0)
	if backends != nil {
		res["pg_cpu_ms_per_accepted"] = perAccepted(dbCPU)
	}
	res["harness_cpu_ms_per_accepted"] = perAccepted(self - self0)
	res["other_cpu_ms_per_accepted"] = perAccepted(max(0, (busy-busy0)-(cpu-cpu0)-(self-self0)-dbCPU))
	res["machine_busy_cores_sending"] = round2(float64(busy-busy0) / float64(sent))
	res["processed_while_sending"] = processedSending
	res["processed"] = processed
	res["processed_per_s"] = round2(float64(processed) / done.Seconds())
	if accepted == 0 {
		return errors.New("no activity accepted")
	}
	return nil
}

func ms(d time.Duration) float64 { return round2(float64(d) / float64(time.Millisecond)) }
func mb(b int64) float64         { return round2(float64(b) / (1 << 20)) }
func round2(f float64) float64   { return float64(int64(f*100+0.5)) / 100 }

// countInbound counts received (not local) activities in state.
func countInbound(ctx context.Context, db *storage.DB, state string) (int64, error) {
	var n int64
	err := db.Gorm(ctx).Model(&storage.Activity{}).Where("local = ? AND state = ?", false, state).Count(&n).Error
	return n, err
}
