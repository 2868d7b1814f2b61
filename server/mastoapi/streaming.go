package mastoapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation/oauth"
	"github.com/commonplace/commonplace/server"
	"github.com/commonplace/commonplace/storage"
)

// Mastodon's streaming API: one WebSocket at /api/v1/streaming carrying
// any number of subscriptions ({"type":"subscribe","stream":"hashtag",
// "tag":"x"}), and one Server-Sent Events endpoint per stream. Messages
// are Mastodon's: {"stream":["user"],"event":"update","payload":"<the
// status as a JSON string>"} on the WebSocket, "event: update" and
// "data: <payload>" lines on SSE.

const (
	// wsPingEvery keeps WebSockets alive through proxies and finds dead
	// peers; sseHeartbeatEvery does the same for SSE with a comment line,
	// as Mastodon's ":thump".
	wsPingEvery       = 30 * time.Second
	sseHeartbeatEvery = 15 * time.Second
	// writeTimeout drops a client that does not read what is sent.
	writeTimeout = 10 * time.Second
	// wsReadLimit bounds a client's message (a subscribe is ~100 bytes).
	wsReadLimit = 4096
)

func (a *API) streamingRoutes() {
	a.echo.Match([]string{http.MethodGet, http.MethodHead}, "/api/v1/streaming/health", streamingHealth)
	a.srv.Declare(server.Public, "GET /api/v1/streaming/health")
	// Every stream is for members in allowlist mode (the server's gate);
	// authorizeStream says which also need a token otherwise.
	a.echo.GET("/api/v1/streaming", a.wrap(public(), a.streamWebSocket))
	// No list stream until lists exist (a WebSocket subscription to one
	// is answered "List not found").
	for path, name := range map[string]string{
		"user": "user", "user/notification": "user:notification",
		"public": "public", "public/local": "public:local", "public/remote": "public:remote",
		"hashtag": "hashtag", "hashtag/local": "hashtag:local", "direct": "direct",
	} {
		a.echo.GET("/api/v1/streaming/"+path, a.wrap(public(), a.streamSSE(name)))
	}
}

// streamingHealth is GET /api/v1/streaming/health, as Mastodon answers it.
func streamingHealth(c echo.Context) error {
	return c.String(http.StatusOK, "OK")
}

// streamingURL is the streaming API's base URL for the instance entities.
func (a *API) streamingURL() string {
	scheme := "wss"
	if strings.HasPrefix(a.svc.URLs.Base, "http://") {
		scheme = "ws"
	}
	return scheme + "://" + a.svc.URLs.Host()
}

// streamToken lets the connection's token come where browsers can put it:
// WebSocket clients cannot set headers, so Mastodon also takes it from
// the access_token parameter or the Sec-WebSocket-Protocol header (which
// must then be echoed as the chosen subprotocol).
func streamToken(r *http.Request) (token, protocol string) {
	if r.Header.Get(echo.HeaderAuthorization) != "" || !strings.HasPrefix(r.URL.Path, "/api/v1/streaming") {
		return "", ""
	}
	if t := r.URL.Query().Get("access_token"); t != "" {
		return t, ""
	}
	if p := strings.TrimSpace(r.Header.Get("Sec-WebSocket-Protocol")); p != "" && !strings.Contains(p, ",") {
		return p, p
	}
	return "", ""
}

// streamingToken is the token streamToken finds, if any.
func streamingToken(r *http.Request) string {
	t, _ := streamToken(r)
	return t
}

// streamRequest is a subscription as a client asks for it.
type streamRequest struct {
	Type   string `json:"type"`
	Stream string `json:"stream"`
	Tag    string `json:"tag"`
	List   string `json:"list"`
}

// authorizeStream checks that conn may follow the stream and names it.
func (a *API) authorizeStream(ctx context.Context, conn *streamConn, req streamRequest) (streamKey, error) {
	needs := func(scope string) error {
		if conn.viewer == nil {
			return errorf(http.StatusUnauthorized, "Missing access token")
		}
		if !oauth.GrantsAny(conn.scopes, []string{scope}) {
			return errorf(http.StatusUnauthorized, "Access token does not have the required scopes")
		}
		return nil
	}
	k := streamKey{name: req.Stream}
	switch req.Stream {
	case "user", "direct":
		return k, needs("read:statuses")
	case "user:notification":
		return k, needs("read:notifications")
	case "list":
		if err := needs("read:lists"); err != nil {
			return k, err
		}
		// Commonplace has no lists yet, so no list is the member's.
		return k, errorf(http.StatusNotFound, "List not found")
	case "public", "public:local", "public:remote":
	case "hashtag", "hashtag:local":
		tag := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(req.Tag), "#"))
		if tag == "" {
			return k, errorf(http.StatusBadRequest, "No tag for stream provided")
		}
		if len(tag) > 100 {
			return k, errorf(http.StatusBadRequest, "Tag is too long")
		}
		k.param = tag
	default:
		return k, errorf(http.StatusBadRequest, "Unknown stream type")
	}
	// In allowlist mode nothing public is shown to anyone but members.
	mode, err := a.svc.Policy.CurrentMode(ctx)
	if err != nil {
		return k, err
	}
	if mode == storage.ModeAllowlist && conn.viewer == nil {
		return k, errorf(http.StatusUnauthorized, "Missing access token")
	}
	if conn.tokenID > 0 && !oauth.GrantsAny(conn.scopes, []string{"read:statuses"}) {
		return k, errorf(http.StatusUnauthorized, "Access token does not have the required scopes")
	}
	return k, nil
}

// streamWebSocket is GET /api/v1/streaming with an Upgrade: one socket,
// many subscriptions.
func (a *API) streamWebSocket(c echo.Context) error {
	r := c.Request()
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return errorf(http.StatusBadRequest, "This endpoint takes WebSocket connections; see /api/v1/streaming/:stream for SSE")
	}
	conn := newStreamConn(currentToken(c))
	ctx := r.Context()
	// A stream named in the URL is subscribed before the upgrade, so that
	// a refusal is an HTTP error the client can read.
	var first *streamKey
	if name := c.QueryParam("stream"); name != "" {
		k, err := a.authorizeStream(ctx, conn, streamRequest{Stream: name, Tag: c.QueryParam("tag"), List: c.QueryParam("list")})
		if err != nil {
			return err
		}
		first = &k
	}
	if err := a.hub.add(conn); err != nil {
		return err
	}
	defer a.hub.remove(conn)
	if first != nil {
		conn.subscribe(*first)
	}
	opts := &websocket.AcceptOptions{
		// Clients are apps on any origin and authenticate by token, never
		// by cookie, so the origin proves nothing (Mastodon allows all).
		InsecureSkipVerify: true,
	}
	if _, proto := streamToken(r); proto != "" {
		opts.Subprotocols = []string{proto}
	}
	// The server's read and write timeouts are for requests; a stream
	// lives as long as its client, kept honest by pings.
	rc := http.NewResponseController(c.Response())
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	ws, err := websocket.Accept(c.Response(), r, opts)
	if err != nil {
		a.log.Debug("websocket upgrade failed", "err", err)
		return nil // Accept has answered
	}
	ws.SetReadLimit(wsReadLimit)
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	go a.wsWriter(wctx, ws, conn)
	a.wsReader(wctx, ws, conn)
	conn.close("")
	return nil
}

// wsReader handles the client's subscribe and unsubscribe messages until
// the socket closes.
func (a *API) wsReader(ctx context.Context, ws *websocket.Conn, conn *streamConn) {
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		var req streamRequest
		if err := json.Unmarshal(data, &req); err != nil {
			conn.send(errorMsg(http.StatusBadRequest, "Could not parse the message"))
			continue
		}
		switch req.Type {
		case "subscribe", "unsubscribe":
		default:
			conn.send(errorMsg(http.StatusBadRequest, "Unknown message type"))
			continue
		}
		k, err := a.authorizeStream(ctx, conn, req)
		if err != nil {
			var ae *apiError
			if errors.As(err, &ae) {
				conn.send(errorMsg(ae.status, ae.msg))
			} else {
				conn.send(errorMsg(http.StatusInternalServerError, "Internal server error"))
			}
			continue
		}
		if req.Type == "unsubscribe" {
			conn.unsubscribe(k)
		} else if !conn.subscribe(k) {
			conn.send(errorMsg(http.StatusBadRequest, "Too many subscriptions"))
		}
	}
}

// errorMsg is an error told over the WebSocket, as Mastodon tells it.
func errorMsg(status int, msg string) *streamMsg {
	b, _ := json.Marshal(map[string]any{"error": msg, "status": status})
	return &streamMsg{raw: b}
}

// wsWriter sends queued messages and pings until the connection ends.
func (a *API) wsWriter(ctx context.Context, ws *websocket.Conn, conn *streamConn) {
	ping := time.NewTicker(wsPingEvery)
	defer ping.Stop()
	for {
		select {
		case m := <-conn.out:
			conn.sent(m)
			wctx, cancel := context.WithTimeout(ctx, writeTimeout)
			err := ws.Write(wctx, websocket.MessageText, m.wsFrame())
			cancel()
			if err != nil {
				conn.close(closeSlow)
				ws.CloseNow()
				return
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, writeTimeout)
			err := ws.Ping(pctx)
			cancel()
			if err != nil {
				conn.close("")
				ws.CloseNow()
				return
			}
		case <-conn.done:
			code := websocket.StatusNormalClosure
			switch conn.reason {
			case closeRevoked:
				code = websocket.StatusPolicyViolation
			case closeSlow:
				code = websocket.StatusTryAgainLater
			case closeShutdown:
				code = websocket.StatusGoingAway
			}
			if conn.reason == closeSlow {
				ws.CloseNow()
			} else {
				ws.Close(code, conn.reason)
			}
			return
		}
	}
}

// streamSSE serves one stream as Server-Sent Events.
func (a *API) streamSSE(name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		conn := newStreamConn(currentToken(c))
		r := c.Request()
		ctx := r.Context()
		k, err := a.authorizeStream(ctx, conn, streamRequest{Stream: name, Tag: c.QueryParam("tag"), List: c.QueryParam("list")})
		if err != nil {
			return err
		}
		if err := a.hub.add(conn); err != nil {
			return err
		}
		defer a.hub.remove(conn)
		conn.subscribe(k)
		rc := http.NewResponseController(c.Response())
		_ = rc.SetWriteDeadline(time.Time{})
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, "text/event-stream")
		h.Set("Cache-Control", "private, no-store")
		h.Set("X-Accel-Buffering", "no")
		c.Response().WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return nil
		}
		w := bufio.NewWriterSize(c.Response(), 4096)
		flush := func() error {
			_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := w.Flush(); err != nil {
				return err
			}
			return rc.Flush()
		}
		w.WriteString(":)\n")
		if err := flush(); err != nil {
			return nil
		}
		beat := time.NewTicker(sseHeartbeatEvery)
		defer beat.Stop()
		for {
			select {
			case <-ctx.Done():
				conn.close("")
				return nil
			case <-conn.done:
				return nil
			case m := <-conn.out:
				conn.sent(m)
				w.WriteString("event: " + m.event + "\n")
				if m.hasPayload {
					w.WriteString("data: " + m.payload + "\n\n")
				} else {
					w.WriteString("data: undefined\n\n")
				}
			case <-beat.C:
				w.WriteString(":thump\n")
			}
			if err := flush(); err != nil {
				conn.close("")
				return nil
			}
		}
	}
}
