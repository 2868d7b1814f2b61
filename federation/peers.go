package federation

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/storage"
)

// What software each member's server runs, and so which form of a
// community's Announce it reads (see redistribute.go). It is learnt from
// the server's NodeInfo by a background prober, kept in the hosts table
// (shared by replicas) and cached here for a few minutes, so a fan-out to a
// thousand servers costs at most a couple of queries and no request.

// peerForm is the form of Announce a server reads.
type peerForm uint8

const (
	// formUnknown: software not known (yet); it is sent both forms, the
	// one most servers display first.
	formUnknown peerForm = iota
	// formObject: Mastodon and the like treat every Announce as a boost
	// of its object, which they fetch.
	formObject
	// formActivity: FEP-1b12 servers read the Announce of the activity
	// (Create, Update, Delete, Like) and show its object.
	formActivity
)

func (f peerForm) String() string {
	return [...]string{"unknown", "object", "activity"}[f]
}

// activityReaders are the FEP-1b12 group servers, by NodeInfo name.
var activityReaders = map[string]bool{
	"lemmy": true, "mbin": true, "kbin": true, "piefed": true, "nodebb": true, "lotide": true,
	"commonplace": true,
}

// objectReaders are servers known to show an Announce as a boost of its
// object and to ignore (or reject) an Announce of an activity.
var objectReaders = map[string]bool{
	"mastodon": true, "hometown": true, "fedibird": true, "gotosocial": true,
	"akkoma": true, "pleroma": true, "misskey": true, "sharkey": true, "firefish": true,
	"iceshrimp": true, "calckey": true, "foundkey": true, "cherrypick": true, "catodon": true,
	"pixelfed": true, "takahe": true, "snac": true, "honk": true,
}

func formOf(software string) peerForm {
	switch {
	case activityReaders[software]:
		return formActivity
	case objectReaders[software]:
		return formObject
	}
	return formUnknown
}

const (
	// softwareFresh is how long a server's answer is trusted before it is
	// asked again (servers rarely change software; when one does, the
	// stale form is used until the next answer).
	softwareFresh = 24 * time.Hour
	// softwareRetry is how long a server that did not say is left before
	// it is asked again.
	softwareRetry = time.Hour
	// peerCacheTTL bounds how old a cached row may be, so that what another
	// replica learnt is seen soon.
	peerCacheTTL = 5 * time.Minute
	// maxPeerCache bounds the cache; past it, it starts over.
	maxPeerCache = 20000
	// probeQueue bounds the hosts waiting to be asked; one left out is
	// wanted again at its next fan-out. A community's first post to ten
	// thousand new servers queues them all, so that its second post is sent
	// in the form each displays.
	probeQueue = maxPeerCache
	// probeWorkers is how many servers are asked at once: each probe is
	// two small GETs, mostly waiting on the network, and at two at a time
	// ten thousand servers took minutes to learn.
	probeWorkers = 8
	// maxSoftwareName bounds what we store of a server's self-description.
	maxSoftwareName = 64
)

// peerBook caches the hosts table's software rows and queues the hosts to
// ask.
type peerBook struct {
	mu      sync.Mutex
	entries map[string]peerEntry // by delivery host
	queued  map[string]bool      // hosts waiting or being asked
	// waiting are the hosts to ask, oldest first (at most probeQueue); a
	// slice rather than a channel of that size, which an idle instance
	// would hold allocated.
	waiting []peerProbe
	wake    chan struct{}
}

type peerEntry struct {
	sw     storage.HostSoftware
	loaded time.Time
}

type peerProbe struct{ scheme, host string }

func newPeerBook() peerBook {
	return peerBook{entries: map[string]peerEntry{}, queued: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// next takes the oldest waiting probe, if any, and wakes another prober
// when more wait.
func (b *peerBook) next() (peerProbe, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.waiting) == 0 {
		b.waiting = nil // let a drained queue's array go
		return peerProbe{}, false
	}
	p := b.waiting[0]
	b.waiting = b.waiting[1:]
	if len(b.waiting) > 0 {
		b.signal()
	}
	return p, true
}

func (b *peerBook) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// peerForms returns the form each inbox's server reads, reading what the
// cache lacks through tx in one batch, and queues the servers whose
// software is unknown or stale to be asked.
func (s *Service) peerForms(ctx context.Context, tx *storage.DB, inboxes []string) (map[string]peerForm, error) {
	now := time.Now()
	hosts := make(map[string]string, len(inboxes)) // inbox -> host
	var missing []string
	s.peers.mu.Lock()
	for _, in := range inboxes {
		h := storage.DeliveryHost(in)
		hosts[in] = h
		if e, ok := s.peers.entries[h]; h != "" && (!ok || now.Sub(e.loaded) > peerCacheTTL) {
			missing = append(missing, h)
		}
	}
	s.peers.mu.Unlock()
	if len(missing) > 0 {
		rows, err := tx.HostsSoftware(ctx, missing)
		if err != nil {
			return nil, err
		}
		s.peers.mu.Lock()
		if len(s.peers.entries)+len(missing) > maxPeerCache {
			clear(s.peers.entries)
		}
		for _, h := range missing {
			// A host never asked is cached as such, with no check time.
			s.peers.entries[h] = peerEntry{sw: rows[h], loaded: now}
		}
		s.peers.mu.Unlock()
	}
	out := make(map[string]peerForm, len(inboxes))
	s.peers.mu.Lock()
	defer s.peers.mu.Unlock()
	for _, in := range inboxes {
		e := s.peers.entries[hosts[in]]
		out[in] = formOf(e.sw.Software)
		if hosts[in] != "" && softwareStale(e.sw, now) {
			s.wantSoftwareLocked(in, hosts[in])
		}
	}
	return out, nil
}

// softwareStale reports whether a server should be asked again.
func softwareStale(sw storage.HostSoftware, now time.Time) bool {
	switch {
	case sw.CheckedAt.IsZero():
		return true
	case sw.Software == "":
		return now.Sub(sw.CheckedAt) > softwareRetry
	}
	return now.Sub(sw.CheckedAt) > softwareFresh
}

// wantSoftware queues the server of an actor or inbox URL to be asked
// what it runs, unless it is known or already queued. It never blocks.
func (s *Service) wantSoftware(uri string) {
	h := storage.DeliveryHost(uri)
	if h == "" || s.URLs.IsLocal(uri) {
		return
	}
	s.peers.mu.Lock()
	defer s.peers.mu.Unlock()
	if e, ok := s.peers.entries[h]; ok && !softwareStale(e.sw, time.Now()) {
		return
	}
	s.wantSoftwareLocked(uri, h)
}

func (s *Service) wantSoftwareLocked(uri, host string) {
	if s.peers.queued[host] {
		return
	}
	u, err := url.Parse(uri)
	if err != nil {
		return
	}
	if len(s.peers.waiting) >= probeQueue {
		return // full: wanted again at the host's next fan-out
	}
	s.peers.waiting = append(s.peers.waiting, peerProbe{scheme: u.Scheme, host: u.Host})
	s.peers.queued[host] = true
	s.peers.signal()
}

// RunPeerProbes asks queued servers what software they run until ctx is
// done. Every replica runs it; a server another replica asked recently is
// not asked again.
func (s *Service) RunPeerProbes(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for range probeWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if p, ok := s.peers.next(); ok {
					s.probe(ctx, p)
					continue
				}
				select {
				case <-ctx.Done():
					return
				case <-s.peers.wake:
				}
			}
		}()
	}
}

// probe asks one server, unless its row is fresh, and records the answer.
func (s *Service) probe(ctx context.Context, p peerProbe) {
	host := storage.DeliveryHost(p.scheme + "://" + p.host + "/")
	defer func() {
		s.peers.mu.Lock()
		delete(s.peers.queued, host)
		s.peers.mu.Unlock()
	}()
	now := time.Now()
	if rows, err := s.DB.HostsSoftware(ctx, []string{host}); err != nil {
		s.Log.Warn("read host software", "host", host, "err", err)
		return
	} else if sw, ok := rows[host]; ok && !softwareStale(sw, now) {
		s.cacheSoftware(sw, now)
		return
	}
	sw := storage.HostSoftware{Domain: host, CheckedAt: now.UTC()}
	name, version, err := s.NodeInfoSoftware(ctx, p.scheme+"://"+p.host)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.Log.Debug("no NodeInfo software", "host", host, "err", err)
	} else {
		sw.Software, sw.Version = name, version
		s.Log.Info("peer software", "host", host, "software", name, "version", version, "form", formOf(name))
	}
	if err := s.DB.PutHostSoftware(ctx, sw); err != nil {
		s.Log.Warn("record host software", "host", host, "err", err)
		return
	}
	s.cacheSoftware(sw, now)
}

func (s *Service) cacheSoftware(sw storage.HostSoftware, now time.Time) {
	s.peers.mu.Lock()
	defer s.peers.mu.Unlock()
	if len(s.peers.entries) >= maxPeerCache {
		clear(s.peers.entries)
	}
	s.peers.entries[sw.Domain] = peerEntry{sw: sw, loaded: now}
}

// NodeInfo as far as we read it.
type nodeInfoLinks struct {
	Links []struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	} `json:"links"`
}

type nodeInfoDoc struct {
	Software struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"software"`
}

// nodeInfoSchema prefixes the rel of a NodeInfo 2.x link; the rest is the
// schema version.
var nodeInfoSchema = []string{"http://nodeinfo.diaspora.software/ns/schema/", "https://nodeinfo.diaspora.software/ns/schema/"}

// NodeInfoSoftware asks the server at origin (scheme://host) what software
// it runs: the name (lower-cased) and version from its NodeInfo, the newest
// schema it links. Both requests go through the transport (policy, address
// guard, size cap) and the document must be on the server's own host.
func (s *Service) NodeInfoSoftware(ctx context.Context, origin string) (name, version string, err error) {
	if s.Client == nil {
		return "", "", fmt.Errorf("federation client not configured")
	}
	wellKnown := origin + "/.well-known/nodeinfo"
	if err := s.refuse(ctx, wellKnown); err != nil {
		return "", "", err
	}
	body, _, err := s.Client.GetAs(ctx, wellKnown, transport.AcceptNodeInfo, nil)
	if err != nil {
		return "", "", err
	}
	var links nodeInfoLinks
	if err := unmarshalRemote(body, &links); err != nil {
		return "", "", fmt.Errorf("%w: NodeInfo links of %s: %v", ErrInvalid, origin, err)
	}
	var best, href string
	for _, l := range links.Links {
		for _, prefix := range nodeInfoSchema {
			v, ok := strings.CutPrefix(l.Rel, prefix)
			if ok && strings.HasPrefix(v, "2.") && v > best && sameHost(l.Href, origin) {
				best, href = v, l.Href
			}
		}
	}
	if href == "" {
		return "", "", fmt.Errorf("%w: %s links no NodeInfo 2.x on its own host", ErrInvalid, origin)
	}
	body, _, err = s.Client.GetAs(ctx, href, transport.AcceptNodeInfo, nil)
	if err != nil {
		return "", "", err
	}
	var doc nodeInfoDoc
	if err := unmarshalRemote(body, &doc); err != nil {
		return "", "", fmt.Errorf("%w: NodeInfo of %s: %v", ErrInvalid, origin, err)
	}
	name = strings.ToLower(strings.TrimSpace(doc.Software.Name))
	if name == "" || len(name) > maxSoftwareName || strings.ContainsFunc(name, notNameRune) {
		return "", "", fmt.Errorf("%w: NodeInfo of %s names software %q", ErrInvalid, origin, doc.Software.Name)
	}
	version = strings.TrimSpace(doc.Software.Version)
	if len(version) > maxSoftwareName {
		version = version[:maxSoftwareName]
	}
	return name, strings.ToValidUTF8(version, ""), nil
}

// notNameRune is false for what NodeInfo allows in a software name
// ([a-z0-9-]) and the dots and underscores some servers use.
func notNameRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || slices.Contains([]rune("-._"), r))
}
