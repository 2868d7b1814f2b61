package federation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/commonplace/commonplace/federation/media"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// MediaLimits bound uploads; the zero value of a field takes the default.
type MediaLimits struct {
	// MaxImageBytes bounds an uploaded image, MaxFileBytes any other file.
	MaxImageBytes int64
	MaxFileBytes  int64
	// QuotaBytes bounds all of one member's files together.
	QuotaBytes int64
	// FetchTimeout bounds the fetch of one remote file; RemoteAge is how
	// long a fetched one is kept; NoRemoteCache links remote files
	// where they are instead of fetching them.
	FetchTimeout  time.Duration
	RemoteAge     time.Duration
	NoRemoteCache bool
	Image         media.Limits
}

// DefaultMediaLimits are Mastodon's per-file limits for images (16 MB)
// and a smaller one for other files, and a quota of 1 GiB a member.
var DefaultMediaLimits = MediaLimits{
	MaxImageBytes: 16 << 20, MaxFileBytes: 40 << 20, QuotaBytes: 1 << 30, Image: media.DefaultLimits,
}

// Limits on attachments, Mastodon's.
const (
	MaxAttachments    = 4
	MaxDescriptionLen = 1500
	// UnattachedMediaAge is how long an upload waits for its post.
	UnattachedMediaAge = 24 * time.Hour
)

// ErrNoMediaStore is returned when this process keeps no files.
var ErrNoMediaStore = errors.New("media storage is not configured")

// MediaLimitsInForce are the limits with defaults filled in.
func (s *Service) MediaLimitsInForce() MediaLimits { return s.mediaLimits() }

func (s *Service) mediaLimits() MediaLimits {
	l := s.MediaLimits
	d := DefaultMediaLimits
	if l.MaxImageBytes <= 0 {
		l.MaxImageBytes = d.MaxImageBytes
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = d.MaxFileBytes
	}
	if l.QuotaBytes <= 0 {
		l.QuotaBytes = d.QuotaBytes
	}
	if l.FetchTimeout <= 0 {
		l.FetchTimeout = time.Minute
	}
	if l.RemoteAge <= 0 {
		l.RemoteAge = DefaultRemoteMediaAge
	}
	if l.Image.MaxPixels <= 0 {
		l.Image.MaxPixels = d.Image.MaxPixels
	}
	if l.Image.OutputPixels <= 0 {
		l.Image.OutputPixels = d.Image.OutputPixels
	}
	if l.Image.ThumbPixels <= 0 {
		l.Image.ThumbPixels = d.Image.ThumbPixels
	}
	return l
}

// MaxUploadBytes is the largest file any upload may be.
func (s *Service) MaxUploadBytes() int64 {
	l := s.mediaLimits()
	return max(l.MaxImageBytes, l.MaxFileBytes)
}

// Upload is a file a member sends.
type Upload struct {
	// Name is the file's name as sent: a hint for office formats only.
	Name string
	File io.ReadSeeker
	Size int64
	// Description is the alt text; Focus is "x,y" in -1..1.
	Description string
	Focus       string
}

func megabytes(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MB"
}

// UploadMedia checks, prepares and stores a member's file as an attachment
// not yet in any post.
func (s *Service) UploadMedia(ctx context.Context, owner *storage.Actor, up Upload) (*storage.MediaAttachment, error) {
	if s.Blobs == nil {
		return nil, ErrNoMediaStore
	}
	if !owner.Local {
		return nil, fmt.Errorf("%w: only local members upload", ErrForbidden)
	}
	lim := s.mediaLimits()
	if up.Size > max(lim.MaxImageBytes, lim.MaxFileBytes) {
		return nil, fmt.Errorf("%w: File file size must be less than %s", ErrInvalid, megabytes(max(lim.MaxImageBytes, lim.MaxFileBytes)))
	}
	desc, fx, fy, err := mediaMeta(up.Description, up.Focus)
	if err != nil {
		return nil, err
	}
	used, err := s.DB.AccountMediaUsage(ctx, owner.ID)
	if err != nil {
		return nil, err
	}
	if used.Bytes+up.Size > lim.QuotaBytes {
		return nil, fmt.Errorf("%w: your files would take more than your quota of %s (%s used); remove posts with attachments to make room",
			ErrInvalid, megabytes(lim.QuotaBytes), megabytes(used.Bytes))
	}
	res, err := media.Process(up.File, up.Size, up.Name, lim.Image)
	if errors.Is(err, media.ErrRefused) {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), media.ErrRefused.Error()+": "))
	}
	if err != nil {
		return nil, err
	}
	if res.Kind == media.KindImage && up.Size > lim.MaxImageBytes {
		return nil, fmt.Errorf("%w: File file size must be less than %s", ErrInvalid, megabytes(lim.MaxImageBytes))
	}
	if res.Kind != media.KindImage && up.Size > lim.MaxFileBytes {
		return nil, fmt.Errorf("%w: File file size must be less than %s", ErrInvalid, megabytes(lim.MaxFileBytes))
	}
	m := &storage.MediaAttachment{
		AccountActorID: owner.ID, Kind: res.Kind, ContentType: res.ContentType,
		Description: desc, FocusX: fx, FocusY: fy,
	}
	if err := s.storeFiles(ctx, m, res, up.File, up.Size); err != nil {
		return nil, err
	}
	if err := s.DB.CreateMedia(ctx, m); err != nil {
		s.deleteFiles(context.WithoutCancel(ctx), m)
		return nil, err
	}
	return m, nil
}

// storeFiles puts a prepared file (and its thumbnail) in the blob store
// under a fresh random key and records the keys in m. A document is
// copied from r as it came.
func (s *Service) storeFiles(ctx context.Context, m *storage.MediaAttachment, res *media.Result, r io.ReadSeeker, size int64) error {
	dir := strings.ReplaceAll(uuid.NewString(), "-", "")
	return s.storeFilesAt(ctx, m, dir+"/original"+res.Ext, dir+"/small.jpg", res, r, size)
}

// storeFilesAt is storeFiles under given keys.
func (s *Service) storeFilesAt(ctx context.Context, m *storage.MediaAttachment, fileKey, thumbKey string, res *media.Result, r io.ReadSeeker, size int64) error {
	if thumbKey == "" {
		thumbKey = path.Dir(fileKey) + "/small.jpg"
	}
	m.FileKey = fileKey
	if res.Data != nil {
		m.FileSize = int64(len(res.Data))
		if err := s.Blobs.Put(ctx, m.FileKey, bytes.NewReader(res.Data), m.FileSize, res.ContentType); err != nil {
			return err
		}
	} else {
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("rewind upload: %w", err)
		}
		m.FileSize = size
		if err := s.Blobs.Put(ctx, m.FileKey, r, size, res.ContentType); err != nil {
			return err
		}
	}
	m.Width, m.Height = res.Width, res.Height
	if res.Thumb != nil {
		m.ThumbKey = thumbKey
		m.ThumbSize = int64(len(res.Thumb))
		m.ThumbWidth, m.ThumbHeight = res.ThumbWidth, res.ThumbHeight
		m.Blurhash = res.Blurhash
		if err := s.Blobs.Put(ctx, m.ThumbKey, bytes.NewReader(res.Thumb), m.ThumbSize, "image/jpeg"); err != nil {
			s.deleteFiles(context.WithoutCancel(ctx), m)
			return err
		}
	}
	return nil
}

// deleteFiles removes an attachment's files from the blob store.
func (s *Service) deleteFiles(ctx context.Context, m *storage.MediaAttachment) {
	for _, k := range []string{m.FileKey, m.ThumbKey} {
		if k == "" {
			continue
		}
		if err := s.Blobs.Delete(ctx, k); err != nil {
			s.Log.Warn("delete media file", "key", k, "err", err)
		}
	}
}

// mediaMeta checks alt text and a focus "x,y".
func mediaMeta(description, focus string) (string, float64, float64, error) {
	description = strings.TrimSpace(description)
	if utf8.RuneCountInString(description) > MaxDescriptionLen {
		return "", 0, 0, fmt.Errorf("%w: Description is too long (maximum is %d characters)", ErrInvalid, MaxDescriptionLen)
	}
	if focus == "" {
		return description, 0, 0, nil
	}
	xs, ys, ok := strings.Cut(focus, ",")
	x, errx := strconv.ParseFloat(strings.TrimSpace(xs), 64)
	y, erry := strconv.ParseFloat(strings.TrimSpace(ys), 64)
	if !ok || errx != nil || erry != nil || math.Abs(x) > 1 || math.Abs(y) > 1 {
		return "", 0, 0, fmt.Errorf("%w: focus must be two numbers from -1 to 1, as \"x,y\"", ErrInvalid)
	}
	return description, x, y, nil
}

// UpdateMedia changes the alt text and focus of a member's upload that is
// in no post yet (Mastodon's rule; attached ones change with their post).
// Nil leaves a value as it is.
func (s *Service) UpdateMedia(ctx context.Context, owner *storage.Actor, id int64, description, focus *string) (*storage.MediaAttachment, error) {
	m, err := s.OwnUnattachedMedia(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	d, f := m.Description, ""
	if description != nil {
		d = *description
	}
	if focus != nil {
		f = *focus
	}
	desc, fx, fy, err := mediaMeta(d, f)
	if err != nil {
		return nil, err
	}
	m.Description = desc
	if focus != nil {
		m.FocusX, m.FocusY = fx, fy
	}
	if err := s.DB.UpdateMedia(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// OwnUnattachedMedia loads owner's upload id while it is in no post;
// anything else is not found.
func (s *Service) OwnUnattachedMedia(ctx context.Context, owner *storage.Actor, id int64) (*storage.MediaAttachment, error) {
	m, err := s.DB.GetMedia(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.AccountActorID != owner.ID || m.ObjectID != nil || m.Purpose != "" {
		return nil, fmt.Errorf("media %d: %w", id, storage.ErrNotFound)
	}
	return m, nil
}

// postMedia loads the attachments named for a post by its author: at most
// MaxAttachments, all the author's, each in no other post than current
// (0 for a new post), in the order given.
func (s *Service) postMedia(ctx context.Context, author *storage.Actor, ids []int64, current int64) ([]storage.MediaAttachment, error) {
	if len(ids) > MaxAttachments {
		return nil, fmt.Errorf("%w: Cannot attach more than %d files", ErrInvalid, MaxAttachments)
	}
	out := make([]storage.MediaAttachment, 0, len(ids))
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		m, err := s.DB.GetMedia(ctx, id)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
		if err != nil || m.AccountActorID != author.ID || (m.ObjectID != nil && *m.ObjectID != current) || m.RemoteURL != "" || m.Purpose != "" {
			return nil, fmt.Errorf("%w: Media %d not found", ErrInvalid, id)
		}
		out = append(out, *m)
	}
	return out, nil
}

// MediaURL is the address at which Commonplace serves a blob key.
func (s *Service) MediaURL(key string) string {
	if key == "" {
		return ""
	}
	return s.URLs.Base + "/media/" + key
}

// FileURL is the public address of a file of this instance's own (an
// upload, a local avatar): the store's public address when one is
// configured, else MediaURL. Remote files always go through MediaURL,
// which fetches them.
func (s *Service) FileURL(key string) string {
	if key == "" || s.MediaPublicBase == "" {
		return s.MediaURL(key)
	}
	return strings.TrimSuffix(s.MediaPublicBase, "/") + "/" + key
}

// AttachmentLinks is where readers get an attachment, for the client
// API and the web pages alike: the kind to show it as, its file's
// address and its preview's ("" when it has none). Own files come from
// FileURL; remote ones through MediaURL, which fetches them, unless the
// admin turned the cache off (linked where they are); one refused here
// is a plain link to where it is, as Mastodon shows a file it could not
// take.
func (s *Service) AttachmentLinks(m *storage.MediaAttachment) (kind, url, preview string) {
	switch {
	case m.RemoteURL != "" && s.mediaLimits().NoRemoteCache:
		if m.Kind == storage.MediaImage {
			return m.Kind, m.RemoteURL, m.RemoteURL
		}
		return m.Kind, m.RemoteURL, ""
	case m.RemoteURL != "" && strings.HasPrefix(m.Refused, "refused:"):
		return storage.MediaUnknown, m.RemoteURL, ""
	case m.RemoteURL != "":
		return m.Kind, s.MediaURL(m.FileKey), s.MediaURL(m.ThumbKey)
	default:
		return m.Kind, s.FileURL(m.FileKey), s.FileURL(m.ThumbKey)
	}
}

// attachmentDoc is an attachment as Mastodon sends it in a Note.
func (s *Service) attachmentDoc(m *storage.MediaAttachment) vocab.Attachment {
	a := vocab.Attachment{
		Type: vocab.TypeDocument, MediaType: m.ContentType, URL: vocab.IRI(s.FileURL(m.FileKey)),
		Name: m.Description, Blurhash: m.Blurhash, Width: m.Width, Height: m.Height,
	}
	if m.Kind == storage.MediaImage {
		a.FocalPoint = []float64{m.FocusX, m.FocusY}
	}
	return a
}

// PruneUnattachedMedia removes uploads never attached to a post and made
// before before, rows and files, at most limit; it returns how many. A
// row is removed only while still unattached, its files only after it.
func (s *Service) PruneUnattachedMedia(ctx context.Context, before time.Time, limit int) (int, error) {
	list, err := s.DB.UnattachedMedia(ctx, before, limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range list {
		gone, err := s.DB.DeleteUnattachedMedia(ctx, list[i].ID)
		if err != nil {
			return n, err
		}
		if gone {
			n++
			if s.Blobs != nil {
				s.deleteFiles(ctx, &list[i])
			}
		}
	}
	return n, nil
}

// dropObjectMedia removes a deleted post's attachments: the rows in tx,
// the files once it commits (a deleted post's photo must not stay
// reachable by its address).
func (s *Service) dropObjectMedia(ctx context.Context, tx *storage.DB, objectID int64) error {
	had, err := tx.MediaOfObjects(ctx, []int64{objectID})
	if err != nil || len(had[objectID]) == 0 {
		return err
	}
	rows := had[objectID]
	if err := tx.DeleteMedia(ctx, mediaIDs(rows)); err != nil {
		return err
	}
	if s.Blobs != nil {
		tx.AfterCommit(func() {
			for i := range rows {
				s.deleteFiles(context.WithoutCancel(ctx), &rows[i])
			}
		})
	}
	return nil
}

// UpdatePostMedia changes the alt text and focus of an attachment of
// author's post objectID (or of an upload about to be attached to it),
// Mastodon's media_attributes of a status edit. Nil leaves a value.
func (s *Service) UpdatePostMedia(ctx context.Context, author *storage.Actor, objectID, id int64, description, focus *string) error {
	m, err := s.DB.GetMedia(ctx, id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if err != nil || m.AccountActorID != author.ID || m.Purpose != "" || m.RemoteURL != "" || (m.ObjectID != nil && *m.ObjectID != objectID) {
		return fmt.Errorf("%w: Media %d not found", ErrInvalid, id)
	}
	d, f := m.Description, ""
	if description != nil {
		d = *description
	}
	if focus != nil {
		f = *focus
	}
	desc, fx, fy, err := mediaMeta(d, f)
	if err != nil {
		return err
	}
	m.Description = desc
	if focus != nil {
		m.FocusX, m.FocusY = fx, fy
	}
	return s.DB.UpdateMedia(ctx, m)
}
