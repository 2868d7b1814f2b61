package mastoapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// wsMessage is a streaming message as Mastodon frames it.
type wsMessage struct {
	Stream  []string `json:"stream"`
	Event   string   `json:"event"`
	Payload *string  `json:"payload"`
	Error   string   `json:"error"`
	Status  int      `json:"status"`
}

// wsClient is a real WebSocket client on a node's streaming API.
type wsClient struct {
	t       *testing.T
	conn    *websocket.Conn
	msgs    chan wsMessage
	done    chan error
	pending []wsMessage
}

// dialStream opens /api/v1/streaming with token (as access_token) and the
// query q.
func dialStream(t *testing.T, base, token string, q url.Values) *wsClient {
	t.Helper()
	if q == nil {
		q = url.Values{}
	}
	if token != "" {
		q.Set("access_token", token)
	}
	u := strings.Replace(base, "http://", "ws://", 1) + "/api/v1/streaming?" + q.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, res, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		body := ""
		if res != nil {
			b, _ := io.ReadAll(res.Body)
			body = string(b)
		}
		t.Fatalf("dial %s: %v %s", u, err, body)
	}
	c := &wsClient{t: t, conn: conn, msgs: make(chan wsMessage, 100), done: make(chan error, 1)}
	go func() {
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				c.done <- err
				close(c.msgs)
				return
			}
			var m wsMessage
			if err := json.Unmarshal(data, &m); err != nil {
				c.done <- err
				close(c.msgs)
				return
			}
			c.msgs <- m
		}
	}()
	t.Cleanup(func() { conn.CloseNow() })
	return c
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	if err := c.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

// next waits for the first message matching keep; the others stay for
// later calls, since streams interleave in no set order.
func (c *wsClient) next(what string, keep func(wsMessage) bool) wsMessage {
	c.t.Helper()
	for i, m := range c.pending {
		if keep(m) {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			return m
		}
	}
	timeout := time.After(15 * time.Second)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				c.t.Fatalf("waiting for %s: connection closed: %v", what, <-c.done)
			}
			if keep(m) {
				return m
			}
			c.pending = append(c.pending, m)
		case <-timeout:
			c.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// none checks that no message matching bad arrives within a moment.
func (c *wsClient) none(what string, bad func(wsMessage) bool) {
	c.t.Helper()
	for _, m := range c.pending {
		if bad(m) {
			c.t.Fatalf("got %s: %+v", what, m)
		}
	}
	timeout := time.After(500 * time.Millisecond)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				return
			}
			if bad(m) {
				c.t.Fatalf("got %s: %+v", what, m)
			}
		case <-timeout:
			return
		}
	}
}

// drain forgets every message received so far and in the next moment.
func (c *wsClient) drain() {
	c.pending = nil
	timeout := time.After(300 * time.Millisecond)
	for {
		select {
		case _, ok := <-c.msgs:
			if !ok {
				return
			}
		case <-timeout:
			return
		}
	}
}

func isEvent(stream, event string) func(wsMessage) bool {
	return func(m wsMessage) bool { return strings.Join(m.Stream, " ") == stream && m.Event == event }
}

func payloadOf(t *testing.T, m wsMessage) map[string]any {
	t.Helper()
	if m.Payload == nil {
		t.Fatalf("%s on %v has no payload", m.Event, m.Stream)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(*m.Payload), &v); err != nil {
		t.Fatalf("payload of %s is not a JSON object in a string: %v: %q", m.Event, err, *m.Payload)
	}
	return v
}

// streamWorld is a community with a reader who follows it and a poster.
type streamWorld struct {
	node               *fedtest.Node
	reader, poster     *client
	readerTok, postTok string
	readerID           string
}

func newStreamWorld(t *testing.T, n *fedtest.Node) *streamWorld {
	t.Helper()
	n.Community("practice", false, "")
	r := member(t, n, "reader")
	member(t, n, "poster")
	w := &streamWorld{node: n, readerTok: tokenFor(t, n, "reader", "read write follow"), postTok: tokenFor(t, n, "poster", "read write")}
	w.reader, w.poster = newClient(t, n, w.readerTok), newClient(t, n, w.postTok)
	w.readerID = strconv.FormatInt(r.ID, 10)
	g := w.reader.ok("GET", "/api/v1/accounts/lookup?acct=practice", nil).object(t)
	w.reader.ok("POST", "/api/v1/accounts/"+str(g["id"])+"/follow", nil)
	return w
}

// The WebSocket API as Mastodon frames it: subscriptions by URL and by
// message, update on the user, public and hashtag streams, a mention
// notification, status.update and delete, errors for bad subscriptions.
func TestStreamingWebSocket(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			n := fedtest.Start(t, d)
			w := newStreamWorld(t, n)
			ws := dialStream(t, n.URL, w.readerTok, url.Values{"stream": {"user"}})
			ws.send(map[string]string{"type": "subscribe", "stream": "public:local"})
			ws.send(map[string]string{"type": "subscribe", "stream": "hashtag", "tag": "Sepsis"})
			ws.send(map[string]string{"type": "subscribe", "stream": "nonsense"})
			if m := ws.next("an error for an unknown stream", func(m wsMessage) bool { return m.Error != "" }); m.Status != 400 {
				t.Fatalf("error: %+v", m)
			}
			// Subscriptions are processed in order; one that answers
			// proves the ones before it are in place.
			time.Sleep(100 * time.Millisecond)

			posted := w.poster.ok("POST", "/api/v1/statuses", url.Values{"status": {"@practice Lactate first? #sepsis"}}).object(t)
			up := ws.next("update on user", isEvent("user", "update"))
			p := payloadOf(t, up)
			if str(field(p, "reblog", "id")) != str(posted["id"]) || str(field(p, "account", "acct")) != "practice" {
				t.Fatalf("user update is not the community's reblog of the post: %v", p)
			}
			if p := payloadOf(t, ws.next("update on public:local", isEvent("public:local", "update"))); str(p["id"]) != str(posted["id"]) {
				t.Fatalf("public:local update: %v", p)
			}
			if p := payloadOf(t, ws.next("update on hashtag", isEvent("hashtag sepsis", "update"))); str(p["id"]) != str(posted["id"]) {
				t.Fatalf("hashtag update: %v", p)
			}

			mine := w.reader.ok("POST", "/api/v1/statuses", url.Values{"status": {"@practice Which bundle do you use?"}}).object(t)
			w.poster.ok("POST", "/api/v1/statuses", url.Values{"status": {"The one-hour bundle."}, "in_reply_to_id": {str(mine["id"])}})
			note := payloadOf(t, ws.next("a mention notification", isEvent("user", "notification")))
			if note["type"] != "mention" || str(field(note, "account", "acct")) != "poster" || str(field(note, "status", "in_reply_to_id")) != str(mine["id"]) {
				t.Fatalf("notification: %v", note)
			}

			w.poster.ok("PUT", "/api/v1/statuses/"+str(posted["id"]), url.Values{"status": {"Lactate first, then cultures. #sepsis"}})
			edited := payloadOf(t, ws.next("status.update on public:local", isEvent("public:local", "status.update")))
			if !strings.Contains(str(edited["content"]), "cultures") {
				t.Fatalf("edited status: %v", edited)
			}

			w.poster.ok("DELETE", "/api/v1/statuses/"+str(posted["id"]), nil)
			del := ws.next("delete on public:local", isEvent("public:local", "delete"))
			if del.Payload == nil || *del.Payload != str(posted["id"]) {
				t.Fatalf("delete payload: %+v", del)
			}

			ws.send(map[string]string{"type": "unsubscribe", "stream": "public:local"})
			ws.drain()
			w.poster.ok("POST", "/api/v1/statuses", url.Values{"status": {"@practice After unsubscribing"}})
			ws.next("update on user", isEvent("user", "update"))
			ws.none("update on public:local after unsubscribe", isEvent("public:local", "update"))
		})
	}
}

// Refusals before the upgrade are HTTP errors with Mastodon's bodies.
func TestStreamingRefusals(t *testing.T) {
	n := fedtest.Start(t, storage.SQLite)
	member(t, n, "reader")
	tok := tokenFor(t, n, "reader", "read:notifications")
	get := func(path, token string) (int, string) {
		req, _ := http.NewRequest("GET", n.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, tc := range []struct {
		path, token string
		status      int
	}{
		{"/api/v1/streaming/user", "", 401},
		{"/api/v1/streaming/user", tok, 401}, // no read:statuses
		{"/api/v1/streaming/hashtag", "", 400},
		{"/api/v1/streaming/user", "not-a-token", 401},
		{"/api/v1/streaming", "", 400}, // not a WebSocket
	} {
		if got, body := get(tc.path, tc.token); got != tc.status || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s, want %d", tc.path, got, body, tc.status)
		}
	}
	// In allowlist mode public streams are for members only.
	if code, _ := status(t, n.URL+"/api/v1/streaming/public", ""); code != 200 {
		t.Fatalf("public stream in blocklist mode: %d", code)
	}
	if _, err := n.Service.Policy.SetMode(context.Background(), "test", storage.ModeAllowlist); err != nil {
		t.Fatal(err)
	}
	n.Service.Policy.Invalidate()
	if code, body := status(t, n.URL+"/api/v1/streaming/public", ""); code != 401 {
		t.Fatalf("anonymous public stream in allowlist mode: %d %s", code, body)
	}
	if code, _ := status(t, n.URL+"/api/v1/streaming/hashtag?tag=care", tokenFor(t, n, "reader", "read")); code != 200 {
		t.Fatalf("member's hashtag stream in allowlist mode: %d", code)
	}
	if code, body := get("/api/v1/streaming/health", ""); code != 200 || body != "OK" {
		t.Errorf("health: %d %q", code, body)
	}
	inst := newClient(t, n, "").ok("GET", "/api/v1/instance", nil).object(t)
	if got := str(field(inst, "urls", "streaming_api")); got != "ws://"+n.Domain {
		t.Errorf("v1 streaming_api = %q", got)
	}
	inst2 := newClient(t, n, "").ok("GET", "/api/v2/instance", nil).object(t)
	if got := str(field(inst2, "configuration", "urls", "streaming")); got != "ws://"+n.Domain {
		t.Errorf("v2 urls.streaming = %q", got)
	}
}

// Server-Sent Events: the same events on /api/v1/streaming/:stream.
func TestStreamingSSE(t *testing.T) {
	n := fedtest.Start(t, storage.SQLite)
	w := newStreamWorld(t, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", n.URL+"/api/v1/streaming/public/local", nil)
	req.Header.Set("Authorization", "Bearer "+w.readerTok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("SSE: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		buf := make([]byte, 64<<10)
		var pending string
		for {
			k, err := res.Body.Read(buf)
			pending += string(buf[:k])
			for {
				i := strings.IndexByte(pending, '\n')
				if i < 0 {
					break
				}
				lines <- pending[:i]
				pending = pending[i+1:]
			}
			if err != nil {
				return
			}
		}
	}()
	if l := <-lines; l != ":)" {
		t.Fatalf("first line %q", l)
	}
	posted := w.poster.ok("POST", "/api/v1/statuses", url.Values{"status": {"@practice Over SSE"}}).object(t)
	timeout := time.After(15 * time.Second)
	var event string
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream ended")
			}
			if strings.HasPrefix(l, "event: ") {
				event = strings.TrimPrefix(l, "event: ")
			}
			if data, ok := strings.CutPrefix(l, "data: "); ok && event == "update" {
				var s map[string]any
				if err := json.Unmarshal([]byte(data), &s); err != nil || str(s["id"]) != str(posted["id"]) {
					t.Fatalf("data: %v %s", err, data)
				}
				return
			}
		case <-timeout:
			t.Fatal("no update over SSE")
		}
	}
}

// Two replicas on one PostgreSQL: a client connected to one hears what
// happens on the other, and the socket of a token revoked on the other
// closes.
func TestStreamingAcrossReplicas(t *testing.T) {
	a := fedtest.Start(t, storage.Postgres)
	b := a.Replica()
	member(t, a, "reader")
	grant := oauthLoginApp(t, a, "reader", "read write follow")
	w := &streamWorld{node: a}
	a.Community("practice", false, "")
	member(t, a, "poster")
	w.readerTok = grant.token
	w.reader = newClient(t, a, w.readerTok)
	g := w.reader.ok("GET", "/api/v1/accounts/lookup?acct=practice", nil).object(t)
	w.reader.ok("POST", "/api/v1/accounts/"+str(g["id"])+"/follow", nil)
	// The poster talks to replica b; the reader listens on replica a.
	onB := newClient(t, b, tokenFor(t, a, "poster", "read write"))

	ws := dialStream(t, a.URL, w.readerTok, url.Values{"stream": {"user"}})
	ws.send(map[string]string{"type": "subscribe", "stream": "user:notification"})
	time.Sleep(100 * time.Millisecond)

	posted := onB.ok("POST", "/api/v1/statuses", url.Values{"status": {"@practice From the other replica"}}).object(t)
	if p := payloadOf(t, ws.next("update from the other replica", isEvent("user", "update"))); str(field(p, "reblog", "id")) != str(posted["id"]) {
		t.Fatalf("update: %v", p)
	}
	mine := w.reader.ok("POST", "/api/v1/statuses", url.Values{"status": {"@practice A question"}}).object(t)
	onB.ok("POST", "/api/v1/statuses", url.Values{"status": {"An answer"}, "in_reply_to_id": {str(mine["id"])}})
	if n := payloadOf(t, ws.next("notification from the other replica", isEvent("user:notification", "notification"))); n["type"] != "mention" {
		t.Fatalf("notification: %v", n)
	}
	onB.ok("DELETE", "/api/v1/statuses/"+str(posted["id"]), nil)
	if del := ws.next("delete from the other replica", isEvent("user", "delete")); *del.Payload != str(posted["id"]) {
		t.Fatalf("delete: %+v", del)
	}

	// The app revokes its token through the other replica.
	res, err := http.PostForm(b.URL+"/oauth/revoke", url.Values{
		"client_id": {grant.clientID}, "client_secret": {grant.clientSecret}, "token": {grant.token},
	})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	select {
	case <-time.After(10 * time.Second):
		t.Fatal("the revoked token's socket is still open")
	case err := <-ws.done:
		if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Fatalf("closed with %v, want policy violation", err)
		}
	}
}

// status opens a stream and returns its status (and, for an error, its
// body), then hangs up.
func status(t *testing.T, u, token string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	return res.StatusCode, ""
}
