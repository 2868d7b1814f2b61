package web

import (
	"cmp"
	"context"
	"html/template"
	neturl "net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/storage"
)

// Post is a post as pages show it.
type Post struct {
	ID    int64
	Title string
	// Kind is the kind of post ("" for a discussion) and KindLabel its
	// name ("Question").
	Kind, KindLabel string
	// Path is the post's page here: its own URL for local posts, and
	// /posts/ID for those from other servers.
	Path string
	// Author is @user@domain; AuthorURL links to their profile.
	Author, AuthorName, AuthorURL string
	Published                     time.Time
	Edited                        *time.Time
	// Content is sanitised HTML, safe to insert as it is.
	Content template.HTML
	// Source is the text the author wrote, for editing.
	Source              string
	Lang                string
	Replies, Likes      int64
	Liked, Mine, CanMod bool
	Community           string
	CommunityTitle      string
	CommunityPath       string
	InReplyToPath       string
	Deleted             bool
	// Answered: a question with an accepted answer. Accepted: the reply
	// that is one.
	Answered, Accepted bool
	Locked             bool
	// Attachments are the post's media, in order (none once deleted).
	Attachments []Attachment
}

// Attachment is a post's file as pages show it: an image with a preview
// as a picture linking to the file, anything else as a download link.
type Attachment struct {
	URL, Preview  string
	Width, Height int
	// Alt is the author's description; Name the file's name, Type its
	// media type and Size its size ("" when not known yet).
	Alt, Name, Type, Size string
}

// postPath is where a browser reads a post.
func (w *Web) postPath(o *storage.Object) string {
	if o.Local && strings.HasPrefix(o.URI, w.cfg.BaseURL()+"/o/") {
		return strings.TrimPrefix(o.URI, w.cfg.BaseURL())
	}
	return "/posts/" + strconv.FormatInt(o.ID, 10)
}

// postViews renders objects with their counters and what the viewer may
// do with each, in a few queries for the whole list.
func (w *Web) postViews(ctx context.Context, objs []storage.Object, viewer *storage.Actor) ([]Post, error) {
	ids := make([]int64, len(objs))
	for i := range objs {
		ids[i] = objs[i].ID
	}
	var viewerID int64
	if viewer != nil {
		viewerID = viewer.ID
	}
	stats, err := w.db.StatusStats(ctx, ids, viewerID)
	if err != nil {
		return nil, err
	}
	// Attachments follow their posts: whoever may see the post sees them.
	attached, err := w.db.MediaOfObjects(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Post, len(objs))
	for i := range objs {
		out[i] = w.postView(&objs[i], stats[objs[i].ID], viewer)
		if !out[i].Deleted {
			for j := range attached[objs[i].ID] {
				out[i].Attachments = append(out[i].Attachments, w.attachmentView(&attached[objs[i].ID][j]))
			}
		}
	}
	return out, nil
}

// attachmentView renders an attachment from the links the client API
// gives (federation.AttachmentLinks).
func (w *Web) attachmentView(m *storage.MediaAttachment) Attachment {
	kind, url, preview := w.svc.AttachmentLinks(m)
	a := Attachment{URL: url, Alt: m.Description, Type: m.ContentType}
	if kind == storage.MediaImage && preview != "" {
		a.Preview = preview
		a.Width, a.Height = m.Width, m.Height
		if preview != url && m.ThumbWidth > 0 {
			a.Width, a.Height = m.ThumbWidth, m.ThumbHeight
		}
		return a
	}
	// Uploads keep no name of their own: a remote file is named by its
	// address, an own one by its key.
	a.Name = path.Base(cmp.Or(m.RemoteURL, m.FileKey))
	if u, err := neturl.Parse(m.RemoteURL); err == nil && m.RemoteURL != "" {
		a.Name = path.Base(u.Path)
	}
	if m.FileSize > 0 {
		a.Size = fileSize(m.FileSize)
	}
	return a
}

// fileSize is a size as people read it.
func fileSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt((n+1<<9)>>10, 10) + " KB"
	default:
		return strconv.FormatInt(n, 10) + " bytes"
	}
}

func (w *Web) postView(o *storage.Object, st *storage.StatusStats, viewer *storage.Actor) Post {
	p := Post{
		ID: o.ID, Title: o.Name, Path: w.postPath(o), Published: o.PublishedAt, Edited: o.EditedAt,
		// Stored content was sanitised on the way in; sanitising again on
		// the way out costs little and guards old rows.
		Content: template.HTML(sanitize.HTML(federation.StripKindLead(o.Content, o.Kind, o.Name))), Source: o.Source, Lang: o.Language,
		Deleted: o.DeletedAt != nil, Locked: o.LockedAt != nil,
		Kind: o.Kind, KindLabel: federation.KindLabel(o.Kind),
		Answered: o.Kind == federation.KindQuestion && o.AcceptedAnswerURI != "",
	}
	if a := o.AuthorActor; a != nil {
		p.Author, p.AuthorName, p.AuthorURL = "@"+a.Handle(), cmp.Or(a.DisplayName, a.Username), w.actorPath(a)
		p.Mine = viewer != nil && viewer.ID == a.ID
	}
	if g := o.CommunityActor; g != nil {
		p.Community, p.CommunityTitle = g.Handle(), cmp.Or(g.DisplayName, g.Username)
		p.CommunityPath = w.actorPath(g)
	}
	if st != nil {
		p.Replies, p.Likes, p.Liked = st.Replies, st.Favourites, st.Favourited
	}
	if o.InReplyToID != nil {
		p.InReplyToPath = "/posts/" + strconv.FormatInt(*o.InReplyToID, 10)
	}
	return p
}

// actorPath links to an actor: its page here when local, its own URL
// otherwise.
func (w *Web) actorPath(a *storage.Actor) string {
	if a.Local {
		return strings.TrimPrefix(cmp.Or(a.URL, a.URI), w.cfg.BaseURL())
	}
	return federation.LinkOrID(a.URL, a.URI)
}
