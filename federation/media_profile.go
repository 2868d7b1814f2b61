package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/commonplace/commonplace/federation/media"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Avatars and headers: a local actor's are uploaded (update_credentials,
// the CLI for communities) and processed as any image, to Mastodon's
// sizes; a remote actor's are recorded from its icon and image when it is
// fetched and cached like remote attachments.

// Most pixels of an avatar (Mastodon's 400×400) and a header (1500×500).
const (
	avatarPixels = 400 * 400
	headerPixels = 1500 * 500
)

func imagePixels(purpose string) int {
	if purpose == storage.MediaHeader {
		return headerPixels
	}
	return avatarPixels
}

func actorImageKey(a *storage.Actor, purpose string) string {
	if purpose == storage.MediaHeader {
		return a.HeaderKey
	}
	return a.AvatarKey
}

// SetActorImage makes an uploaded image a local actor's avatar or header
// (purpose storage.MediaAvatar or MediaHeader), replacing the one it had;
// a nil up removes it. It returns the actor as stored now. A community's
// members' servers are sent the Group in an Update; a member's followers
// learn of it when the profile's Update is sent (UpdateProfile).
func (s *Service) SetActorImage(ctx context.Context, actor *storage.Actor, purpose string, up *Upload) (*storage.Actor, error) {
	if purpose != storage.MediaAvatar && purpose != storage.MediaHeader {
		return nil, fmt.Errorf("%w: no image %q", ErrInvalid, purpose)
	}
	if !actor.Local {
		return nil, fmt.Errorf("%w: only local actors' images are set here", ErrForbidden)
	}
	if s.Blobs == nil {
		return nil, ErrNoMediaStore
	}
	var m *storage.MediaAttachment
	if up != nil {
		lim := s.mediaLimits()
		if up.Size > lim.MaxImageBytes {
			return nil, fmt.Errorf("%w: %s file size must be less than %s", ErrInvalid, strings.ToUpper(purpose[:1])+purpose[1:], megabytes(lim.MaxImageBytes))
		}
		il := lim.Image
		il.OutputPixels = imagePixels(purpose)
		res, err := media.Process(up.File, up.Size, up.Name, il)
		if errors.Is(err, media.ErrRefused) {
			return nil, fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), media.ErrRefused.Error()+": "))
		}
		if err != nil {
			return nil, err
		}
		if res.Kind != media.KindImage {
			return nil, fmt.Errorf("%w: %s must be an image (JPEG, PNG, WebP or GIF)", ErrInvalid, purpose)
		}
		m = &storage.MediaAttachment{AccountActorID: actor.ID, Kind: res.Kind, ContentType: res.ContentType, Purpose: purpose}
		if err := s.storeFiles(ctx, m, res, up.File, up.Size); err != nil {
			return nil, err
		}
	}
	old := actorImageKey(actor, purpose)
	var oldRow *storage.MediaAttachment
	err := s.DB.Tx(ctx, func(tx *storage.DB) error {
		key := ""
		if m != nil {
			if err := tx.CreateMedia(ctx, m); err != nil {
				return err
			}
			key = m.FileKey
		}
		if old != "" {
			if r, err := tx.GetMediaByKey(ctx, old); err == nil {
				oldRow = r
				if err := tx.DeleteMedia(ctx, []int64{r.ID}); err != nil {
					return err
				}
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		return tx.SetActorImage(ctx, actor.ID, purpose, key)
	})
	if err != nil {
		if m != nil {
			s.deleteFiles(context.WithoutCancel(ctx), m)
		}
		return nil, err
	}
	if oldRow != nil {
		s.deleteFiles(ctx, oldRow)
	}
	if actor.Type == storage.TypeGroup {
		// The members' servers show the new icon: an Update of the Group.
		c, err := s.DB.GetCommunityByActorID(ctx, actor.ID)
		if err != nil {
			return nil, err
		}
		if err := s.DB.Tx(ctx, func(tx *storage.DB) error { return s.sendGroupUpdate(ctx, tx, c) }); err != nil {
			return nil, err
		}
		s.notifyDeliveries()
	}
	return s.DB.GetActorByID(ctx, actor.ID)
}

// syncActorImages records a remote actor's icon and image after its
// document was stored: an image whose address is unchanged keeps its
// cache; a new one replaces it, to be fetched when first viewed.
func (s *Service) syncActorImages(ctx context.Context, actorID int64, doc *vocab.Actor) error {
	a, err := s.DB.GetActorByID(ctx, actorID)
	if err != nil || a.Local {
		return err
	}
	for _, p := range []struct {
		purpose string
		img     *vocab.Image
	}{{storage.MediaAvatar, doc.Icon}, {storage.MediaHeader, doc.Image}} {
		link := ""
		if p.img != nil && mediaURLOK(string(p.img.URL)) {
			link = string(p.img.URL)
		}
		var old *storage.MediaAttachment
		if key := actorImageKey(a, p.purpose); key != "" {
			old, err = s.DB.GetMediaByKey(ctx, key)
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if old != nil && old.RemoteURL == link {
				continue
			}
		}
		var gone *storage.MediaAttachment
		err := s.DB.Tx(ctx, func(tx *storage.DB) error {
			key := ""
			if link != "" {
				dir := strings.ReplaceAll(uuid.NewString(), "-", "")
				m := &storage.MediaAttachment{AccountActorID: a.ID, Kind: storage.MediaImage, Purpose: p.purpose, RemoteURL: link,
					FileKey: dir + "/original", ThumbKey: dir + "/small.jpg"}
				if err := tx.CreateMedia(ctx, m); err != nil {
					return err
				}
				key = m.FileKey
			}
			if old != nil {
				gone = old
				if err := tx.DeleteMedia(ctx, []int64{old.ID}); err != nil {
					return err
				}
			}
			return tx.SetActorImage(ctx, a.ID, p.purpose, key)
		})
		if err != nil {
			return err
		}
		if gone != nil && s.Blobs != nil {
			s.deleteFiles(ctx, gone)
		}
	}
	return nil
}

// actorImageDoc is an actor's icon or image as Mastodon publishes it.
func (s *Service) actorImageDoc(key string) *vocab.Image {
	if key == "" {
		return nil
	}
	mt := "image/jpeg"
	if strings.HasSuffix(key, ".png") {
		mt = "image/png"
	}
	return &vocab.Image{Type: vocab.TypeImage, MediaType: mt, URL: vocab.IRI(s.FileURL(key))}
}

// ActorImages sets a local actor document's icon and image.
func (s *Service) ActorImages(a *storage.Actor, doc *vocab.Actor) {
	doc.Icon, doc.Image = s.actorImageDoc(a.AvatarKey), s.actorImageDoc(a.HeaderKey)
}
