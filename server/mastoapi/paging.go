package mastoapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// pageOf reads Mastodon's paging parameters: max_id, since_id, min_id
// and limit (default 20, at most 40).
func (a *API) pageOf(c echo.Context) (storage.Page, error) {
	p, err := a.params(c)
	if err != nil {
		return storage.Page{}, err
	}
	var pg storage.Page
	for name, dst := range map[string]*int64{"max_id": &pg.MaxID, "since_id": &pg.SinceID, "min_id": &pg.MinID} {
		v := p.Get(name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			// An id we never issued: nothing is below or above it that
			// we could page to.
			return pg, errorf(http.StatusUnprocessableEntity, "Validation failed: %s is not an id", name)
		}
		*dst = n
	}
	pg.Limit = defaultPageLimit
	if v := p.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return pg, errorf(http.StatusUnprocessableEntity, "Validation failed: limit must be a positive number")
		}
		pg.Limit = min(n, maxPageLimit)
	}
	return pg, nil
}

// setLink writes Mastodon's Link header for a page whose items run from
// newest id first to oldest id last: rel="next" pages to older items,
// rel="prev" to newer ones.
func (a *API) setLink(c echo.Context, pg storage.Page, first, last int64, n int) {
	if n == 0 {
		return
	}
	req := c.Request()
	link := func(name string, v int64) string {
		q := url.Values{}
		for k, vs := range req.URL.Query() {
			switch k {
			case "max_id", "min_id", "since_id":
				continue
			}
			q[k] = vs
		}
		q.Set("limit", strconv.Itoa(pg.Limit))
		q.Set(name, strconv.FormatInt(v, 10))
		return a.svc.URLs.Base + req.URL.Path + "?" + q.Encode()
	}
	var parts []string
	parts = append(parts, fmt.Sprintf(`<%s>; rel="next"`, link("max_id", last)))
	parts = append(parts, fmt.Sprintf(`<%s>; rel="prev"`, link("min_id", first)))
	c.Response().Header().Set("Link", strings.Join(parts, ", "))
}
