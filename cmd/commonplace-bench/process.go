package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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

// backlog is a seeded queue: the rows to insert, and one signed request
// that wakes the workers.
type backlog struct {
	farm     *faulttest.Farm
	rows     []storage.Activity
	wake     prepared
	follower *faulttest.Host // process: the community's one follower host
}

// seedBacklog stores the senders (keys cached) and builds the backlog of
// kind "process" or "follows".
func (b *bench) seedBacklog(ctx context.Context, e *env, kind string, res result) (*backlog, error) {
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
	// n rows in the queue, and the (n+1)-th sent through the inbox.
	bodies := make([][]byte, n+1)
	for i := range bodies {
		a := senders[i%len(senders)]
		var id string
		if kind == "process" {
			id, bodies[i] = a.Create(e.community.URI, "", i+1)
		} else {
			id, bodies[i] = follow(a, e.community.URI, i+1)
		}
		if i == n {
			req, err := a.Request("http://"+e.addr+"/inbox", bodies[i], time.Now())
			if err != nil {
				return fail(err)
			}
			bl.wake = prepared{body: bodies[i], header: req.Header}
			break
		}
		typ, object := "Create", id[:len(id)-len("/activity")]
		if kind == "follows" {
			typ, object = "Follow", e.community.URI
		}
		bl.rows = append(bl.rows, storage.Activity{
			URI: id, Type: typ, ActorURI: a.URI, ObjectURI: object, Raw: string(bodies[i]),
		})
	}
	res["actors"], res["activities"] = actors, n+1
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

// process queues the backlog, wakes the workers and waits until every
// activity is done; then it checks what processing left behind.
func (b *bench) process(ctx context.Context, e *env, p *faulttest.Proc, kind string, bl *backlog, res result) error {
	now := time.Now().UTC()
	for i := range bl.rows {
		bl.rows[i].State, bl.rows[i].RunAfter = storage.ActivityPending, &now
	}
	if err := e.db.Gorm(ctx).CreateInBatches(bl.rows, 500).Error; err != nil {
		return fmt.Errorf("queue the backlog: %w", err)
	}
	cpu0, err := p.CPU()
	if err != nil {
		return err
	}
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+e.addr+"/inbox", bytes.NewReader(bl.wake.body))
	req.Header = bl.wake.header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("wake-up POST answered %d", resp.StatusCode)
	}
	total := int64(len(bl.rows) + 1)
	var done, failed int64
	if err := waitFor(ctx, "the backlog to be processed", func() (bool, error) {
		var err error
		if done, err = countInbound(ctx, e.db, storage.ActivityDone); err != nil {
			return false, err
		}
		if failed, err = countInbound(ctx, e.db, storage.ActivityFailed); err != nil {
			return false, err
		}
		if done+failed < total {
			time.Sleep(10 * time.Millisecond)
			return false, nil
		}
		return true, nil
	}); err != nil {
		return err
	}
	elapsed := time.Since(start)
	cpu, err := p.CPU()
	if err != nil {
		return err
	}
	// The server's own processor time per activity: on a machine shared
	// with other work, wall time says how busy the machine was as much
	// as how fast the server is.
	res["server_cpu_ms_per_activity"] = round2(float64(cpu-cpu0) / float64(time.Millisecond) / float64(total))
	res["processed"], res["failed"] = done, failed
	res["processed_per_s"] = round2(float64(done) / elapsed.Seconds())
	res["elapsed_ms"] = ms(elapsed)

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
	if failed > 0 {
		return fmt.Errorf("%d of %d activities failed", failed, total)
	}
	return nil
}
