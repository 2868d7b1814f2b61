package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// readyTimeout bounds the database check: a load balancer polling
// /readyz wants an answer, not a hung connection.
const readyTimeout = 2 * time.Second

// livez says the process is up; it never touches the database, so a
// database outage does not get healthy replicas restarted.
func (s *Server) livez(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether this replica can serve: its database answers.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.log.Warn("not ready: database does not answer", "request_id", requestIDOf(c), "error", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "database unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
