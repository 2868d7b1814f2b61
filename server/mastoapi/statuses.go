package mastoapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// objectParam loads the live post named by the :id path parameter, if
// the viewer may read it.
func (a *API) objectParam(c echo.Context) (*storage.Object, error) {
	return a.objectByID(c.Request().Context(), viewer(c), c.Param("id"))
}

// objectByID loads a live post viewer (nil: anyone) may read; any other
// is not found, as on Mastodon.
func (a *API) objectByID(ctx context.Context, viewer *storage.Actor, s string) (*storage.Object, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, errNotFound
	}
	o, err := a.db.GetObjectByID(ctx, n)
	if err != nil {
		return nil, err
	}
	if ok, err := a.db.CanSee(ctx, viewer, o); err != nil {
		return nil, err
	} else if !ok {
		return nil, errNotFound
	}
	return o, nil
}

func (a *API) renderStatus(c echo.Context, o *storage.Object) error {
	s, err := a.renderer(c).statusOf(o)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s)
}

// getStatus is GET /api/v1/statuses/:id.
func (a *API) getStatus(c echo.Context) error {
	o, err := a.objectParam(c)
	if errors.Is(err, storage.ErrNotFound) {
		return a.getBoost(c)
	} else if err != nil {
		return err
	}
	return a.renderStatus(c, o)
}

// getBoost answers GET /api/v1/statuses/:id for the id of a person's
// boost (which home timelines show): the reblog, as Mastodon answers for
// a reblog's id, to anyone who may read the boosted post.
func (a *API) getBoost(c echo.Context) error {
	ctx := c.Request().Context()
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	b, err := a.db.GetReblogByID(ctx, n)
	if err != nil {
		return err
	}
	o, err := a.objectByID(ctx, viewer(c), id(b.ObjectID))
	if err != nil {
		return err
	}
	o.Boost = b
	return a.renderStatus(c, o)
}

// mentionRe finds @name and @name@domain[:port] in a status's text.
var mentionRe = regexp.MustCompile(`(?:^|[^\w@/])@([a-zA-Z0-9_]+)(?:@([a-zA-Z0-9.\-]+(?::[0-9]+)?))?`)

var languageRe = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)

// statusText checks a status's text as Mastodon would.
func statusText(raw string) (string, error) {
	text := strings.TrimSpace(raw)
	if text == "" {
		return "", errorf(http.StatusUnprocessableEntity, "Validation failed: Text can't be blank")
	}
	if utf8.RuneCountInString(text) > federation.MaxPostLen {
		return "", errorf(http.StatusUnprocessableEntity, "Validation failed: Text character limit of %d exceeded", federation.MaxPostLen)
	}
	return text, nil
}

// createStatus is POST /api/v1/statuses. A status goes to the community
// it mentions (@practice@example.org) or, as a reply, to the community of
// the post it answers, through the same door as a post from any server.
func (a *API) createStatus(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	me := viewer(c)
	ctx := c.Request().Context()
	text, err := statusText(p.Get("status"))
	if err != nil {
		// With attachments the text may be left out, as on Mastodon.
		if media, merr := mediaIDs(p); merr != nil || len(media) == 0 || strings.TrimSpace(p.Get("status")) != "" {
			return err
		}
		text = ""
	}
	switch p.Get("visibility") {
	case "", "public", "unlisted", "private", "direct":
	default:
		return errorf(http.StatusUnprocessableEntity, "Validation failed: Visibility is not included in the list")
	}
	lang := p.Get("language")
	if lang != "" && !languageRe.MatchString(lang) {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: Language is not a language code")
	}
	if _, err := mediaIDs(p); err != nil {
		return err
	}
	if p.Get("scheduled_at") != "" {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: scheduled statuses are not supported")
	}
	key := strings.TrimSpace(c.Request().Header.Get("Idempotency-Key"))
	if len(key) > 256 {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: Idempotency-Key is too long")
	}
	if key != "" {
		prev, fresh, err := a.db.ReserveIdempotencyKey(ctx, me.ID, key, idempotencyTTL)
		if err != nil {
			return err
		}
		if !fresh {
			if prev.ObjectID == nil {
				return errorf(http.StatusConflict, "A request with this Idempotency-Key is still being processed")
			}
			o, err := a.db.GetObjectByID(ctx, *prev.ObjectID)
			if err != nil {
				return err
			}
			return a.renderStatus(c, o)
		}
	}
	defaultPrivacy := ""
	if t := currentToken(c); t != nil && t.Account != nil {
		defaultPrivacy = t.Account.DefaultPrivacy
	}
	o, err := a.post(ctx, me, p, text, lang, defaultPrivacy)
	if key != "" {
		var oid int64
		if err == nil {
			oid = o.ID
		}
		if ferr := a.db.FinishIdempotencyKey(context.WithoutCancel(ctx), me.ID, key, oid); ferr != nil && err == nil {
			err = ferr
		}
	}
	if err != nil {
		return err
	}
	return a.renderStatus(c, o)
}

// post publishes a status; without a visibility it takes the member's
// default, or for a reply to a followers-only or direct post, that post's.
func (a *API) post(ctx context.Context, me *storage.Actor, p params, text, lang, defaultPrivacy string) (*storage.Object, error) {
	poll, err := pollParams(p)
	if err != nil {
		return nil, err
	}
	media, err := mediaIDs(p)
	if err != nil {
		return nil, err
	}
	if poll != nil && len(media) > 0 {
		return nil, errorf(http.StatusUnprocessableEntity, "Validation failed: a post has a poll or attachments, not both")
	}
	in := federation.NewPost{
		Media:      media,
		Summary:    strings.TrimSpace(p.Get("spoiler_text")),
		Sensitive:  p.bool("sensitive"),
		Language:   lang,
		Visibility: p.Get("visibility"),
		Poll:       poll,
	}
	if rid := p.Get("in_reply_to_id"); rid != "" {
		parent, err := a.objectByID(ctx, me, rid)
		if err != nil {
			return nil, err
		}
		in.InReplyTo = parent.URI
		if in.Visibility == "" && parent.Visibility != storage.VisibilityPublic && parent.Visibility != storage.VisibilityUnlisted {
			in.Visibility = parent.Visibility
		}
	}
	if in.Visibility == "" {
		in.Visibility = defaultPrivacy
	}
	community, err := a.mentionedCommunity(ctx, text)
	if err != nil {
		return nil, err
	}
	limited := in.Visibility == storage.VisibilityPrivate || in.Visibility == storage.VisibilityDirect
	switch {
	case community != nil && community.MembersOnly && in.Visibility != storage.VisibilityDirect:
		// A members-only community takes a followers-only post (as
		// members read it), or any other but a direct one: the post is
		// for its members only, whatever the app chose.
		in.Community = community.URI
		text = stripMention(text, community, a.domain)
		if strings.TrimSpace(text) == "" && len(in.Media) == 0 {
			return nil, errorf(http.StatusUnprocessableEntity, "Validation failed: Text can't be blank")
		}
	case community != nil && limited:
		return nil, errorf(http.StatusUnprocessableEntity,
			"Validation failed: a community is public talk: a %s post cannot mention @%s; post it publicly, or leave the community out",
			map[string]string{storage.VisibilityPrivate: "followers-only", storage.VisibilityDirect: "direct"}[in.Visibility], community.Handle())
	case limited:
		// To its readers only: followers and the people it mentions.
	case community != nil:
		in.Community = community.URI
		// The post opens with a link to the community; the mention
		// itself need not be repeated in its text.
		text = stripMention(text, community, a.domain)
		if strings.TrimSpace(text) == "" && len(in.Media) == 0 {
			return nil, errorf(http.StatusUnprocessableEntity, "Validation failed: Text can't be blank")
		}
	case in.InReplyTo == "":
		return nil, errorf(http.StatusUnprocessableEntity, "Validation failed: mention a community (@name@%s) to post to it, or reply to a post", a.domain)
	}
	in.Text = text
	return a.svc.Post(ctx, me, in)
}

// mentionedCommunity returns the first community a text mentions,
// resolving remote ones by WebFinger, or nil.
func (a *API) mentionedCommunity(ctx context.Context, text string) (*storage.Actor, error) {
	for _, m := range mentionRe.FindAllStringSubmatch(text, 10) {
		name, domain := m[1], strings.ToLower(m[2])
		var (
			actor *storage.Actor
			err   error
		)
		if domain == "" || domain == a.domain {
			actor, err = a.db.GetLocalActorByType(ctx, name, storage.TypeGroup)
		} else {
			actor, err = a.svc.ResolveHandle(ctx, name+"@"+domain)
		}
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) || errors.Is(err, federation.ErrInvalid) {
				continue
			}
			a.log.Debug("mention not resolved", "mention", m[0], "error", err)
			continue
		}
		if actor.Type == storage.TypeGroup {
			return actor, nil
		}
	}
	return nil, nil
}

// stripMention removes the mentions of community from text.
func stripMention(text string, community *storage.Actor, localDomain string) string {
	out := mentionRe.ReplaceAllStringFunc(text, func(m string) string {
		sub := mentionRe.FindStringSubmatch(m)
		domain := strings.ToLower(sub[2])
		if domain == "" && community.Local {
			domain = localDomain
		}
		if strings.EqualFold(sub[1], community.Username) && domain == strings.ToLower(community.Domain) {
			if i := strings.IndexByte(m, '@'); i > 0 {
				return m[:i]
			}
			return ""
		}
		return m
	})
	return strings.TrimSpace(out)
}

// mediaIDs reads media_ids[] (at most federation.MaxAttachments).
func mediaIDs(p params) ([]int64, error) {
	list := p.list("media_ids")
	if len(list) > federation.MaxAttachments {
		return nil, errorf(http.StatusUnprocessableEntity, "Validation failed: Cannot attach more than %d files", federation.MaxAttachments)
	}
	var out []int64
	for _, s := range list {
		if s == "" {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errorf(http.StatusUnprocessableEntity, "Validation failed: Media %s not found", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// editStatus is PUT /api/v1/statuses/:id.
func (a *API) editStatus(c echo.Context) error {
	o, err := a.objectParam(c)
	if err != nil {
		return err
	}
	p, err := a.params(c)
	if err != nil {
		return err
	}
	text, err := statusText(p.Get("status"))
	if err != nil {
		return err
	}
	if o.CommunityActor != nil {
		text = stripMention(text, o.CommunityActor, a.domain)
	}
	var media []int64
	if p.has("media_ids") || p.has("media_ids[]") {
		if media, err = mediaIDs(p); err != nil {
			return err
		}
		if media == nil {
			media = []int64{} // all removed
		}
	}
	// media_attributes: alt text and focus of the attachments, edited
	// with the post; the list is sent again with them.
	if attrs := p.objects("media_attributes"); len(attrs) > 0 {
		if len(attrs) > federation.MaxAttachments {
			return errorf(http.StatusUnprocessableEntity, "Validation failed: Cannot attach more than %d files", federation.MaxAttachments)
		}
		for _, at := range attrs {
			n, err := strconv.ParseInt(at["id"], 10, 64)
			if err != nil {
				return errorf(http.StatusUnprocessableEntity, "Validation failed: Media %s not found", at["id"])
			}
			var desc, focus *string
			if v, ok := at["description"]; ok {
				desc = &v
			}
			if v, ok := at["focus"]; ok {
				focus = &v
			}
			if err := a.svc.UpdatePostMedia(c.Request().Context(), viewer(c), o.ID, n, desc, focus); err != nil {
				return err
			}
		}
		if media == nil {
			had, err := a.db.MediaOfObjects(c.Request().Context(), []int64{o.ID})
			if err != nil {
				return err
			}
			media = []int64{}
			for _, m := range had[o.ID] {
				media = append(media, m.ID)
			}
		}
	}
	edited, err := a.svc.EditPostMedia(c.Request().Context(), viewer(c), o.URI, text, false, media)
	if err != nil {
		return err
	}
	return a.renderStatus(c, edited)
}

// deleteStatus is DELETE /api/v1/statuses/:id. Like Mastodon it answers
// with the deleted status and its source text, for "delete and redraft".
func (a *API) deleteStatus(c echo.Context) error {
	o, err := a.objectParam(c)
	if err != nil {
		return err
	}
	s, err := a.renderer(c).statusOf(o)
	if err != nil {
		return err
	}
	if err := a.svc.Delete(c.Request().Context(), viewer(c), o.URI); err != nil {
		return err
	}
	s.Text = &o.Source
	return c.JSON(http.StatusOK, s)
}

// maxThread bounds the posts of a thread that context reads.
const maxThread = 1000

// Bounds of a thread's context, Mastodon's: a request without a member's
// token sees 40 ancestors and 60 descendants at most 20 replies deep; a
// member sees up to memberContext of each (threads are at most
// federation.MaxReplyDepth deep), so an anonymous request for the end of
// a long chain costs little.
const (
	anonAncestors       = 40
	anonDescendants     = 60
	anonDescendantDepth = 20
	memberContext       = maxThread
)

// statusContext is GET /api/v1/statuses/:id/context.
func (a *API) statusContext(c echo.Context) error {
	o, err := a.objectParam(c)
	if err != nil {
		return err
	}
	ancestorsLimit, descendantsLimit, depthLimit := memberContext, memberContext, memberContext
	if viewer(c) == nil {
		ancestorsLimit, descendantsLimit, depthLimit = anonAncestors, anonDescendants, anonDescendantDepth
	}
	ctx := c.Request().Context()
	var ancestors []storage.Object
	if o.InReplyToID != nil {
		up, err := a.db.ListAncestors(ctx, o.ID, viewer(c), ancestorsLimit)
		if err != nil {
			return err
		}
		for _, p := range up { // nearest first; a deleted post ends the walk
			if p.DeletedAt != nil {
				break
			}
			ancestors = append(ancestors, p)
		}
		slices.Reverse(ancestors)
	}
	thread, err := a.db.ListThread(ctx, o.ContextURI, viewer(c), maxThread)
	if err != nil {
		return err
	}
	byID := map[int64]*storage.Object{}
	children := map[int64][]int64{}
	for i := range thread {
		t := &thread[i]
		byID[t.ID] = t
		if t.InReplyToID != nil {
			children[*t.InReplyToID] = append(children[*t.InReplyToID], t.ID)
		}
	}
	seen := map[int64]bool{o.ID: true}
	for _, p := range ancestors {
		seen[p.ID] = true
	}
	// Descendants depth first, each branch in the order written, as
	// Mastodon lists them.
	var descendants []storage.Object
	var walk func(id int64, depth int)
	walk = func(id int64, depth int) {
		for _, child := range children[id] {
			if seen[child] || len(descendants) >= descendantsLimit {
				continue
			}
			seen[child] = true
			descendants = append(descendants, *byID[child])
			if depth < depthLimit {
				walk(child, depth+1)
			}
		}
	}
	walk(o.ID, 1)
	r := a.renderer(c)
	r.filterContext = "thread"
	up, err := r.statusesOf(ancestors, nil)
	if err != nil {
		return err
	}
	down, err := r.statusesOf(descendants, nil)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, Context{Ancestors: visible(up), Descendants: visible(down)})
}

// favourite is POST /api/v1/statuses/:id/favourite.
func (a *API) favourite(c echo.Context) error {
	o, err := a.objectParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	me := viewer(c)
	if _, err := a.db.GetLike(ctx, me.ID, o.ID); errors.Is(err, storage.ErrNotFound) {
		if err := a.svc.Like(ctx, me, o.URI); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	return a.renderStatus(c, o)
}

// unfavourite is POST /api/v1/statuses/:id/unfavourite.
func (a *API) unfavourite(c echo.Context) error {
	o, err := a.objectParam(c)
	if err != nil {
		return err
	}
	if err := a.svc.Unlike(c.Request().Context(), viewer(c), o.URI); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("unlike: %w", err)
	}
	return a.renderStatus(c, o)
}
