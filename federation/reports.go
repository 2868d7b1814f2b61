package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Reports. A member reports an account and some of its posts; the report
// lands in the queue of the moderators of the local community the posts
// are in, else of the admins. Reports from elsewhere arrive as Flag:
// Mastodon and GoToSocial send one from their instance actor with the
// account and the posts as its objects and the comment in content; Lemmy
// and Mbin send one from the reporter to the community, one post as its
// object and the reason in summary. Reports about posts in a remote
// community go to that community as Lemmy's Flag; with Forward, the
// reported account's server gets Mastodon's Flag from our instance actor.

// MaxReportObjects bounds the posts one report names.
const MaxReportObjects = 20

// NewReport is a member's report.
type NewReport struct {
	// Account is the reported account (actor id or handle); empty: the
	// author of the first post.
	Account  string
	Objects  []string
	Comment  string
	Category string
	// Forward sends the report on to a remote account's server.
	Forward bool
}

// Report files a local member's report.
func (s *Service) Report(ctx context.Context, reporter *storage.Actor, in NewReport) (*storage.Report, error) {
	switch {
	case !reporter.Local:
		return nil, fmt.Errorf("%w: only local members report from here", ErrForbidden)
	case utf8.RuneCountInString(in.Comment) > MaxModReasonLen:
		return nil, fmt.Errorf("%w: a report's comment is at most %d characters", ErrInvalid, MaxModReasonLen)
	case len(in.Objects) > MaxReportObjects:
		return nil, fmt.Errorf("%w: a report names at most %d posts", ErrInvalid, MaxReportObjects)
	case in.Account == "" && len(in.Objects) == 0:
		return nil, fmt.Errorf("%w: a report names an account or a post", ErrInvalid)
	}
	var objects []*storage.Object
	for _, uri := range in.Objects {
		o, err := s.DB.GetObjectByURI(ctx, uri)
		if err != nil {
			return nil, fmt.Errorf("reported post %s: %w", uri, err)
		}
		objects = append(objects, o)
	}
	var target *storage.Actor
	var err error
	if in.Account != "" {
		if target, err = s.resolvePerson(ctx, in.Account); err != nil {
			return nil, err
		}
	} else {
		target = objects[0].AuthorActor
	}
	if target.ID == reporter.ID {
		return nil, fmt.Errorf("%w: you cannot report yourself", ErrInvalid)
	}
	var community *storage.Actor
	uris := make([]string, 0, len(objects))
	for _, o := range objects {
		if o.AuthorActorID != target.ID {
			return nil, fmt.Errorf("%w: %s is not %s's post", ErrInvalid, o.URI, target.Handle())
		}
		if community == nil && o.CommunityActor != nil {
			community = o.CommunityActor
		}
		uris = append(uris, o.URI)
	}
	r := &storage.Report{
		ReporterActorID: &reporter.ID, TargetActorID: &target.ID, Comment: strings.TrimSpace(in.Comment),
		Category: reportCategory(in.Category), Local: true, Forwarded: in.Forward && !target.Local,
	}
	r.SetObjects(uris)
	if community != nil {
		r.CommunityActorID = &community.ID
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if community != nil && !community.Local {
			// Lemmy's Flag: one post a Flag, to the community.
			for _, uri := range uris {
				body, err := vocab.Marshal(&vocab.Activity{
					ID: s.URLs.NewActivity(), Type: vocab.TypeFlag, Actor: vocab.IRI(reporter.URI),
					Object: vocab.RefsTo(uri), To: vocab.IRIs{community.URI}, Audience: vocab.IRI(community.URI),
					Summary: r.Comment,
				})
				if err != nil {
					return err
				}
				a, err := s.send(ctx, tx, reporter, body, []string{community.InboxURI})
				if err != nil {
					return err
				}
				if r.URI == "" {
					r.URI = a.URI
				}
			}
		}
		if r.Forwarded {
			// Mastodon's Flag, from the instance actor: the reporter's
			// name stays here.
			inst, err := s.EnsureInstanceActor(ctx)
			if err != nil {
				return err
			}
			body, err := vocab.Marshal(&vocab.Activity{
				ID: s.URLs.NewActivity(), Type: vocab.TypeFlag, Actor: vocab.IRI(inst.URI),
				Object: vocab.RefsTo(append([]string{target.URI}, uris...)...), Content: r.Comment,
			})
			if err != nil {
				return err
			}
			a, err := s.send(ctx, tx, inst, body, []string{target.InboxURI})
			if err != nil {
				return err
			}
			if r.URI == "" {
				r.URI = a.URI
			}
		}
		var err error
		if r, err = tx.PutReport(ctx, r); err != nil {
			return err
		}
		return s.reportFiled(ctx, tx, r, reporter)
	})
	if err != nil {
		return nil, err
	}
	s.notifyDeliveries()
	s.Log.Info("report filed", "report", r.ID, "target", target.URI, "community", community != nil)
	return r, nil
}

// reportCategory is one of Mastodon's report categories.
func reportCategory(c string) string {
	switch c {
	case "spam", "legal", "violation", "other":
		return c
	}
	return "other"
}

// onFlag files a report that came from another server, when it concerns
// something of ours: a local account, a post we have, or a local
// community it is addressed to.
func (s *Service) onFlag(ctx context.Context, act *vocab.Activity, reporter *storage.Actor) error {
	var (
		target    *storage.Actor
		community *storage.Actor
		uris      []string
	)
	for i, id := range act.Object.IDs() {
		if i >= MaxReportObjects+1 {
			break
		}
		if a, err := s.DB.GetActorByURI(ctx, id); err == nil {
			if a.Type == storage.TypeGroup {
				if a.Local && community == nil {
					community = a
				}
			} else if target == nil {
				target = a
			}
			continue
		}
		o, err := s.DB.GetObjectByURI(ctx, id)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		uris = append(uris, o.URI)
		if target == nil {
			target = o.AuthorActor
		}
		if community == nil && o.CommunityActor != nil && o.CommunityActor.Local {
			community = o.CommunityActor
		}
	}
	if community == nil {
		for _, id := range act.Recipients() {
			if a, err := s.DB.GetActorByURI(ctx, id); err == nil && a.Local && a.Type == storage.TypeGroup {
				community = a
				break
			}
		}
	}
	if community == nil && len(uris) == 0 && (target == nil || !target.Local) {
		return nil // nothing of ours
	}
	comment := act.Content
	if comment == "" {
		comment = act.Summary
	}
	r := &storage.Report{
		URI: act.ID, ReporterActorID: &reporter.ID, Comment: truncate(sanitize.PlainText(comment, MaxModReasonLen), 4*MaxModReasonLen),
		Category: "other",
	}
	r.SetObjects(uris)
	if target != nil {
		r.TargetActorID = &target.ID
	}
	if community != nil {
		r.CommunityActorID = &community.ID
	}
	err := s.DB.Tx(ctx, func(tx *storage.DB) error {
		var err error
		if r, err = tx.PutReport(ctx, r); err != nil {
			return err
		}
		return s.reportFiled(ctx, tx, r, reporter)
	})
	if err == nil {
		s.Log.Info("report received", "report", r.ID, "from", reporter.URI, "community", community != nil)
	}
	return err
}

// maxReportNotified bounds how many people one report notifies.
const maxReportNotified = 100

// reportFiled tells those who handle a new report of it: the local
// moderators of its local community, else the admins.
func (s *Service) reportFiled(ctx context.Context, tx *storage.DB, r *storage.Report, reporter *storage.Actor) error {
	var ids []int64
	community := r.CommunityActor
	if community == nil && r.CommunityActorID != nil {
		c, err := tx.GetActorByID(ctx, *r.CommunityActorID)
		if err != nil {
			return err
		}
		community = c
	}
	if community != nil && community.Local {
		mods, err := tx.Moderators(ctx, community.ID)
		if err != nil {
			return err
		}
		for _, m := range mods {
			if m.Local && m.Type == storage.TypePerson {
				ids = append(ids, m.ID)
			}
		}
	} else {
		admins, err := tx.AdminActorIDs(ctx)
		if err != nil {
			return err
		}
		ids = admins
	}
	for i, id := range ids {
		if i >= maxReportNotified {
			break
		}
		if id == reporter.ID {
			continue
		}
		if err := s.notify(ctx, tx, &storage.Notification{
			RecipientActorID: id, Type: storage.NotifyReport, FromActorID: reporter.ID, ReportID: &r.ID,
		}); err != nil {
			return err
		}
	}
	return nil
}

// MayHandleReport reports whether actor may see and close a report: a
// moderator of its local community, or an admin.
func (s *Service) MayHandleReport(ctx context.Context, actor *storage.Actor, r *storage.Report) (bool, error) {
	if r.CommunityActor != nil && r.CommunityActor.Local {
		if ok, err := s.mayModerate(ctx, actor, r.CommunityActor); err != nil || ok {
			return ok, err
		}
	}
	return s.DB.IsAdminActor(ctx, actor.ID)
}

// CloseReport resolves (or, with dismiss, dismisses) an open report, as a
// moderator of its community or an admin, with a note for the modlog
// (kept private: reports are). The reporter is told: a local one by a
// notification, a remote person by a Resolve of their Flag, as Lemmy
// sends it.
func (s *Service) CloseReport(ctx context.Context, by *storage.Actor, id int64, dismiss bool, note string) (*storage.Report, error) {
	if utf8.RuneCountInString(note) > MaxModReasonLen {
		return nil, fmt.Errorf("%w: a note is at most %d characters", ErrInvalid, MaxModReasonLen)
	}
	r, err := s.DB.GetReport(ctx, id)
	if err != nil {
		return nil, err
	}
	if ok, err := s.MayHandleReport(ctx, by, r); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("report %d: %w", id, storage.ErrNotFound)
	}
	state, action := storage.ReportResolved, storage.ModResolveReport
	if dismiss {
		state, action = storage.ReportDismissed, storage.ModDismissReport
	}
	teller := r.CommunityActor
	if teller == nil || !teller.Local {
		if teller, err = s.EnsureInstanceActor(ctx); err != nil {
			return nil, err
		}
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.CloseReport(ctx, r.ID, state, by.ID, strings.TrimSpace(note)); err != nil {
			return err
		}
		if r.CommunityActor != nil && r.CommunityActor.Local {
			first := ""
			if objs := r.Objects(); len(objs) > 0 {
				first = objs[0]
			}
			if err := s.logMod(ctx, tx, r.CommunityActor, by, action, r.TargetActor, first, Reason{Text: note, Private: true}, nil); err != nil {
				return err
			}
		}
		rep := r.ReporterActor
		switch {
		case rep == nil:
		case rep.Local:
			return s.notify(ctx, tx, &storage.Notification{RecipientActorID: rep.ID, Type: storage.NotifyReportResolved, FromActorID: teller.ID})
		case rep.Type == storage.TypePerson && r.URI != "" && !r.Local:
			var flag any = r.URI
			if a, err := tx.GetActivityByURI(ctx, r.URI); err == nil {
				flag = rawJSON(a.Raw)
			}
			body, err := s.activityDoc("Resolve", teller, flag, []string{rep.URI}, nil)
			if err != nil {
				return err
			}
			_, err = s.send(ctx, tx, teller, body, []string{rep.InboxURI})
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notifyDeliveries()
	return s.DB.GetReport(ctx, id)
}
