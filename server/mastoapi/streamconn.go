package mastoapi

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/commonplace/commonplace/storage"
)

// One streaming client: a WebSocket with any number of subscriptions, or
// an SSE response with one. The hub queues messages on it without ever
// waiting; a client that does not keep up is disconnected, so that no
// client can make the server hold more than a bounded amount for it.

// Bounds of one connection's queue.
const (
	streamQueueLen   = 64
	streamQueueBytes = 1 << 20
	// maxSubscriptions bounds the streams one WebSocket follows.
	maxSubscriptions = 32
)

// streamKey names a subscription: a stream and its parameter (the tag of a
// hashtag stream, the id of a list).
type streamKey struct {
	name  string
	param string
}

// label is the "stream" field of a message, as Mastodon writes it.
func (k streamKey) label() []string {
	if k.param != "" {
		return []string{k.name, k.param}
	}
	return []string{k.name}
}

// streamMsg is one event for one subscription.
type streamMsg struct {
	stream  []string
	event   string
	payload string
	// hasPayload is false for events without one (filters_changed).
	hasPayload bool
	// raw, when set, is sent as it is (an error answering a client).
	raw []byte
}

// wsFrame is a message as Mastodon's WebSocket API sends it: the payload
// is itself JSON, sent as a string.
func (m *streamMsg) wsFrame() []byte {
	if m.raw != nil {
		return m.raw
	}
	v := struct {
		Stream  []string `json:"stream"`
		Event   string   `json:"event"`
		Payload *string  `json:"payload,omitempty"`
	}{Stream: m.stream, Event: m.event}
	if m.hasPayload {
		v.Payload = &m.payload
	}
	b, _ := json.Marshal(v)
	return b
}

// Close reasons, sent in the WebSocket close frame.
const (
	closeRevoked  = "access token revoked"
	closeSlow     = "client too slow"
	closeShutdown = "server shutting down"
)

type streamConn struct {
	tokenID int64
	viewer  *storage.Actor // nil: anonymous or an application token
	scopes  []string

	mu   sync.Mutex
	subs map[streamKey]bool

	out    chan *streamMsg
	queued atomic.Int64

	done      chan struct{}
	closeOnce sync.Once
	reason    string
}

func newStreamConn(tok *storage.OAuthToken) *streamConn {
	c := &streamConn{subs: map[streamKey]bool{}, out: make(chan *streamMsg, streamQueueLen), done: make(chan struct{})}
	if tok != nil {
		c.tokenID = tok.ID
		c.scopes = strings.Fields(tok.Scopes)
		if tok.Account != nil {
			c.viewer = tok.Account.Actor
		}
	}
	return c
}

func (c *streamConn) viewerID() int64 {
	if c.viewer == nil {
		return 0
	}
	return c.viewer.ID
}

// subscribe adds k; false when the connection already follows too many.
func (c *streamConn) subscribe(k streamKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.subs[k] && len(c.subs) >= maxSubscriptions {
		return false
	}
	c.subs[k] = true
	return true
}

func (c *streamConn) unsubscribe(k streamKey) {
	c.mu.Lock()
	delete(c.subs, k)
	c.mu.Unlock()
}

// subscriptions returns the connection's subscriptions.
func (c *streamConn) subscriptions() []streamKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]streamKey, 0, len(c.subs))
	for k := range c.subs {
		out = append(out, k)
	}
	return out
}

func (c *streamConn) has(k streamKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.subs[k]
}

// send queues m, or disconnects the client when its queue is full.
func (c *streamConn) send(m *streamMsg) {
	size := int64(len(m.payload) + 64)
	if c.queued.Add(size) > streamQueueBytes {
		c.queued.Add(-size)
		c.close(closeSlow)
		return
	}
	select {
	case <-c.done:
		c.queued.Add(-size)
	case c.out <- m:
	default:
		c.queued.Add(-size)
		c.close(closeSlow)
	}
}

// sent accounts for a message taken off the queue.
func (c *streamConn) sent(m *streamMsg) { c.queued.Add(-int64(len(m.payload) + 64)) }

// close ends the connection for reason; the first reason wins.
func (c *streamConn) close(reason string) {
	c.closeOnce.Do(func() {
		c.reason = reason
		close(c.done)
	})
}

func (c *streamConn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}
