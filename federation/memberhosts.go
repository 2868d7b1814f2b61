package federation

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// A members post written here in a members-only community on another
// server is read by that community's members on other servers too: they
// get the community's Announce and fetch the post from here. This server
// knows only its own members of the community, so it asks the community,
// the authority on who is in it: its followers collection, which member
// servers (this one) may read, names the members. Their hosts are kept a
// while per community, so that fetches, a stranger's included, cost at
// most one read of the collection per community every memberHostsRecheck.

const (
	// memberHostsTTL is how long a community's member hosts are kept;
	// a server not among them is looked for again after
	// memberHostsRecheck, so that a server that just joined is not
	// turned away for long.
	memberHostsTTL     = 5 * time.Minute
	memberHostsRecheck = 30 * time.Second
	// maxMemberPages bounds the pages of a followers collection read.
	maxMemberPages = 20
	// maxCachedCommunities bounds the cache; past it, it starts over.
	maxCachedCommunities = 1000
)

type memberHostCache struct {
	mu      sync.Mutex
	byGroup map[int64]memberHostEntry
}

type memberHostEntry struct {
	hosts map[string]bool
	at    time.Time
}

// communityHostsMember reports whether the server at host hosts a member
// of the remote community group, as its followers collection says.
func (s *Service) communityHostsMember(ctx context.Context, group *storage.Actor, host string) (bool, error) {
	if group.Local || host == "" {
		return false, nil
	}
	now := s.now()
	c := &s.memberHosts
	c.mu.Lock()
	e, ok := c.byGroup[group.ID]
	c.mu.Unlock()
	host = strings.ToLower(host)
	if !ok || now.Sub(e.at) > memberHostsTTL || !e.hosts[host] && now.Sub(e.at) > memberHostsRecheck {
		hosts, err := s.readMemberHosts(ctx, group)
		if err != nil {
			return false, err
		}
		e = memberHostEntry{hosts: hosts, at: now}
		c.mu.Lock()
		if c.byGroup == nil || len(c.byGroup) >= maxCachedCommunities {
			c.byGroup = map[int64]memberHostEntry{}
		}
		c.byGroup[group.ID] = e
		c.mu.Unlock()
	}
	return e.hosts[host], nil
}

// readMemberHosts reads the hosts of a remote community's members from
// its followers collection, page by page, bounded.
func (s *Service) readMemberHosts(ctx context.Context, group *storage.Actor) (map[string]bool, error) {
	hosts := map[string]bool{}
	next := group.FollowersURI
	if next == "" || !sameHost(next, group.URI) {
		return hosts, nil
	}
	for pages := 0; next != "" && pages <= maxMemberPages; pages++ {
		body, _, err := s.fetch(ctx, next)
		if err != nil {
			return nil, fmt.Errorf("members of %s: %w", group.URI, err)
		}
		coll, err := vocab.ParseCollection(body)
		if err != nil {
			return nil, fmt.Errorf("%w: members of %s: %v", ErrInvalid, group.URI, err)
		}
		for _, m := range coll.Members() {
			if h := hostOf(m.ID()); h != "" {
				hosts[strings.ToLower(h)] = true
			}
		}
		switch {
		case coll.First.ID() != "" && pages == 0 && len(coll.Members()) == 0:
			next = coll.First.ID()
		default:
			next = string(coll.Next)
		}
		if next != "" && !sameHost(next, group.URI) {
			return nil, fmt.Errorf("%w: members of %s continue on another host", ErrForbidden, group.URI)
		}
	}
	return hosts, nil
}
