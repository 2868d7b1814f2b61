package transport

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// Do sends a prepared request that is not federation (a Web Push to an
// app's push service) through the same guard: an http(s) URL without
// userinfo, no private address unless allowed, no redirects, the
// client's time limit. The federation policy is not asked: push services
// are not fediverse servers. The caller closes the body.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	u, err := c.checkURL(req.URL.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("transport: %s: %w", req.Method, err)
	}
	req.URL = u
	req.Header.Set("User-Agent", c.opts.UserAgent)
	ctx, cancel := context.WithTimeout(req.Context(), c.opts.Timeout)
	resp, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("transport: %w", err)
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose releases a request's time limit with its body.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
