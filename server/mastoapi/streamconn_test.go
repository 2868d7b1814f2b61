package mastoapi

import (
	"strings"
	"testing"
)

// A client that does not read is dropped once its queue is full, by count
// or by bytes; the server never holds more than the bound for it.
func TestSlowStreamClientIsDropped(t *testing.T) {
	c := newStreamConn(nil)
	for range streamQueueLen {
		c.send(&streamMsg{event: "update", payload: "{}", hasPayload: true})
	}
	if c.closed() {
		t.Fatal("closed before the queue was full")
	}
	c.send(&streamMsg{event: "update", payload: "{}", hasPayload: true})
	if !c.closed() || c.reason != closeSlow {
		t.Fatalf("closed=%v reason=%q after overflowing the queue", c.closed(), c.reason)
	}

	big := newStreamConn(nil)
	payload := strings.Repeat("x", streamQueueBytes/4)
	for range 4 {
		big.send(&streamMsg{event: "update", payload: payload, hasPayload: true})
	}
	if !big.closed() || big.reason != closeSlow {
		t.Fatal("a client over the byte bound was not dropped")
	}
	if got := big.queued.Load(); got > streamQueueBytes {
		t.Fatalf("%d bytes queued, bound %d", got, streamQueueBytes)
	}
}

// Messages are framed as Mastodon frames them: the payload is a JSON
// string, absent for events without one.
func TestStreamFrame(t *testing.T) {
	m := &streamMsg{stream: []string{"hashtag", "care"}, event: "update", payload: `{"id":"1"}`, hasPayload: true}
	if got := string(m.wsFrame()); got != `{"stream":["hashtag","care"],"event":"update","payload":"{\"id\":\"1\"}"}` {
		t.Fatalf("frame %s", got)
	}
	f := &streamMsg{stream: []string{"user"}, event: "filters_changed"}
	if got := string(f.wsFrame()); got != `{"stream":["user"],"event":"filters_changed"}` {
		t.Fatalf("frame %s", got)
	}
}
