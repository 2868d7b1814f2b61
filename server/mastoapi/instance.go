package mastoapi

import (
	"cmp"
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/media"
	"github.com/commonplace/commonplace/server"
	"github.com/commonplace/commonplace/storage"
)

// What the instance entities publish about limits. Posts may be long:
// communities of practice write long answers.
func statusesConfig() map[string]any {
	return map[string]any{
		"max_characters":              federation.MaxPostLen,
		"max_media_attachments":       federation.MaxAttachments,
		"characters_reserved_per_url": 23,
	}
}

// mediaConfig tells apps what uploads are accepted; apps check sizes
// before sending. Video and audio are kept as they are (no transcoding).
func (a *API) mediaConfig() map[string]any {
	l := a.svc.MediaLimitsInForce()
	return map[string]any{
		"supported_mime_types":   media.AcceptedTypes(),
		"image_size_limit":       l.MaxImageBytes,
		"image_matrix_limit":     l.Image.MaxPixels,
		"video_size_limit":       l.MaxFileBytes,
		"video_frame_rate_limit": 0,
		"video_matrix_limit":     0,
		"description_limit":      federation.MaxDescriptionLen,
	}
}

func pollsConfig() map[string]any {
	return map[string]any{
		"max_options":               federation.MaxPollOptions,
		"max_characters_per_option": federation.MaxPollOptionChars,
		"min_expiration":            int(federation.MinPollExpiry / time.Second),
		"max_expiration":            int(federation.MaxPollExpiry / time.Second),
	}
}

const instanceDescription = "Communities of practice across organisations, on the fediverse. Communities are group accounts: follow one to join it, mention it to post to it."

// instanceInfo is what the admins say about the instance (/admin/settings,
// "commonplace instance set"), with defaults for what they left unset.
type instanceInfo struct {
	title, description, email string
	rules                     []map[string]string
	// registrations is the registration mode in force.
	registrations string
}

func (a *API) instanceInfo(ctx context.Context) (instanceInfo, error) {
	st, err := a.svc.InstanceSettings(ctx)
	if err != nil {
		return instanceInfo{}, err
	}
	info := instanceInfo{title: cmp.Or(st.Title, a.domain), description: cmp.Or(st.Description, instanceDescription),
		email: st.ContactEmail, rules: []map[string]string{}}
	if info.registrations, err = a.svc.RegistrationMode(ctx, a.cfg.Registrations); err != nil {
		return instanceInfo{}, err
	}
	for i, r := range st.Rules {
		info.rules = append(info.rules, map[string]string{"id": strconv.Itoa(i + 1), "text": r, "hint": ""})
	}
	return info, nil
}

func (a *API) version() string {
	// Clients read Mastodon's version to decide which features to use;
	// the suffix names the software, as other compatible servers do.
	return server.MastodonVersion + " (compatible; Commonplace " + server.Version + ")"
}

// instanceV1 is GET /api/v1/instance.
func (a *API) instanceV1(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := a.db.Usage(ctx, a.now())
	if err != nil {
		return err
	}
	info, err := a.instanceInfo(ctx)
	if err != nil {
		return err
	}
	var domains int64
	if err := a.db.Gorm(ctx).Model(&storage.Actor{}).Where("NOT local").Distinct("domain").Count(&domains).Error; err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"uri":               a.domain,
		"title":             info.title,
		"short_description": info.description,
		"description":       info.description,
		"email":             info.email,
		"version":           a.version(),
		"urls":              map[string]any{"streaming_api": a.streamingURL()},
		"stats": map[string]any{
			"user_count": u.Users, "status_count": u.LocalPosts + u.LocalComments, "domain_count": domains,
		},
		"thumbnail":         nil,
		"languages":         []string{"en"},
		"registrations":     info.registrations == "open" || info.registrations == "approval",
		"approval_required": info.registrations == "approval",
		"invites_enabled":   info.registrations == "invite",
		"configuration": map[string]any{
			"accounts":          map[string]any{"max_featured_tags": storage.MaxFeaturedTags},
			"statuses":          statusesConfig(),
			"media_attachments": a.mediaConfig(),
			"polls":             pollsConfig(),
		},
		"contact_account": nil,
		"rules":           info.rules,
	})
}

// instanceV2 is GET /api/v2/instance.
func (a *API) instanceV2(c echo.Context) error {
	u, err := a.db.Usage(c.Request().Context(), a.now())
	if err != nil {
		return err
	}
	info, err := a.instanceInfo(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"domain":      a.domain,
		"title":       info.title,
		"version":     a.version(),
		"source_url":  "https://github.com/commonplace/commonplace",
		"description": info.description,
		"usage":       map[string]any{"users": map[string]any{"active_month": u.ActiveMonth}},
		"thumbnail":   map[string]any{"url": a.svc.URLs.Base + missingHeaderPath, "blurhash": nil, "versions": map[string]any{}},
		"icon":        []any{},
		"languages":   []string{"en"},
		"configuration": map[string]any{
			"urls":              map[string]any{"streaming": a.streamingURL(), "status": nil, "about": a.svc.URLs.Base + "/about"},
			"accounts":          map[string]any{"max_featured_tags": storage.MaxFeaturedTags, "max_pinned_statuses": federation.MaxPins},
			"statuses":          statusesConfig(),
			"media_attachments": a.mediaConfig(),
			"polls":             pollsConfig(),
			"translation":       map[string]any{"enabled": false},
			"vapid":             map[string]any{"public_key": a.vapidKey},
		},
		"registrations": map[string]any{"enabled": info.registrations == "open" || info.registrations == "approval",
			"approval_required": info.registrations == "approval", "message": nil, "url": nil},
		"api_versions": map[string]any{"mastodon": 2},
		"contact":      map[string]any{"email": info.email, "account": nil},
		"rules":        info.rules,
	})
}
