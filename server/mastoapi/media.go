package mastoapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/blob"
)

// MediaAttachment is Mastodon's entity of an attachment.
type MediaAttachment struct {
	ID               string         `json:"id"`
	Type             string         `json:"type"`
	URL              *string        `json:"url"`
	PreviewURL       *string        `json:"preview_url"`
	RemoteURL        *string        `json:"remote_url"`
	PreviewRemoteURL *string        `json:"preview_remote_url"`
	TextURL          *string        `json:"text_url"`
	Meta             map[string]any `json:"meta"`
	Description      *string        `json:"description"`
	Blurhash         *string        `json:"blurhash"`
}

// The file route: /media/DIR/FILE, the blob key DIR/FILE.
const mediaFilePath = "/media/:dir/:file"

func (a *API) mediaRoutes() {
	for _, p := range []string{"/api/v2/media", "/api/v1/media"} {
		a.add(http.MethodPost, p, userScoped("write:media"), a.uploadMedia)
		// The file's size is checked by the service; the body may hold
		// it and the form's other fields.
		a.srv.SetBodyLimit(http.MethodPost+" "+p, a.svc.MaxUploadBytes()+64<<10)
	}
	a.srv.SetBodyLimit(http.MethodPatch+" /api/v1/accounts/update_credentials", 2*a.svc.MediaLimitsInForce().MaxImageBytes+64<<10)
	a.add(http.MethodDelete, "/api/v1/profile/avatar", userScoped("write:accounts"), a.deleteProfileImage(storage.MediaAvatar))
	a.add(http.MethodDelete, "/api/v1/profile/header", userScoped("write:accounts"), a.deleteProfileImage(storage.MediaHeader))
	a.add(http.MethodGet, "/api/v1/media/:id", userScoped("write:media"), a.getMedia)
	a.add(http.MethodPut, "/api/v1/media/:id", userScoped("write:media"), a.updateMedia)
	// Files are for the members and, in allowlist mode, for allowed
	// servers' signed fetches: Peers, like the posts they belong to.
	a.echo.GET(mediaFilePath, a.serveMedia)
	a.echo.HEAD(mediaFilePath, a.serveMedia)
	a.srv.Declare(server.Peers, "GET "+mediaFilePath)
}

// mediaEntity renders an attachment.
func (a *API) mediaEntity(m *storage.MediaAttachment) *MediaAttachment {
	out := &MediaAttachment{ID: id(m.ID), Type: m.Kind, Meta: map[string]any{}}
	kind, url, preview := a.svc.AttachmentLinks(m)
	out.Type, out.URL = kind, ptr(url)
	if preview != "" {
		out.PreviewURL = ptr(preview)
	}
	if m.RemoteURL != "" {
		out.RemoteURL = ptr(m.RemoteURL)
	}
	if m.Description != "" {
		out.Description = ptr(m.Description)
	}
	if m.Blurhash != "" {
		out.Blurhash = ptr(m.Blurhash)
	}
	size := func(w, h int) map[string]any {
		return map[string]any{"width": w, "height": h, "size": fmt.Sprintf("%dx%d", w, h), "aspect": float64(w) / float64(h)}
	}
	if m.Width > 0 && m.Height > 0 {
		out.Meta["original"] = size(m.Width, m.Height)
	}
	if m.ThumbWidth > 0 && m.ThumbHeight > 0 {
		out.Meta["small"] = size(m.ThumbWidth, m.ThumbHeight)
	}
	if m.Kind == storage.MediaImage {
		out.Meta["focus"] = map[string]float64{"x": m.FocusX, "y": m.FocusY}
	}
	return out
}

// uploadMedia is POST /api/v2/media and /api/v1/media: a multipart form
// with file, and optionally description and focus. Files are processed
// at once, so both answer 200 with the attachment.
func (a *API) uploadMedia(c echo.Context) error {
	req := c.Request()
	// Parts beyond a few MB go to a temporary file, not memory.
	if err := req.ParseMultipartForm(4 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(http.StatusUnprocessableEntity, "Validation failed: File file size must be less than %d MB", a.svc.MaxUploadBytes()>>20)
		}
		return errorf(http.StatusUnprocessableEntity, "Validation failed: File must be sent as multipart/form-data")
	}
	defer req.MultipartForm.RemoveAll()
	p, err := a.params(c)
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: File can't be blank")
	}
	f, err := fh.Open()
	if err != nil {
		return fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	m, err := a.svc.UploadMedia(req.Context(), viewer(c), federation.Upload{
		Name: fh.Filename, File: f, Size: fh.Size, Description: p.Get("description"), Focus: p.Get("focus"),
	})
	if errors.Is(err, federation.ErrNoMediaStore) {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: this server does not accept files")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a.mediaEntity(m))
}

func mediaID(c echo.Context) (int64, error) {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return 0, errNotFound
	}
	return n, nil
}

// getMedia is GET /api/v1/media/:id: one's own upload not yet posted.
func (a *API) getMedia(c echo.Context) error {
	n, err := mediaID(c)
	if err != nil {
		return err
	}
	m, err := a.svc.OwnUnattachedMedia(c.Request().Context(), viewer(c), n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a.mediaEntity(m))
}

// updateMedia is PUT /api/v1/media/:id: description and focus.
func (a *API) updateMedia(c echo.Context) error {
	n, err := mediaID(c)
	if err != nil {
		return err
	}
	p, err := a.params(c)
	if err != nil {
		return err
	}
	var desc, focus *string
	if p.has("description") {
		desc = ptr(p.Get("description"))
	}
	if p.has("focus") {
		focus = ptr(p.Get("focus"))
	}
	m, err := a.svc.UpdateMedia(c.Request().Context(), viewer(c), n, desc, focus)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a.mediaEntity(m))
}

// serveMedia serves a stored file with ranges and long caching (a key
// is never reused). Documents are downloads, never shown inline, and
// nothing served here may run script.
func (a *API) serveMedia(c echo.Context) error {
	key := c.Param("dir") + "/" + c.Param("file")
	if !blob.ValidKey(key) || a.svc.Blobs == nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	m, err := a.db.GetMediaByKey(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	if m.RemoteURL != "" && a.svc.MediaLimitsInForce().NoRemoteCache {
		return c.Redirect(http.StatusFound, m.RemoteURL) // linked, not cached, as the admin chose
	}
	if m.RemoteURL != "" {
		// A remote file is fetched when first asked for.
		if m, err = a.svc.EnsureMedia(ctx, m); errors.Is(err, federation.ErrMediaUnavailable) {
			return echo.ErrNotFound
		} else if err != nil {
			return err
		}
		if key != m.FileKey && key != m.ThumbKey {
			return echo.ErrNotFound // a preview of what is no image
		}
	}
	b, err := a.svc.Blobs.Get(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer b.Close()
	h := c.Response().Header()
	ct := m.ContentType
	if key == m.ThumbKey {
		ct = "image/jpeg"
	}
	h.Set(echo.HeaderContentType, ct)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if !strings.HasPrefix(ct, "image/") || m.Kind != storage.MediaImage {
		h.Set("Content-Disposition", `attachment; filename="`+c.Param("file")+`"`)
	}
	http.ServeContent(c.Response(), c.Request(), "", b.ModTime(), b)
	return nil
}
