package federation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/buckket/go-blurhash"
	"github.com/google/uuid"

	"github.com/commonplace/commonplace/federation/media"
	"github.com/commonplace/commonplace/federation/policy"
	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Remote media: a remote post's attachments are recorded when the post
// arrives, with the keys their files will have here, and fetched when
// first asked for (lazily: most are never looked at), through the same
// guarded client as every fetch, with the same size caps, type checks
// and re-encoding as uploads. A file that fails the checks stores
// nothing; the post is there all the same. Cached files are removed after
// a while and fetched again when asked for.

// Defaults of remote media handling.
const (
	// DefaultRemoteMediaAge is how long a fetched remote file is kept.
	DefaultRemoteMediaAge = 30 * 24 * time.Hour
	// remoteRetryAfter is how long a failed fetch (not a refused file)
	// waits before another request may try again.
	remoteRetryAfter = 10 * time.Minute
	// maxAttachmentsScanned bounds the entries of a remote attachment list
	// looked at; at most MaxAttachments are kept, as Mastodon keeps.
	maxAttachmentsScanned = 20
)

// remoteAttachments reads what a remote post attaches, as Mastodon,
// GoToSocial (Document or Image with mediaType, url, name, blurhash,
// width, height, focalPoint) and Lemmy (a Page's Image attachment, a Link
// to an image, its image) send them.
func remoteAttachments(obj *vocab.Object) []storage.MediaAttachment {
	var out []storage.MediaAttachment
	seen := map[string]bool{}
	add := func(a vocab.Attachment) {
		if len(out) >= MaxAttachments {
			return
		}
		link := a.Link()
		if !mediaURLOK(link) || seen[link] {
			return
		}
		kind := kindOfClaim(a.Type, a.MediaType, link)
		if kind == "" {
			return
		}
		seen[link] = true
		// Alt text: summary (GoToSocial) or name (Mastodon), in
		// Mastodon's order.
		alt := a.Summary
		if strings.TrimSpace(alt) == "" {
			alt = a.Name
		}
		m := storage.MediaAttachment{
			Kind: kind, RemoteURL: link,
			Description: sanitize.PlainText(alt, MaxDescriptionLen),
		}
		if a.Width > 0 && a.Height > 0 && a.Width <= 100_000 && a.Height <= 100_000 {
			m.Width, m.Height = a.Width, a.Height
		}
		if a.Blurhash != "" && len(a.Blurhash) <= 100 {
			if x, y, err := blurhash.Components(a.Blurhash); err == nil && x > 0 && y > 0 {
				m.Blurhash = a.Blurhash
			}
		}
		if len(a.FocalPoint) == 2 && math.Abs(a.FocalPoint[0]) <= 1 && math.Abs(a.FocalPoint[1]) <= 1 {
			m.FocusX, m.FocusY = a.FocalPoint[0], a.FocalPoint[1]
		}
		out = append(out, m)
	}
	for i, a := range obj.Attachment {
		if i >= maxAttachmentsScanned {
			break
		}
		add(a)
	}
	if obj.Image != nil {
		add(vocab.Attachment{Type: vocab.TypeImage, URL: obj.Image.URL, MediaType: obj.Image.MediaType, Name: obj.Image.Name,
			Width: obj.Image.Width, Height: obj.Image.Height, Blurhash: obj.Image.Blurhash})
	}
	return out
}

// mediaURLOK accepts absolute http(s) URLs of sane length; where they
// point is the transport's guard's to judge when they are fetched.
func mediaURLOK(link string) bool {
	if link == "" || len(link) > 2048 || strings.ContainsFunc(link, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(link)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

// kindOfClaim is the kind an attachment says it is, "" for what is no
// media (a link to a page, a profile field). The bytes decide when the
// file is fetched.
func kindOfClaim(typ, mediaType, link string) string {
	mt := strings.ToLower(strings.TrimSpace(mediaType))
	switch {
	case strings.HasPrefix(mt, "image/"):
		return storage.MediaImage
	case strings.HasPrefix(mt, "video/"):
		return storage.MediaVideo
	case strings.HasPrefix(mt, "audio/"):
		return storage.MediaAudio
	case mt == "application/pdf":
		return storage.MediaUnknown
	case mt != "":
		if typ == vocab.TypeDocument {
			return storage.MediaUnknown
		}
		return "" // a Link to a page (text/html)
	}
	switch typ {
	case vocab.TypeImage:
		return storage.MediaImage
	case vocab.TypeVideo:
		return storage.MediaVideo
	case vocab.TypeAudio:
		return storage.MediaAudio
	case vocab.TypeDocument:
		return storage.MediaUnknown
	case vocab.TypeLink, "":
		// Lemmy links an image post's image without a type.
		u, err := url.Parse(link)
		if err != nil {
			return ""
		}
		switch strings.ToLower(path.Ext(u.Path)) {
		case ".jpg", ".jpeg", ".png", ".gif", ".webp":
			return storage.MediaImage
		}
	}
	return ""
}

// storeRemoteMedia records a remote post's attachments, in tx.
func (s *Service) storeRemoteMedia(ctx context.Context, tx *storage.DB, o *storage.Object, obj *vocab.Object) error {
	atts := remoteAttachments(obj)
	for i := range atts {
		if err := createRemoteRow(ctx, tx, o, &atts[i], i); err != nil {
			return err
		}
	}
	return nil
}

// createRemoteRow records a remote attachment of o with the keys its
// files will have here (the API shows those URLs before any fetch).
func createRemoteRow(ctx context.Context, tx *storage.DB, o *storage.Object, m *storage.MediaAttachment, pos int) error {
	m.AccountActorID, m.ObjectID, m.Position = o.AuthorActorID, &o.ID, pos
	dir := strings.ReplaceAll(uuid.NewString(), "-", "")
	m.FileKey = dir + "/original"
	if m.Kind == storage.MediaImage {
		m.ThumbKey = dir + "/small.jpg"
	}
	return tx.CreateMedia(ctx, m)
}

// replaceRemoteMedia brings a remote post's attachments in line with an
// edit: those it still has keep their files (and take the new alt text),
// the others go, files too once the edit commits.
func (s *Service) replaceRemoteMedia(ctx context.Context, tx *storage.DB, o *storage.Object, obj *vocab.Object) error {
	had, err := tx.MediaOfObjects(ctx, []int64{o.ID})
	if err != nil {
		return err
	}
	byURL := map[string]storage.MediaAttachment{}
	for _, m := range had[o.ID] {
		byURL[m.RemoteURL] = m
	}
	var gone []int64
	var goneRows []storage.MediaAttachment
	next := remoteAttachments(obj)
	keep := map[string]bool{}
	for _, m := range next {
		keep[m.RemoteURL] = true
	}
	for _, m := range had[o.ID] {
		if !keep[m.RemoteURL] {
			gone = append(gone, m.ID)
			goneRows = append(goneRows, m)
		}
	}
	if err := tx.DeleteMedia(ctx, gone); err != nil {
		return err
	}
	var fresh []storage.MediaAttachment
	for i, m := range next {
		if old, ok := byURL[m.RemoteURL]; ok {
			old.Description, old.Position, old.FocusX, old.FocusY = m.Description, i, m.FocusX, m.FocusY
			if err := tx.UpdateMedia(ctx, &old); err != nil {
				return err
			}
			continue
		}
		m.Position = i
		fresh = append(fresh, m)
	}
	for i := range fresh {
		if err := createRemoteRow(ctx, tx, o, &fresh[i], fresh[i].Position); err != nil {
			return err
		}
	}
	if s.Blobs != nil && len(goneRows) > 0 {
		tx.AfterCommit(func() {
			for i := range goneRows {
				s.deleteFiles(context.WithoutCancel(ctx), &goneRows[i])
			}
		})
	}
	return nil
}

// ErrMediaUnavailable is returned for a remote file that is not here and
// cannot be fetched now (refused, or failed recently).
var ErrMediaUnavailable = errors.New("media not available")

// EnsureMedia makes sure a remote attachment's files are in the blob
// store, fetching them if needed, and returns the row as it is then.
// Concurrent calls for one attachment share one fetch.
func (s *Service) EnsureMedia(ctx context.Context, m *storage.MediaAttachment) (*storage.MediaAttachment, error) {
	if m.RemoteURL == "" || m.FetchedAt != nil {
		return m, nil
	}
	if s.Blobs == nil || s.Client == nil || s.mediaLimits().NoRemoteCache {
		return nil, ErrMediaUnavailable
	}
	if m.Refused != "" && (strings.HasPrefix(m.Refused, "refused:") || time.Since(m.UpdatedAt) < remoteRetryAfter) {
		return nil, ErrMediaUnavailable
	}
	if rejected, err := s.mediaRejected(ctx, m); err != nil {
		return nil, err
	} else if rejected {
		// Not recorded: lifting the rule makes the file fetchable again.
		return nil, fmt.Errorf("%w: the admins reject media from its server", ErrMediaUnavailable)
	}
	v, err, _ := s.mediaFetches.Do(strconv.FormatInt(m.ID, 10), func() (any, error) {
		// The caller may go away; the fetch serves whoever asks next.
		return s.fetchMedia(context.WithoutCancel(ctx), m.ID)
	})
	if err != nil {
		return nil, err
	}
	return v.(*storage.MediaAttachment), nil
}

// mediaRejected reports whether a domain rule with reject_media covers
// the attachment's author or the host its file is on (Mastodon's "reject
// media files": the posts arrive, their files are not fetched).
func (s *Service) mediaRejected(ctx context.Context, m *storage.MediaAttachment) (bool, error) {
	if s.Policy == nil {
		return false, nil
	}
	hosts := []string{policy.HostOf(m.RemoteURL)}
	if a, err := s.DB.GetActorByID(ctx, m.AccountActorID); err == nil {
		hosts = append(hosts, policy.HostOf(a.URI))
	} else if !errors.Is(err, storage.ErrNotFound) {
		return false, err
	}
	for _, h := range hosts {
		d, err := s.Policy.Check(ctx, h)
		if err != nil {
			return false, err
		}
		if d.Rule != nil && d.Rule.RejectMedia {
			return true, nil
		}
	}
	return false, nil
}

func (s *Service) fetchMedia(ctx context.Context, id int64) (*storage.MediaAttachment, error) {
	m, err := s.DB.GetMedia(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.FetchedAt != nil {
		return m, nil // another replica, or a fetch that just ended
	}
	lim := s.mediaLimits()
	if m.Purpose != "" {
		lim.Image.OutputPixels = imagePixels(m.Purpose)
	}
	fail := func(reason string, cause error) (*storage.MediaAttachment, error) {
		m.Refused = reason
		if len(m.Refused) > 500 {
			m.Refused = m.Refused[:500]
		}
		if err := s.DB.UpdateMedia(ctx, m); err != nil {
			return nil, err
		}
		s.Log.Info("remote media not stored", "media", m.ID, "url", m.RemoteURL, "reason", reason, "err", cause)
		return nil, fmt.Errorf("%w: %s", ErrMediaUnavailable, reason)
	}
	tmp, err := os.CreateTemp("", "commonplace-media-*")
	if err != nil {
		return nil, fmt.Errorf("fetch media: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, _, err := s.Client.GetFile(ctx, m.RemoteURL, tmp, max(lim.MaxImageBytes, lim.MaxFileBytes), lim.FetchTimeout)
	switch {
	case errors.Is(err, transport.ErrTooLarge):
		return fail("refused: over the size limit", err)
	case errors.Is(err, transport.ErrForbiddenAddress), errors.Is(err, transport.ErrBadURL):
		return fail("refused: not a public address", err)
	case err != nil:
		return fail("failed: "+err.Error(), err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("fetch media: %w", err)
	}
	res, err := media.Process(tmp, n, path.Base(m.RemoteURL), lim.Image)
	if errors.Is(err, media.ErrRefused) {
		return fail("refused: "+strings.TrimPrefix(err.Error(), media.ErrRefused.Error()+": "), err)
	}
	if err != nil {
		return fail("failed: "+err.Error(), err)
	}
	if m.Purpose != "" && res.Kind != media.KindImage {
		return fail("refused: an avatar or header that is no image", nil)
	}
	if res.Kind == media.KindImage && n > lim.MaxImageBytes {
		return fail(fmt.Sprintf("refused: an image of %d bytes", n), nil)
	}
	files := &storage.MediaAttachment{}
	if err := s.storeFilesAt(ctx, files, m.FileKey, m.ThumbKey, res, tmp, n); err != nil {
		return nil, err
	}
	m.ThumbKey = files.ThumbKey
	m.Kind, m.ContentType = res.Kind, res.ContentType
	m.FileSize, m.ThumbSize = files.FileSize, files.ThumbSize
	m.Width, m.Height, m.ThumbWidth, m.ThumbHeight = files.Width, files.Height, files.ThumbWidth, files.ThumbHeight
	if files.Blurhash != "" {
		m.Blurhash = files.Blurhash
	}
	now := time.Now().UTC()
	m.FetchedAt, m.Refused = &now, ""
	if err := s.DB.UpdateMedia(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// PruneRemoteMedia removes the cached files of remote attachments fetched
// before before, at most limit; they are fetched again when asked for.
func (s *Service) PruneRemoteMedia(ctx context.Context, before time.Time, limit int) (int, error) {
	list, err := s.DB.CachedRemoteMedia(ctx, before, limit)
	if err != nil {
		return 0, err
	}
	for i := range list {
		m := &list[i]
		if s.Blobs != nil {
			s.deleteFiles(ctx, m)
		}
		m.FetchedAt, m.FileSize, m.ThumbSize = nil, 0, 0
		if err := s.DB.UpdateMedia(ctx, m); err != nil {
			return i, err
		}
	}
	return len(list), nil
}
