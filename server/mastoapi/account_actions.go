package mastoapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// Accounts beyond looking them up: who follows whom, the member's own
// profile and preferences, mutes, blocks, domain blocks and notes.

// follows is GET /api/v1/accounts/:id/followers and /following. A
// community's followers are its members. An actor who hides these lists
// (hide_collections) shows them to nobody but themselves, as Mastodon;
// the counts stay.
func (a *API) follows(followers bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor, err := a.actorParam(c)
		if err != nil {
			return err
		}
		pg, err := a.pageOf(c)
		if err != nil {
			return err
		}
		if actor.HideCollections && viewerID(c) != actor.ID {
			return c.JSON(http.StatusOK, []any{})
		}
		if ok, err := a.readsCommunity(c.Request().Context(), actor, viewerID(c)); err != nil {
			return err
		} else if !ok {
			return c.JSON(http.StatusOK, []any{})
		}
		actors, rowIDs, err := a.db.Follows(c.Request().Context(), actor.ID, followers, pg)
		if err != nil {
			return err
		}
		return a.renderAccountPage(c, pg, actors, rowIDs)
	}
}

// credentialAccount renders the viewer with source and role.
func (a *API) credentialAccount(c echo.Context, me *storage.Actor) (*Account, error) {
	out, err := a.renderer(c).account(me)
	if err != nil {
		return nil, err
	}
	pending, err := a.db.PendingRequestsFor(c.Request().Context(), me.ID, 0, storage.Page{Limit: 1000})
	if err != nil {
		return nil, err
	}
	acct := currentToken(c).Account
	cred := *out
	fields := []Field{}
	for _, f := range me.ProfileFields() {
		fields = append(fields, Field{Name: f.Name, Value: f.Value})
	}
	privacy := acct.DefaultPrivacy
	if privacy == "" {
		privacy = "public"
	}
	cred.Source = &Source{Note: me.Summary, Fields: fields, Privacy: privacy, Sensitive: acct.DefaultSensitive,
		Language: acct.DefaultLanguage, FollowRequestsCount: int64(len(pending))}
	cred.Role = &Role{ID: "-99", Name: "", Permissions: "0", Color: ""}
	if acct.Admin {
		cred.Role = &Role{ID: "3", Name: "Owner", Permissions: "1048575", Color: "", Highlighted: true}
	}
	return &cred, nil
}

// updateCredentials is PATCH /api/v1/accounts/update_credentials. The
// avatar and header come as files in a multipart form.
func (a *API) updateCredentials(c echo.Context) error {
	req := c.Request()
	if strings.HasPrefix(req.Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
		// Files beyond a few MB go to a temporary file, not memory.
		if err := req.ParseMultipartForm(4 << 20); err != nil {
			return errorf(http.StatusUnprocessableEntity, "Validation failed: the form cannot be read")
		}
		defer req.MultipartForm.RemoveAll()
	}
	p, err := a.params(c)
	if err != nil {
		return err
	}
	me := viewer(c)
	for _, purpose := range []string{storage.MediaAvatar, storage.MediaHeader} {
		if req.MultipartForm == nil || len(req.MultipartForm.File[purpose]) == 0 {
			continue
		}
		fh := req.MultipartForm.File[purpose][0]
		f, err := fh.Open()
		if err != nil {
			return fmt.Errorf("open %s: %w", purpose, err)
		}
		me, err = a.svc.SetActorImage(req.Context(), me, purpose, &federation.Upload{Name: fh.Filename, File: f, Size: fh.Size})
		f.Close()
		if err != nil {
			return err
		}
	}
	var u federation.ProfileUpdate
	if p.has("display_name") {
		u.DisplayName = ptr(p.Get("display_name"))
	}
	if p.has("note") {
		u.Note = ptr(p.Get("note"))
	}
	for name, dst := range map[string]**bool{"locked": &u.Locked, "discoverable": &u.Discoverable, "hide_collections": &u.HideCollections} {
		if p.has(name) {
			*dst = ptr(p.bool(name))
		}
	}
	if fields := p.objects("fields_attributes"); len(fields) > 0 {
		list := make([]storage.ProfileField, 0, len(fields))
		for _, f := range fields {
			list = append(list, storage.ProfileField{Name: f["name"], Value: f["value"]})
		}
		u.Fields = &list
	}
	ctx := c.Request().Context()
	acct := currentToken(c).Account
	var prefs federation.Preferences
	if p.has("source[privacy]") {
		prefs.Privacy = ptr(p.Get("source[privacy]"))
	}
	if p.has("source[sensitive]") {
		prefs.Sensitive = ptr(p.bool("source[sensitive]"))
	}
	if p.has("source[language]") {
		prefs.Language = ptr(p.Get("source[language]"))
	}
	if err := a.svc.UpdatePreferences(ctx, acct, prefs); err != nil {
		return err
	}
	me, err = a.svc.UpdateProfile(ctx, me, u)
	if err != nil {
		return err
	}
	acct.Actor = me
	out, err := a.credentialAccount(c, me)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// preferences is GET /api/v1/preferences.
func (a *API) preferences(c echo.Context) error {
	acct := currentToken(c).Account
	privacy := acct.DefaultPrivacy
	if privacy == "" {
		privacy = "public"
	}
	var lang *string
	if acct.DefaultLanguage != "" {
		lang = &acct.DefaultLanguage
	}
	return c.JSON(http.StatusOK, map[string]any{
		"posting:default:visibility": privacy, "posting:default:sensitive": acct.DefaultSensitive,
		"posting:default:language": lang, "reading:expand:media": "default", "reading:expand:spoilers": false,
	})
}

// accountAction runs a Service call on the :id account and answers with
// the relationship, as mute, block and their undoing do.
func (a *API) accountAction(do func(echo.Context, params, *storage.Actor, *storage.Actor) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		target, err := a.actorParam(c)
		if err != nil {
			return err
		}
		p, err := a.params(c)
		if err != nil {
			return err
		}
		if err := do(c, p, viewer(c), target); err != nil {
			return err
		}
		return a.relationshipOf(c, target)
	}
}

func (a *API) mute(c echo.Context, p params, me, target *storage.Actor) error {
	notifications := !p.has("notifications") || p.bool("notifications")
	secs, _ := strconv.Atoi(p.Get("duration"))
	return a.svc.Mute(c.Request().Context(), me, target, notifications, time.Duration(max(secs, 0))*time.Second)
}

func (a *API) unmute(c echo.Context, _ params, me, target *storage.Actor) error {
	return a.svc.Unmute(c.Request().Context(), me, target)
}

func (a *API) block(c echo.Context, _ params, me, target *storage.Actor) error {
	return a.svc.Block(c.Request().Context(), me, target)
}

func (a *API) unblock(c echo.Context, _ params, me, target *storage.Actor) error {
	return a.svc.Unblock(c.Request().Context(), me, target)
}

func (a *API) setNote(c echo.Context, p params, me, target *storage.Actor) error {
	return a.svc.SetNote(c.Request().Context(), me, target, p.Get("comment"))
}

func (a *API) removeFromFollowers(c echo.Context, _ params, me, target *storage.Actor) error {
	return a.svc.RemoveFollower(c.Request().Context(), me, target)
}

// mutes is GET /api/v1/mutes; blocks is GET /api/v1/blocks: paged by the
// mute's or block's id.
func (a *API) mutes(c echo.Context) error {
	pg, err := a.pageOf(c)
	if err != nil {
		return err
	}
	var rows []storage.AccountMute
	if err := a.db.ListOwn(c.Request().Context(), &rows, viewerID(c), pg, "TargetActor"); err != nil {
		return err
	}
	actors, ids := make([]storage.Actor, 0, len(rows)), make([]int64, 0, len(rows))
	for _, m := range rows {
		if m.TargetActor != nil {
			actors, ids = append(actors, *m.TargetActor), append(ids, m.ID)
		}
	}
	return a.renderAccountPage(c, pg, actors, ids)
}

func (a *API) blocks(c echo.Context) error {
	pg, err := a.pageOf(c)
	if err != nil {
		return err
	}
	var rows []storage.AccountBlock
	if err := a.db.ListOwn(c.Request().Context(), &rows, viewerID(c), pg, "TargetActor"); err != nil {
		return err
	}
	actors, ids := make([]storage.Actor, 0, len(rows)), make([]int64, 0, len(rows))
	for _, b := range rows {
		if b.TargetActor != nil {
			actors, ids = append(actors, *b.TargetActor), append(ids, b.ID)
		}
	}
	return a.renderAccountPage(c, pg, actors, ids)
}

// domainBlocks is GET, POST and DELETE /api/v1/domain_blocks: a list of
// domain names.
func (a *API) domainBlocks(c echo.Context) error {
	ctx := c.Request().Context()
	switch c.Request().Method {
	case http.MethodPost, http.MethodDelete:
		p, err := a.params(c)
		if err != nil {
			return err
		}
		domain := p.Get("domain")
		if c.Request().Method == http.MethodPost {
			err = a.svc.BlockDomain(ctx, viewer(c), domain)
		} else {
			err = a.svc.UnblockDomain(ctx, viewer(c), domain)
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, struct{}{})
	}
	pg, err := a.pageOf(c)
	if err != nil {
		return err
	}
	// Mastodon's default here is 100, at most 200.
	pg.Limit = 100
	if p, _ := a.params(c); p.Get("limit") != "" {
		if n, err := strconv.Atoi(p.Get("limit")); err == nil && n > 0 {
			pg.Limit = min(n, 200)
		}
	}
	var rows []storage.MemberDomainBlock
	if err := a.db.ListOwn(ctx, &rows, viewerID(c), pg); err != nil {
		return err
	}
	out := []string{}
	for _, r := range rows {
		out = append(out, r.Domain)
	}
	if n := len(rows); n > 0 {
		a.setLink(c, pg, rows[0].ID, rows[n-1].ID, n)
	}
	return c.JSON(http.StatusOK, out)
}

// accountsByID is GET /api/v1/accounts?id[]=: several accounts at once.
func (a *API) accountsByID(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	var ids []int64
	for _, v := range p.list("id") {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && len(ids) < maxPageLimit*2 {
			ids = append(ids, n)
		}
	}
	actors, err := a.db.ListActorsByIDs(c.Request().Context(), ids)
	if err != nil {
		return err
	}
	byID := map[int64]*storage.Actor{}
	for i := range actors {
		if t := actors[i].Type; t == storage.TypePerson || t == storage.TypeGroup {
			byID[actors[i].ID] = &actors[i]
		}
	}
	r := a.renderer(c)
	out := []*Account{}
	for _, n := range ids {
		if act := byID[n]; act != nil {
			acc, err := r.account(act)
			if err != nil {
				return err
			}
			out = append(out, acc)
			delete(byID, n)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// familiarFollowers is GET /api/v1/accounts/familiar_followers?id[]=:
// for each account, the accounts the viewer follows that follow it.
func (a *API) familiarFollowers(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	r := a.renderer(c)
	out := []map[string]any{}
	for i, v := range p.list("id") {
		if i >= maxPageLimit {
			break
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		actors, err := a.db.FamiliarFollowers(ctx, viewerID(c), n, 8)
		if err != nil {
			return err
		}
		accs := []*Account{}
		for j := range actors {
			acc, err := r.account(&actors[j])
			if err != nil {
				return err
			}
			accs = append(accs, acc)
		}
		out = append(out, map[string]any{"id": v, "accounts": accs})
	}
	return c.JSON(http.StatusOK, out)
}

// accountLists is GET /api/v1/accounts/:id/lists: the viewer's lists
// that hold the account.
func (a *API) accountLists(c echo.Context) error {
	target, err := a.actorParam(c)
	if err != nil {
		return err
	}
	lists, err := a.db.ListsWith(c.Request().Context(), viewerID(c), target.ID)
	if err != nil {
		return err
	}
	out := []List{}
	for _, l := range lists {
		out = append(out, listEntity(l))
	}
	return c.JSON(http.StatusOK, out)
}

// deleteProfileImage is DELETE /api/v1/profile/avatar and /header: the
// image is removed and the member's followers told.
func (a *API) deleteProfileImage(purpose string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		me, err := a.svc.SetActorImage(ctx, viewer(c), purpose, nil)
		if err != nil {
			return err
		}
		if me, err = a.svc.UpdateProfile(ctx, me, federation.ProfileUpdate{}); err != nil {
			return err
		}
		currentToken(c).Account.Actor = me
		out, err := a.credentialAccount(c, me)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, out)
	}
}
