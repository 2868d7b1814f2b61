package federation

import (
	"cmp"
	"context"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"

	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/storage"
)

// Export and import of a community (issue 15, item 7). An export holds
// everything this server knows of a local community: its settings, its
// members and moderators, its posts and replies (of every visibility:
// the file is for its owners), its repertoire and its moderation log.
//
// An import makes a new community on this server from an export. Its
// posts cannot keep their authors: those are actors of other servers
// (or of the old one), and nothing here may write in their name. Each
// post is re-published by the new community itself, with a first line
// that names its author, date and original address; threads, kinds,
// tags, accepted answers and the repertoire are kept. Members,
// moderators and the moderation log are in the file but not imported:
// members join the new community from their own servers, and the log
// records acts on the old one. The file is untrusted input: every text is
// sanitised again and every list is bounded.

// The export format; Version changes when a reader of the old one would
// misread the new.
const (
	ExportFormat  = "commonplace-community"
	ExportVersion = 1
)

// Bounds of an export and of a file imported.
const (
	MaxExportPosts   = 100_000
	MaxExportMembers = 100_000
	MaxExportModLog  = 100_000
	// MaxImportBytes bounds the file read by an import.
	MaxImportBytes = 256 << 20
	// maxImportContent bounds one post's HTML in an import.
	maxImportContent = 100_000
	maxImportTags    = 20
)

// CommunityExport is the JSON document of an export.
type CommunityExport struct {
	Format     string            `json:"format"`
	Version    int               `json:"version"`
	ExportedAt time.Time         `json:"exported_at"`
	Source     string            `json:"source"`
	Community  ExportedCommunity `json:"community"`
	Members    []ExportedMember  `json:"members"`
	Moderators []ExportedActor   `json:"moderators"`
	// Posts are the posts and replies, oldest first: a reply after the
	// post it answers.
	Posts []ExportedPost `json:"posts"`
	// Repertoire is in its order.
	Repertoire []ExportedItem `json:"repertoire"`
	// ModLog is newest first.
	ModLog []ExportedAction `json:"modlog"`
}

// ExportedCommunity is a community's settings.
type ExportedCommunity struct {
	Name                 string    `json:"name"`
	URI                  string    `json:"uri"`
	Title                string    `json:"title"`
	Summary              string    `json:"summary"`
	Tags                 []string  `json:"tags"`
	Closed               bool      `json:"closed"`
	MembersOnly          bool      `json:"members_only"`
	Welcome              string    `json:"welcome"`
	TrustedCurate        bool      `json:"trusted_members_curate"`
	HoldNewMembers       bool      `json:"hold_new_members"`
	HoldNewInstances     bool      `json:"hold_new_instances"`
	MemberPostsPerHour   int       `json:"member_posts_per_hour"`
	InstancePostsPerHour int       `json:"instance_posts_per_hour"`
	CreatedAt            time.Time `json:"created_at"`
}

// ExportedActor names an actor.
type ExportedActor struct {
	URI    string `json:"uri"`
	Handle string `json:"handle"`
}

// ExportedMember is a membership, accepted or pending.
type ExportedMember struct {
	ExportedActor
	State       string     `json:"state"`
	Role        string     `json:"role,omitempty"`
	RequestedAt time.Time  `json:"requested_at"`
	AcceptedAt  *time.Time `json:"accepted_at,omitempty"`
}

// ExportedPost is a post or reply.
type ExportedPost struct {
	URI            string        `json:"uri"`
	URL            string        `json:"url,omitempty"`
	Author         ExportedActor `json:"author"`
	InReplyTo      string        `json:"in_reply_to,omitempty"`
	Kind           string        `json:"kind,omitempty"`
	Title          string        `json:"title,omitempty"`
	Summary        string        `json:"summary,omitempty"`
	Content        string        `json:"content"`
	Source         string        `json:"source,omitempty"`
	Language       string        `json:"language,omitempty"`
	Sensitive      bool          `json:"sensitive,omitempty"`
	Visibility     string        `json:"visibility"`
	Published      time.Time     `json:"published"`
	Edited         *time.Time    `json:"edited,omitempty"`
	Locked         bool          `json:"locked,omitempty"`
	Tags           []string      `json:"tags,omitempty"`
	AcceptedAnswer string        `json:"accepted_answer,omitempty"`
}

// ExportedItem is one post of the repertoire.
type ExportedItem struct {
	Post    string `json:"post"`
	Section string `json:"section,omitempty"`
}

// ExportedAction is an entry of the moderation log.
type ExportedAction struct {
	Action        string         `json:"action"`
	Moderator     *ExportedActor `json:"moderator,omitempty"`
	Target        *ExportedActor `json:"target,omitempty"`
	Object        string         `json:"object,omitempty"`
	Reason        string         `json:"reason,omitempty"`
	ReasonPrivate bool           `json:"reason_private,omitempty"`
	ExpiresAt     *time.Time     `json:"expires_at,omitempty"`
	At            time.Time      `json:"at"`
}

func exportedActor(a *storage.Actor) ExportedActor {
	if a == nil {
		return ExportedActor{}
	}
	return ExportedActor{URI: a.URI, Handle: a.Handle()}
}

func exportedActorRef(a *storage.Actor) *ExportedActor {
	if a == nil {
		return nil
	}
	e := exportedActor(a)
	return &e
}

// ExportCommunity exports the local community name, as its owners (or
// the operator) may. A community larger than the bounds is refused
// rather than exported in part.
func (s *Service) ExportCommunity(ctx context.Context, name string) (*CommunityExport, error) {
	c, err := s.DB.GetCommunityByName(ctx, name)
	if err != nil {
		return nil, err
	}
	g := c.Actor
	exp := &CommunityExport{
		Format: ExportFormat, Version: ExportVersion, ExportedAt: time.Now().UTC().Truncate(time.Second), Source: s.URLs.Base,
		Community: ExportedCommunity{
			Name: g.Username, URI: g.URI, Title: c.Title, Summary: c.Summary, Tags: c.TagNames(),
			Closed: c.Closed, MembersOnly: g.MembersOnly,
			HoldNewMembers: c.HoldNewMembers, HoldNewInstances: c.HoldNewInstances,
			MemberPostsPerHour: c.MemberPostsPerHour, InstancePostsPerHour: c.InstancePostsPerHour,
			CreatedAt: c.CreatedAt.UTC(),
		},
		Members: []ExportedMember{}, Moderators: []ExportedActor{}, Posts: []ExportedPost{},
		Repertoire: []ExportedItem{}, ModLog: []ExportedAction{},
	}
	if exp.Community.Welcome, err = s.DB.Welcome(ctx, g.ID); err != nil {
		return nil, err
	}
	if exp.Community.TrustedCurate, err = s.DB.TrustedCurate(ctx, g.ID); err != nil {
		return nil, err
	}
	for _, state := range []string{storage.StateAccepted, storage.StatePending} {
		for after := int64(0); ; {
			page, err := s.DB.MemberPage(ctx, g.ID, state, after, 500)
			if err != nil {
				return nil, err
			}
			if len(page) == 0 {
				break
			}
			for _, m := range page {
				if len(exp.Members) == MaxExportMembers {
					return nil, fmt.Errorf("%w: %s has more than %d members: too large to export", ErrInvalid, name, MaxExportMembers)
				}
				var accepted *time.Time
				if m.AcceptedAt != nil {
					t := m.AcceptedAt.UTC()
					accepted = &t
				}
				exp.Members = append(exp.Members, ExportedMember{ExportedActor: exportedActor(m.MemberActor),
					State: m.State, Role: m.Role, RequestedAt: m.CreatedAt.UTC(), AcceptedAt: accepted})
			}
			after = page[len(page)-1].ID
		}
	}
	mods, err := s.DB.Moderators(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	for i := range mods {
		exp.Moderators = append(exp.Moderators, exportedActor(&mods[i]))
	}
	for after := int64(0); ; {
		page, err := s.DB.ListCommunityPosts(ctx, g.ID, after, 500)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		if len(exp.Posts)+len(page) > MaxExportPosts {
			return nil, fmt.Errorf("%w: %s has more than %d posts: too large to export", ErrInvalid, name, MaxExportPosts)
		}
		ids := make([]int64, len(page))
		for i := range page {
			ids[i] = page[i].ID
		}
		tags, err := s.DB.ObjectTags(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, o := range page {
			p := ExportedPost{
				URI: o.URI, URL: o.URL, Author: exportedActor(o.AuthorActor), InReplyTo: o.InReplyToURI,
				Kind: o.Kind, Title: o.Name, Summary: o.Summary, Content: o.Content, Source: o.Source,
				Language: o.Language, Sensitive: o.Sensitive, Visibility: o.Visibility,
				Published: o.PublishedAt.UTC(), Locked: o.LockedAt != nil, Tags: tags[o.ID],
				AcceptedAnswer: o.AcceptedAnswerURI,
			}
			if p.URL == o.URI {
				p.URL = ""
			}
			if o.EditedAt != nil {
				t := o.EditedAt.UTC()
				p.Edited = &t
			}
			exp.Posts = append(exp.Posts, p)
		}
		after = page[len(page)-1].ID
	}
	items, err := s.DB.ListRepertoire(ctx, g.ID, MaxRepertoire)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if it.Object != nil {
			exp.Repertoire = append(exp.Repertoire, ExportedItem{Post: it.Object.URI, Section: it.Section})
		}
	}
	for before := int64(0); ; {
		page, err := s.DB.ModLog(ctx, g.ID, before, 500)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			if len(exp.ModLog) == MaxExportModLog {
				return nil, fmt.Errorf("%w: %s has more than %d moderation entries: too large to export", ErrInvalid, name, MaxExportModLog)
			}
			var expires *time.Time
			if a.ExpiresAt != nil {
				t := a.ExpiresAt.UTC()
				expires = &t
			}
			exp.ModLog = append(exp.ModLog, ExportedAction{
				Action: a.Action, Moderator: exportedActorRef(a.ModeratorActor), Target: exportedActorRef(a.TargetActor),
				Object: a.ObjectURI, Reason: a.Reason, ReasonPrivate: a.ReasonPrivate, ExpiresAt: expires, At: a.CreatedAt.UTC(),
			})
		}
		before = page[len(page)-1].ID
	}
	return exp, nil
}

// ImportReport says what an import made and what it left out.
type ImportReport struct {
	Community *storage.Community
	// Posts and Replies imported; Skipped posts that are not the
	// community's to re-publish (followers-only, direct).
	Posts, Replies, Skipped int
	Repertoire              int
	// Members, Moderators and ModLog are in the file, not imported.
	Members, Moderators, ModLog int
}

// CheckExport validates an export read from a file before anything is
// made from it.
func CheckExport(exp *CommunityExport) error {
	switch {
	case exp.Format != ExportFormat:
		return fmt.Errorf("%w: not a Commonplace community export (format %q, want %q)", ErrInvalid, exp.Format, ExportFormat)
	case exp.Version != ExportVersion:
		return fmt.Errorf("%w: export version %d; this server reads version %d", ErrInvalid, exp.Version, ExportVersion)
	case len(exp.Posts) > MaxExportPosts:
		return fmt.Errorf("%w: %d posts; at most %d are imported", ErrInvalid, len(exp.Posts), MaxExportPosts)
	case len(exp.Members) > MaxExportMembers || len(exp.ModLog) > MaxExportModLog:
		return fmt.Errorf("%w: more than %d members or %d moderation entries", ErrInvalid, MaxExportMembers, MaxExportModLog)
	case len(exp.Repertoire) > MaxRepertoire:
		return fmt.Errorf("%w: %d repertoire items; at most %d", ErrInvalid, len(exp.Repertoire), MaxRepertoire)
	}
	seen := make(map[string]bool, len(exp.Posts))
	for i, p := range exp.Posts {
		switch {
		case p.URI == "":
			return fmt.Errorf("%w: post %d has no uri", ErrInvalid, i+1)
		case seen[p.URI]:
			return fmt.Errorf("%w: post %s is in the file twice", ErrInvalid, p.URI)
		case len(p.Content) > maxImportContent:
			return fmt.Errorf("%w: post %s has %d bytes of content; at most %d", ErrInvalid, p.URI, len(p.Content), maxImportContent)
		case len(p.Tags) > maxImportTags:
			return fmt.Errorf("%w: post %s has %d tags; at most %d", ErrInvalid, p.URI, len(p.Tags), maxImportTags)
		}
		seen[p.URI] = true
	}
	return nil
}

// ImportCommunity makes a new local community from an export, named name
// (default: the exported name) and owned by the local member owner (may
// be ""), as operator. The posts go in one transaction: if they fail,
// the community is left empty and the error says so.
func (s *Service) ImportCommunity(ctx context.Context, operator string, exp *CommunityExport, name, owner string) (*ImportReport, error) {
	if err := CheckExport(exp); err != nil {
		return nil, err
	}
	ec := exp.Community
	c, err := s.AdminCreateCommunity(ctx, operator, NewCommunity{
		Name: cmp.Or(name, ec.Name), Title: ec.Title, Summary: ec.Summary, Tags: ec.Tags,
		Closed: ec.Closed, MembersOnly: ec.MembersOnly, Owner: owner,
	})
	if err != nil {
		return nil, err
	}
	g := c.Actor
	rep := &ImportReport{Community: c, Members: len(exp.Members), Moderators: len(exp.Moderators), ModLog: len(exp.ModLog)}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		rules := storage.PostingRules{HoldNewMembers: ec.HoldNewMembers, HoldNewInstances: ec.HoldNewInstances,
			MemberPostsPerHour: max(0, ec.MemberPostsPerHour), InstancePostsPerHour: max(0, ec.InstancePostsPerHour)}
		if err := tx.SetPostingRules(ctx, g.ID, rules); err != nil {
			return err
		}
		if w := sanitize.PlainText(ec.Welcome, MaxPostLen); w != "" {
			if err := tx.SetWelcome(ctx, g.ID, w); err != nil {
				return err
			}
		}
		if err := tx.SetTrustedCurate(ctx, g.ID, ec.TrustedCurate); err != nil {
			return err
		}
		made, err := s.importPosts(ctx, tx, g, exp.Posts, rep)
		if err != nil {
			return err
		}
		for _, p := range exp.Posts {
			q, a := made[p.URI], made[p.AcceptedAnswer]
			if q != nil && a != nil && q.Kind == KindQuestion && q.InReplyToID == nil {
				if err := tx.SetAcceptedAnswer(ctx, q.ID, a.URI); err != nil {
					return err
				}
			}
		}
		var items []storage.RepertoireItem
		for _, it := range exp.Repertoire {
			if o := made[it.Post]; o != nil && o.InReplyToID == nil {
				section, err := checkSection(it.Section)
				if err != nil {
					section = ""
				}
				items = append(items, storage.RepertoireItem{ObjectID: o.ID, Section: section})
			}
		}
		rep.Repertoire = len(items)
		return tx.SetRepertoire(ctx, g.ID, items)
	})
	if err != nil {
		return rep, fmt.Errorf("community %s was created, its posts not imported (delete it with `commonplace community delete %s --yes` before trying again): %w", g.Username, g.Username, err)
	}
	return rep, nil
}

// importPosts re-publishes the exported posts as the community's own,
// each after the post it answers, and returns them by their old ids.
func (s *Service) importPosts(ctx context.Context, tx *storage.DB, g *storage.Actor, posts []ExportedPost, rep *ImportReport) (map[string]*storage.Object, error) {
	byURI := make(map[string]*ExportedPost, len(posts))
	for i := range posts {
		byURI[posts[i].URI] = &posts[i]
	}
	made := make(map[string]*storage.Object, len(posts))
	skipped := map[string]bool{}
	now := time.Now().UTC()
	var one func(p *ExportedPost, depth int) (*storage.Object, error)
	one = func(p *ExportedPost, depth int) (*storage.Object, error) {
		if o, ok := made[p.URI]; ok || skipped[p.URI] {
			return o, nil
		}
		visibility := p.Visibility
		switch {
		case visibility == storage.VisibilityPublic || visibility == storage.VisibilityUnlisted:
		case visibility == storage.VisibilityMembers && g.MembersOnly:
		default:
			skipped[p.URI] = true
			rep.Skipped++
			return nil, nil
		}
		if g.MembersOnly {
			visibility = storage.VisibilityMembers
		}
		var parent *storage.Object
		if pp := byURI[p.InReplyTo]; pp != nil && p.InReplyTo != p.URI {
			if depth >= MaxReplyDepth {
				return nil, fmt.Errorf("%w: post %s is more than %d replies deep", ErrInvalid, p.URI, MaxReplyDepth)
			}
			skipped[p.URI] = true // a cycle ends here
			var err error
			if parent, err = one(pp, depth+1); err != nil {
				return nil, err
			}
			delete(skipped, p.URI)
		}
		published := p.Published.UTC().Truncate(time.Second)
		if published.IsZero() || published.After(now) {
			published = now.Truncate(time.Second)
		}
		kind := KindDiscussion
		if k, ok := NormalizeKind(p.Kind); ok && parent == nil {
			kind = k
		}
		uri := s.URLs.NewObject()
		o := &storage.Object{
			URI: uri, Type: "Note", AuthorActorID: g.ID, CommunityActorID: &g.ID, URL: uri,
			Name: sanitize.PlainText(p.Title, 300), Kind: kind, Summary: sanitize.PlainText(p.Summary, 500),
			Content:   sanitize.HTML(importedByline(p, published) + p.Content),
			Sensitive: p.Sensitive || p.Summary != "", Language: languageTag(p.Language),
			Local: true, Visibility: visibility, PublishedAt: published, ContextURI: uri,
		}
		if p.Locked {
			o.LockedAt = &now
		}
		if parent != nil {
			o.InReplyToURI, o.InReplyToID = parent.URI, &parent.ID
			o.ReplyDepth, o.ContextURI = parent.ReplyDepth+1, parent.ContextURI
		}
		if err := tx.CreateObject(ctx, o); err != nil {
			return nil, err
		}
		var tags []string
		for _, t := range p.Tags {
			if t = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t), "#")); t != "" && len(t) <= 100 && !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		if err := tx.PutObjectTags(ctx, o.ID, tags); err != nil {
			return nil, err
		}
		if err := indexObject(ctx, tx, o.ID, o.Name, o.Summary, o.Content); err != nil {
			return nil, err
		}
		o.AuthorActor, o.CommunityActor = g, g
		made[p.URI] = o
		if parent != nil {
			rep.Replies++
		} else {
			rep.Posts++
		}
		return o, nil
	}
	for i := range posts {
		if _, err := one(&posts[i], 0); err != nil {
			return nil, err
		}
	}
	return made, nil
}

// importedByline opens an imported post: who wrote it, when and where.
func importedByline(p *ExportedPost, published time.Time) string {
	who := cmp.Or(p.Author.Handle, p.Author.URI, "someone")
	by := html.EscapeString("@" + strings.TrimPrefix(who, "@"))
	if safeLink(p.Author.URI, p.Author.URI) {
		by = `<a href="` + html.EscapeString(p.Author.URI) + `">` + by + `</a>`
	}
	where := ""
	if link := cmp.Or(p.URL, p.URI); safeLink(link, link) {
		where = ` (<a href="` + html.EscapeString(link) + `">original</a>)`
	}
	return `<p><em>By ` + by + ` on ` + published.Format("2 January 2006") + where + `</em></p>`
}

// languageTag keeps a language code that looks like one.
func languageTag(s string) string {
	if len(s) > 16 || strings.ContainsFunc(s, func(r rune) bool {
		return !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		return ""
	}
	return s
}
