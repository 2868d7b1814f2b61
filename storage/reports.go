package storage

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Report states.
const (
	ReportOpen      = "open"
	ReportResolved  = "resolved"
	ReportDismissed = "dismissed"
)

// NotifyReportResolved tells a local reporter their report was resolved
// or dismissed; FromActor is the community (or the instance actor).
const NotifyReportResolved = "report_resolved"

// NotifyReport tells a moderator of a report to review (Mastodon's
// admin.report, sent to its moderators and admins).
const NotifyReport = "admin.report"

// Report is a report about an account and some of its posts, in the queue
// of a community's moderators (CommunityActorID) or of the admins (nil).
// Local reports were made here; others came as a Flag.
type Report struct {
	ID                int64
	URI               string `gorm:"column:uri"`
	ReporterActorID   *int64
	ReporterActor     *Actor `gorm:"foreignKey:ReporterActorID"`
	CommunityActorID  *int64
	CommunityActor    *Actor `gorm:"foreignKey:CommunityActorID"`
	TargetActorID     *int64
	TargetActor       *Actor `gorm:"foreignKey:TargetActorID"`
	ObjectURIs        string `gorm:"column:object_uris"`
	Comment           string
	Category          string
	Forwarded         bool
	Local             bool
	State             string
	ResolvedByActorID *int64
	ResolvedByActor   *Actor `gorm:"foreignKey:ResolvedByActorID"`
	Resolution        string
	ResolvedAt        *time.Time
	CreatedAt         time.Time
}

// Objects lists the reported posts' ids.
func (r *Report) Objects() []string {
	if r.ObjectURIs == "" {
		return nil
	}
	return strings.Split(r.ObjectURIs, "\n")
}

// SetObjects sets the reported posts' ids.
func (r *Report) SetObjects(uris []string) { r.ObjectURIs = strings.Join(uris, "\n") }

func (db *DB) reports(ctx context.Context) *gorm.DB {
	return db.Gorm(ctx).Preload("ReporterActor").Preload("CommunityActor").Preload("TargetActor").Preload("ResolvedByActor")
}

// PutReport records a report. A Flag received twice (same id from the
// same reporter) is one report: the first is returned.
func (db *DB) PutReport(ctx context.Context, r *Report) (*Report, error) {
	if r.URI != "" && !r.Local {
		var got Report
		err := db.Gorm(ctx).Where("uri = ? AND NOT local", r.URI).Take(&got).Error
		if err == nil {
			return &got, nil
		}
		if err := translate(err); !errors.Is(err, ErrNotFound) {
			return nil, wrap(err, "find report %q", r.URI)
		}
	}
	if r.State == "" {
		r.State = ReportOpen
	}
	if r.Category == "" {
		r.Category = "other"
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now().UTC()
	}
	if err := db.Gorm(ctx).Create(r).Error; err != nil {
		return nil, wrap(err, "put report")
	}
	return db.GetReport(ctx, r.ID)
}

// GetReport returns a report with its actors.
func (db *DB) GetReport(ctx context.Context, id int64) (*Report, error) {
	var r Report
	err := db.reports(ctx).Where("reports.id = ?", id).Take(&r).Error
	return &r, wrap(err, "get report %d", id)
}

// ReportFilter selects a page of a report queue, newest first.
type ReportFilter struct {
	// CommunityActorIDs are the communities whose reports are listed;
	// InstanceWide adds those for the admins (no community). Neither:
	// nothing.
	CommunityActorIDs []int64
	InstanceWide      bool
	// All lists every report (an admin's view).
	All bool
	// ReporterActorID lists one reporter's own reports.
	ReporterActorID int64
	// State is one state ("" for every state).
	State    string
	BeforeID int64
	Limit    int
}

// Reports lists reports matching f, newest first.
func (db *DB) Reports(ctx context.Context, f ReportFilter) ([]Report, error) {
	q := db.reports(ctx).Model(&Report{})
	switch {
	case f.ReporterActorID > 0:
		q = q.Where("reporter_actor_id = ?", f.ReporterActorID)
	case f.All:
	case f.InstanceWide && len(f.CommunityActorIDs) > 0:
		q = q.Where("community_actor_id IS NULL OR community_actor_id IN ?", f.CommunityActorIDs)
	case f.InstanceWide:
		q = q.Where("community_actor_id IS NULL")
	case len(f.CommunityActorIDs) > 0:
		q = q.Where("community_actor_id IN ?", f.CommunityActorIDs)
	default:
		return nil, nil
	}
	if f.State != "" {
		q = q.Where("state = ?", f.State)
	}
	if f.BeforeID > 0 {
		q = q.Where("reports.id < ?", f.BeforeID)
	}
	if f.Limit <= 0 {
		f.Limit = 40
	}
	var out []Report
	err := q.Order("reports.id DESC").Limit(f.Limit).Find(&out).Error
	return out, wrap(err, "list reports")
}

// CountOpenReports counts the open reports of some communities (and, with
// instanceWide, the admins').
func (db *DB) CountOpenReports(ctx context.Context, communityActorIDs []int64, instanceWide bool) (int64, error) {
	q := db.Gorm(ctx).Model(&Report{}).Where("state = ?", ReportOpen)
	switch {
	case instanceWide && len(communityActorIDs) > 0:
		q = q.Where("community_actor_id IS NULL OR community_actor_id IN ?", communityActorIDs)
	case instanceWide:
		q = q.Where("community_actor_id IS NULL")
	case len(communityActorIDs) > 0:
		q = q.Where("community_actor_id IN ?", communityActorIDs)
	default:
		return 0, nil
	}
	var n int64
	return n, wrap(q.Count(&n).Error, "count open reports")
}

// CloseReport resolves or dismisses an open report. ErrNotFound if it is
// not open.
func (db *DB) CloseReport(ctx context.Context, id int64, state string, byActorID int64, resolution string) error {
	now := time.Now().UTC()
	res := db.Gorm(ctx).Model(&Report{}).Where("id = ? AND state = ?", id, ReportOpen).Updates(map[string]any{
		"state": state, "resolved_by_actor_id": byActorID, "resolution": resolution, "resolved_at": now,
	})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "close report %d", id)
	}
	return wrap(res.Error, "close report %d", id)
}

// ModeratedCommunities lists the local communities an actor owns or
// moderates.
func (db *DB) ModeratedCommunities(ctx context.Context, actorID int64) ([]Actor, error) {
	var out []Actor
	err := db.Gorm(ctx).Joins("JOIN memberships ON memberships.community_actor_id = actors.id").
		Where("memberships.member_actor_id = ? AND memberships.state = ? AND memberships.role IN ? AND actors.local",
			actorID, StateAccepted, []string{RoleOwner, RoleModerator}).
		Order("actors.username").Find(&out).Error
	return out, wrap(err, "communities moderated by %d", actorID)
}

// IsAdminActor reports whether a local actor is an admin's.
func (db *DB) IsAdminActor(ctx context.Context, actorID int64) (bool, error) {
	var n int64
	err := db.Gorm(ctx).Model(&Account{}).Where("actor_id = ? AND admin AND NOT disabled", actorID).Count(&n).Error
	return n > 0, wrap(err, "is %d an admin", actorID)
}

// AdminActorIDs lists the actors of the enabled admins' accounts.
func (db *DB) AdminActorIDs(ctx context.Context) ([]int64, error) {
	var out []int64
	err := db.Gorm(ctx).Model(&Account{}).Where("admin AND NOT disabled").Order("actor_id").Pluck("actor_id", &out).Error
	return out, wrap(err, "list admins")
}
