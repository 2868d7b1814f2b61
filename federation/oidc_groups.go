package federation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/commonplace/commonplace/storage"
)

// Groups from the provider: the admin maps a group of the groups claim to
// instance admin, to moderator of a local community or to membership of
// one. Each sign-in through the provider grants what the person's groups
// map to and takes back what an earlier sign-in granted for a group they
// are no longer in. Only what a group gave is taken back: an admin made by
// hand, or a member who joined by themselves, keeps that when a group
// goes.

// ParseGroupRule reads a rule as the config and the CLI write it:
// GROUP=admin, GROUP=moderator:COMMUNITY or GROUP=member:COMMUNITY. The
// group is everything before the last "=", so Keycloak paths
// (/staff/early-years) and Entra object IDs both fit.
func ParseGroupRule(s string) (storage.OIDCGroupRule, error) {
	i := strings.LastIndexByte(s, '=')
	if i <= 0 {
		return storage.OIDCGroupRule{}, fmt.Errorf("%w: %q is not GROUP=admin, GROUP=moderator:COMMUNITY or GROUP=member:COMMUNITY", ErrInvalid, s)
	}
	role, community, _ := strings.Cut(s[i+1:], ":")
	return NewGroupRule(s[:i], role, community)
}

// NewGroupRule checks a rule's parts.
func NewGroupRule(group, role, community string) (storage.OIDCGroupRule, error) {
	r := storage.OIDCGroupRule{Group: strings.TrimSpace(group), Role: strings.TrimSpace(role), Community: strings.ToLower(strings.TrimSpace(community))}
	switch {
	case r.Group == "" || len(r.Group) > 500:
		return r, fmt.Errorf("%w: a group rule needs a group name of at most 500 characters", ErrInvalid)
	case r.Role == storage.RoleAdmin && r.Community != "":
		return r, fmt.Errorf("%w: admin is a role of the whole server, not of community %q", ErrInvalid, r.Community)
	case r.Role == storage.RoleAdmin:
	case r.Role == storage.RoleModerator || r.Role == storage.RoleMember:
		if err := ValidateName(r.Community); err != nil {
			return r, fmt.Errorf("%w: %s needs a community: GROUP=%s:COMMUNITY", ErrInvalid, r.Role, r.Role)
		}
	default:
		return r, fmt.Errorf("%w: role %q must be admin, moderator or member", ErrInvalid, r.Role)
	}
	return r, nil
}

// GroupRules are the rules in force: those stored with the CLI and those
// of the config.
func (s *Service) GroupRules(ctx context.Context, configured []storage.OIDCGroupRule) ([]storage.OIDCGroupRule, error) {
	stored, err := s.DB.ListOIDCGroupRules(ctx)
	if err != nil {
		return nil, err
	}
	return append(stored, configured...), nil
}

var grantOrder = map[string]int{storage.RoleAdmin: 0, storage.RoleMember: 1, storage.RoleModerator: 2}

type grantKey struct {
	role        string
	communityID int64
}

// ApplyGroups grants acct what groups map to under rules and takes back
// what earlier sign-ins granted for groups it is no longer in. A rule
// naming a community that does not exist here is skipped (and logged).
func (s *Service) ApplyGroups(ctx context.Context, acct *storage.Account, groups []string, rules []storage.OIDCGroupRule) error {
	in := make(map[string]bool, len(groups))
	for _, g := range groups {
		in[g] = true
	}
	want := map[grantKey]*storage.Actor{}
	for _, r := range rules {
		if !in[r.Group] {
			continue
		}
		if r.Role == storage.RoleAdmin {
			want[grantKey{storage.RoleAdmin, 0}] = nil
			continue
		}
		c, err := s.DB.GetCommunityByName(ctx, r.Community)
		if errors.Is(err, storage.ErrNotFound) {
			s.Log.Warn("group rule names no community here", "group", r.Group, "community", r.Community)
			continue
		} else if err != nil {
			return err
		}
		want[grantKey{r.Role, c.ActorID}] = c.Actor
		// A moderator is a member: the membership is the group's too, and
		// goes with it.
		want[grantKey{storage.RoleMember, c.ActorID}] = c.Actor
	}
	have, err := s.DB.ListOIDCGrants(ctx, acct.ID)
	if err != nil {
		return err
	}
	held := map[grantKey]bool{}
	// Take back first: a moderator grant that goes while a member grant
	// stays leaves a member.
	for _, g := range have {
		k := grantKey{g.Role, g.CommunityActorID}
		if _, ok := want[k]; ok {
			held[k] = true
			continue
		}
		if err := s.revokeGrant(ctx, acct, k); err != nil {
			return err
		}
		if err := s.DB.DeleteOIDCGrant(ctx, g.ID); err != nil {
			return err
		}
	}
	// Memberships before moderator roles, so that each grant records
	// what it changed.
	keys := make([]grantKey, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b grantKey) int {
		return cmp.Or(cmp.Compare(grantOrder[a.role], grantOrder[b.role]), cmp.Compare(a.communityID, b.communityID))
	})
	for _, k := range keys {
		community := want[k]
		if held[k] {
			continue
		}
		changed, err := s.grant(ctx, acct, k, community)
		if err != nil {
			return err
		}
		if !changed {
			continue // it was so already: not the group's to take back
		}
		if err := s.DB.CreateOIDCGrant(ctx, &storage.OIDCGrant{
			AccountID: acct.ID, Role: k.role, CommunityActorID: k.communityID, CreatedAt: time.Now(),
		}); err != nil {
			return err
		}
	}
	return nil
}

// grant gives acct the role and reports whether that changed anything.
func (s *Service) grant(ctx context.Context, acct *storage.Account, k grantKey, community *storage.Actor) (bool, error) {
	if k.role == storage.RoleAdmin {
		if acct.Admin {
			return false, nil
		}
		if err := s.DB.UpdateAccount(ctx, acct.ID, map[string]any{"admin": true}); err != nil {
			return false, err
		}
		acct.Admin = true
		s.Log.Info("group made an admin", "account", acct.Actor.Username)
		return true, nil
	}
	joined, err := s.ensureMember(ctx, acct.Actor, community)
	if err != nil {
		return false, err
	}
	if k.role == storage.RoleMember {
		return joined, nil
	}
	m, err := s.DB.GetMembership(ctx, community.ID, acct.Actor.ID)
	if err != nil {
		return false, err
	}
	if m.Role == storage.RoleOwner || m.Role == storage.RoleModerator {
		return joined, nil
	}
	if err := s.DB.SetMembershipRole(ctx, community.ID, acct.Actor.ID, storage.RoleModerator); err != nil {
		return false, err
	}
	s.Log.Info("group made a moderator", "account", acct.Actor.Username, "community", community.Username)
	return true, nil
}

// ensureMember makes member an accepted member of a local community (the
// admin's rule is the approval of a closed one) and reports whether they
// were not one before.
func (s *Service) ensureMember(ctx context.Context, member, community *storage.Actor) (bool, error) {
	m, err := s.DB.GetMembership(ctx, community.ID, member.ID)
	if err == nil && m.State == storage.StateAccepted {
		return false, nil
	}
	if errors.Is(err, storage.ErrNotFound) {
		if m, err = s.follow(ctx, member, community); err != nil {
			return false, err
		}
	} else if err != nil {
		return false, err
	}
	if m.State != storage.StateAccepted {
		if _, err := s.Decide(ctx, community.Username, member.URI, true); err != nil {
			return false, err
		}
	}
	s.Log.Info("group made a member", "account", member.Username, "community", community.Username)
	return true, nil
}

// revokeGrant takes back what a group gave.
func (s *Service) revokeGrant(ctx context.Context, acct *storage.Account, k grantKey) error {
	if k.role == storage.RoleAdmin {
		if err := s.DB.UpdateAccount(ctx, acct.ID, map[string]any{"admin": false}); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		acct.Admin = false
		s.Log.Info("group gone: no longer an admin", "account", acct.Actor.Username)
		return nil
	}
	m, err := s.DB.GetMembership(ctx, k.communityID, acct.Actor.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil // left by themselves
	} else if err != nil {
		return err
	}
	switch {
	case k.role == storage.RoleModerator && m.Role == storage.RoleModerator:
		err = s.DB.SetMembershipRole(ctx, k.communityID, acct.Actor.ID, storage.RoleMember)
	case k.role == storage.RoleMember && m.Role != storage.RoleOwner:
		err = s.DB.DeleteMembership(ctx, k.communityID, acct.Actor.ID)
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	s.Log.Info("group gone: role taken back", "account", acct.Actor.Username, "role", k.role, "community", k.communityID)
	return nil
}
