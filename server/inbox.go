package server

import (
	"bytes"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// sharedInbox receives activities for every local actor.
func (s *Server) sharedInbox(c echo.Context) error { return s.receive(c) }

// personInbox, groupInbox and instanceInbox are the per-actor inboxes;
// they share the shared inbox's pipeline once the actor is known to exist.
func (s *Server) personInbox(c echo.Context) error {
	if _, err := s.localActor(c, storage.TypePerson); err != nil {
		return err
	}
	return s.receive(c)
}

func (s *Server) groupInbox(c echo.Context) error {
	if _, err := s.localActor(c, storage.TypeGroup); err != nil {
		return err
	}
	return s.receive(c)
}

func (s *Server) instanceInbox(c echo.Context) error { return s.receive(c) }

// receive is the inbox pipeline's HTTP part: content type, size cap
// (MaxActivityBytes), then the federation service verifies and queues.
// Processing happens from the queue, so the answer is a quick 202.
func (s *Server) receive(c echo.Context) error {
	req := c.Request()
	if !vocab.IsActivityPubContentType(req.Header.Get(echo.HeaderContentType)) {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "content type must be application/activity+json or application/ld+json")
	}
	// An activity is capped well below other bodies: what the largest
	// real posts need (docs/security.md), so that a sender's every
	// accepted POST costs us little to keep.
	limit := s.cfg.MaxActivityBytes
	if limit <= 0 || limit > s.cfg.MaxBodyBytes {
		limit = s.cfg.MaxBodyBytes
	}
	if req.ContentLength > limit {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "activity too large")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, limit))
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return badRequest("empty body")
	}
	if !utf8.Valid(body) {
		// JSON is UTF-8 (RFC 8259); PostgreSQL would refuse to store it.
		return badRequest("body is not valid UTF-8")
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	res, err := s.svc.ReceiveInbox(req.Context(), req, body)
	if err != nil {
		return peerError(err)
	}
	switch res {
	case federation.Duplicate:
		s.log.Debug("duplicate activity", "request_id", requestIDOf(c))
	case federation.Ignored:
		s.log.Debug("activity ignored", "request_id", requestIDOf(c))
	}
	return c.NoContent(http.StatusAccepted)
}
