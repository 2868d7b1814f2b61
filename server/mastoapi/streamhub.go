package mastoapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/commonplace/commonplace/federation/events"
	"github.com/commonplace/commonplace/storage"
)

// The hub turns live events into messages for this process's streaming
// clients. Events carry ids only; the hub reads each post once, works out
// which connected clients may see it on which of their streams (the same
// rules as the timelines they would otherwise poll), renders it once per
// audience, and queues it on their connections. It never waits for a
// client.

const (
	// hubBuffer is how many events may wait for the hub.
	hubBuffer = 4096
	// tokenCheckEvery is how often every connection's token is checked
	// again, in case a revocation event was missed (a replica that was
	// reconnecting to the database when it was sent).
	tokenCheckEvery = 30 * time.Second
	// maxStreamsPerAccount bounds a member's open streaming connections
	// on one process.
	maxStreamsPerAccount = 32
)

type hub struct {
	a   *API
	log *slog.Logger

	mu        sync.Mutex
	conns     map[*streamConn]struct{}
	byAccount map[int64]int
	stopped   bool

	startOnce sync.Once
	cancel    context.CancelFunc
	done      chan struct{}
}

func newHub(a *API) *hub {
	return &hub{a: a, log: a.log.With("component", "streaming"), conns: map[*streamConn]struct{}{},
		byAccount: map[int64]int{}, done: make(chan struct{})}
}

var errTooManyStreams = errorf(429, "Too many streaming connections")
var errShuttingDown = errorf(503, "Server is shutting down")

// add registers a connection, starting the hub on first use.
func (h *hub) add(c *streamConn) error {
	h.startOnce.Do(h.start)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return errShuttingDown
	}
	if id := c.viewerID(); id > 0 {
		if h.byAccount[id] >= maxStreamsPerAccount {
			return errTooManyStreams
		}
		h.byAccount[id]++
	}
	h.conns[c] = struct{}{}
	return nil
}

func (h *hub) remove(c *streamConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.conns[c]; !ok {
		return
	}
	delete(h.conns, c)
	if id := c.viewerID(); id > 0 {
		if h.byAccount[id]--; h.byAccount[id] <= 0 {
			delete(h.byAccount, id)
		}
	}
}

// count is the number of open connections.
func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

func (h *hub) snapshot() []*streamConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*streamConn, 0, len(h.conns))
	for c := range h.conns {
		out = append(out, c)
	}
	return out
}

func (h *hub) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	var sub *events.Subscription
	if h.a.svc.Events != nil {
		sub = h.a.svc.Events.Subscribe(hubBuffer)
	}
	go func() {
		defer close(h.done)
		if sub != nil {
			defer sub.Close()
		}
		h.run(ctx, sub)
	}()
}

// stop closes every connection and ends the hub, at server shutdown.
func (h *hub) stop() {
	h.mu.Lock()
	h.stopped = true
	h.mu.Unlock()
	for _, c := range h.snapshot() {
		c.close(closeShutdown)
	}
	if h.cancel != nil {
		h.cancel()
		<-h.done
	}
}

func (h *hub) run(ctx context.Context, sub *events.Subscription) {
	var evs <-chan events.Event
	if sub != nil {
		evs = sub.C
	}
	check := time.NewTicker(tokenCheckEvery)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-evs:
			if err := h.handle(ctx, ev); err != nil && ctx.Err() == nil {
				h.log.Warn("live event not streamed", "kind", ev.Kind, "err", err)
			}
		case <-check.C:
			h.checkTokens(ctx)
		}
	}
}

func (h *hub) handle(ctx context.Context, ev events.Event) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	switch ev.Kind {
	case events.StatusCreated, events.StatusUpdated, events.StatusDeleted:
		return h.status(ctx, ev)
	case events.Boosted:
		return h.boost(ctx, ev)
	case events.Unboosted:
		return h.unboost(ctx, ev)
	case events.Notified:
		return h.notification(ctx, ev)
	case events.ConversationUpdated:
		return h.conversation(ctx, ev)
	case events.FiltersChanged:
		for _, c := range h.snapshot() {
			if c.viewerID() == ev.Actor && c.has(streamKey{name: "user"}) {
				c.send(&streamMsg{stream: []string{"user"}, event: "filters_changed"})
			}
		}
	case events.TokenRevoked:
		for _, c := range h.snapshot() {
			if c.tokenID == ev.Token {
				c.close(closeRevoked)
			}
		}
	}
	return nil
}

// checkTokens closes connections whose token was revoked or whose account
// was disabled.
func (h *hub) checkTokens(ctx context.Context) {
	conns := h.snapshot()
	var ids []int64
	for _, c := range conns {
		if c.tokenID > 0 {
			ids = append(ids, c.tokenID)
		}
	}
	if len(ids) == 0 {
		return
	}
	live, err := h.a.db.LiveTokens(ctx, ids)
	if err != nil {
		h.log.Warn("check streaming tokens", "err", err)
		return
	}
	for _, c := range conns {
		if c.tokenID > 0 && !live[c.tokenID] {
			c.close(closeRevoked)
		}
	}
}

// status streams a post that was created, edited or deleted.
func (h *hub) status(ctx context.Context, ev events.Event) error {
	conns := h.snapshot()
	if len(conns) == 0 {
		return nil
	}
	o, err := h.a.db.GetObjectByID(ctx, ev.Object)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	event := map[events.Kind]string{
		events.StatusCreated: "update", events.StatusUpdated: "status.update", events.StatusDeleted: "delete",
	}[ev.Kind]
	public, err := h.publicStreams(ctx, o)
	if err != nil {
		return err
	}
	var candidates []int64
	seen := map[int64]bool{}
	for _, c := range conns {
		if id := c.viewerID(); id > 0 && !seen[id] && c.has(streamKey{name: "user"}) {
			seen[id] = true
			candidates = append(candidates, id)
		}
	}
	home := map[int64]bool{}
	if len(candidates) > 0 {
		ids, err := h.a.db.HomeAudience(ctx, o, candidates)
		if err != nil {
			return err
		}
		for _, id := range ids {
			home[id] = true
		}
	}
	// A followers-only or direct post reaches only its readers' streams
	// (a direct one: the followers it names, as Mastodon's fan-out).
	if o.Visibility != storage.VisibilityPublic && o.Visibility != storage.VisibilityUnlisted {
		live := *o
		live.DeletedAt = nil // its readers hear of its deletion
		for _, c := range conns {
			if id := c.viewerID(); home[id] {
				ok, err := h.a.db.CanSee(ctx, c.viewer, &live)
				if err != nil {
					return err
				}
				home[id] = ok
			}
		}
	}
	// Payloads are rendered once per audience, when first needed.
	rendered := map[int64]string{}
	payload := func(viewer int64, asHome bool) (string, error) {
		if event == "delete" {
			return strconv.FormatInt(o.ID, 10), nil
		}
		key := viewer
		if !asHome {
			key = -1 - viewer
		}
		if p, ok := rendered[key]; ok {
			return p, nil
		}
		var reblog func(*storage.Object) bool
		if asHome && viewer > 0 {
			reblog = h.a.homeReblog(ctx, &storage.Actor{ID: viewer})
		}
		list, err := h.a.rendererFor(ctx, viewer).statusesOf([]storage.Object{*o}, reblog)
		if err != nil {
			return "", err
		}
		b, err := json.Marshal(list[0])
		if err != nil {
			return "", err
		}
		rendered[key] = string(b)
		return string(b), nil
	}
	for _, c := range conns {
		for _, k := range c.subscriptions() {
			var (
				p   string
				err error
			)
			switch {
			case k.name == "user" && home[c.viewerID()]:
				p, err = payload(c.viewerID(), true)
			case public[k]:
				p, err = payload(c.viewerID(), false)
			default:
				continue
			}
			if err != nil {
				return err
			}
			c.send(&streamMsg{stream: k.label(), event: event, payload: p, hasPayload: true})
		}
	}
	return nil
}

// homeCandidates are the members with a user stream open here.
func (h *hub) homeCandidates(conns []*streamConn) []int64 {
	var out []int64
	seen := map[int64]bool{}
	for _, c := range conns {
		if id := c.viewerID(); id > 0 && !seen[id] && c.has(streamKey{name: "user"}) {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// boost streams a person's boost to the user streams of the home
// timelines it enters (see storage's homeBoosts): the booster's and their
// followers', who may read the post and do not have it in their home by
// itself or by an earlier boost.
func (h *hub) boost(ctx context.Context, ev events.Event) error {
	conns := h.snapshot()
	candidates := h.homeCandidates(conns)
	if len(candidates) == 0 {
		return nil
	}
	r, err := h.a.db.GetReblogByID(ctx, ev.Reblog)
	if errors.Is(err, storage.ErrNotFound) {
		return nil // withdrawn meanwhile
	} else if err != nil {
		return err
	}
	o, err := h.a.db.GetObjectByID(ctx, r.ObjectID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if o.DeletedAt != nil {
		return nil
	}
	audience, err := h.a.db.BoostAudience(ctx, r, candidates)
	if err != nil || len(audience) == 0 {
		return err
	}
	already, err := h.a.db.HomeAudience(ctx, o, audience)
	if err != nil {
		return err
	}
	home := map[int64]bool{}
	for _, id := range audience {
		home[id] = !slices.Contains(already, id)
	}
	rendered := map[int64]string{}
	for _, c := range conns {
		id := c.viewerID()
		if !home[id] || !c.has(streamKey{name: "user"}) {
			continue
		}
		p, ok := rendered[id]
		if !ok {
			if see, err := h.a.db.CanSee(ctx, c.viewer, o); err != nil {
				return err
			} else if !see {
				home[id] = false
				continue
			}
			entry := *o
			entry.Boost = r
			list, err := h.a.rendererFor(ctx, id).statusesOf([]storage.Object{entry}, nil)
			if err != nil {
				return err
			}
			b, err := json.Marshal(list[0])
			if err != nil {
				return err
			}
			p = string(b)
			rendered[id] = p
		}
		c.send(&streamMsg{stream: []string{"user"}, event: "update", payload: p, hasPayload: true})
	}
	return nil
}

// unboost tells the user streams of the booster and their followers that
// a boost is gone, by its id, as Mastodon does.
func (h *hub) unboost(ctx context.Context, ev events.Event) error {
	conns := h.snapshot()
	ids, err := h.a.db.FollowersAmong(ctx, ev.Actor, h.homeCandidates(conns))
	if err != nil || len(ids) == 0 {
		return err
	}
	for _, c := range conns {
		if slices.Contains(ids, c.viewerID()) && c.has(streamKey{name: "user"}) {
			c.send(&streamMsg{stream: []string{"user"}, event: "delete", payload: strconv.FormatInt(ev.Reblog, 10), hasPayload: true})
		}
	}
	return nil
}

// publicStreams are the public and hashtag streams a post belongs on, as
// Mastodon broadcasts them: public posts, not replies to someone else,
// and not from a domain the federation policy limits.
func (h *hub) publicStreams(ctx context.Context, o *storage.Object) (map[streamKey]bool, error) {
	out := map[streamKey]bool{}
	if o.Visibility != storage.VisibilityPublic {
		return out, nil
	}
	if o.InReplyToID != nil {
		parent, err := h.a.db.GetObjectByID(ctx, *o.InReplyToID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
		if err != nil || parent.AuthorActorID != o.AuthorActorID {
			return out, nil
		}
	} else if o.InReplyToURI != "" {
		return out, nil
	}
	if a := o.AuthorActor; a != nil && !a.Local {
		d, err := h.a.svc.Policy.Check(ctx, a.Domain)
		if err != nil {
			return nil, err
		}
		if d.Limited || !d.Allowed {
			return out, nil
		}
	}
	out[streamKey{name: "public"}] = true
	origin := "public:remote"
	if o.Local {
		origin = "public:local"
	}
	out[streamKey{name: origin}] = true
	tags, err := h.a.db.ObjectTags(ctx, []int64{o.ID})
	if err != nil {
		return nil, err
	}
	for _, t := range tags[o.ID] {
		out[streamKey{name: "hashtag", param: t}] = true
		if o.Local {
			out[streamKey{name: "hashtag:local", param: t}] = true
		}
	}
	return out, nil
}

// notification streams a new notification to its recipient.
func (h *hub) notification(ctx context.Context, ev events.Event) error {
	var mine []*streamConn
	for _, c := range h.snapshot() {
		if c.viewerID() == ev.Actor {
			mine = append(mine, c)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	n, err := h.a.db.GetNotification(ctx, ev.Actor, ev.Notification)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	list, err := h.a.rendererFor(ctx, ev.Actor).notifications([]storage.Notification{*n})
	if err != nil || len(list) == 0 {
		return err
	}
	b, err := json.Marshal(list[0])
	if err != nil {
		return err
	}
	for _, c := range mine {
		for _, name := range []string{"user", "user:notification"} {
			if c.has(streamKey{name: name}) {
				c.send(&streamMsg{stream: []string{name}, event: "notification", payload: string(b), hasPayload: true})
			}
		}
	}
	return nil
}

// conversation streams a member's changed direct conversation to their
// direct stream.
func (h *hub) conversation(ctx context.Context, ev events.Event) error {
	var mine []*streamConn
	for _, c := range h.snapshot() {
		if c.viewerID() == ev.Actor && c.has(streamKey{name: "direct"}) {
			mine = append(mine, c)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	o, err := h.a.db.GetObjectByID(ctx, ev.Object)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	row, err := h.a.db.GetConversationByThread(ctx, ev.Actor, threadOf(o))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	conv, err := h.a.conversationOf(ctx, mine[0].viewer, row)
	if err != nil || conv == nil {
		return err
	}
	b, err := json.Marshal(conv)
	if err != nil {
		return err
	}
	for _, c := range mine {
		c.send(&streamMsg{stream: []string{"direct"}, event: "conversation", payload: string(b), hasPayload: true})
	}
	return nil
}
