package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

func (a *app) moderateCommand() *cobra.Command {
	return groupCommand("moderate", "Moderate communities: moderators, removals, locks, bans, held posts, the modlog",
		a.moderateAppointCommand(),
		a.moderateRemoveCommand(),
		a.moderateLockCommand(),
		a.moderateBanCommand(),
		a.moderateUnbanCommand(),
		a.moderateRestrictCommand(),
		a.moderateRulesCommand(),
		a.moderateHeldCommand(),
		a.moderateDecideHeldCommand(true),
		a.moderateDecideHeldCommand(false),
		a.moderateLogCommand(),
	)
}

// moderator is who a moderation command acts as: a local member named by
// --as, or else the community itself, as its admin.
func moderator(ctx context.Context, svc *federation.Service, as, community string) (*storage.Actor, error) {
	if as != "" {
		return svc.DB.GetLocalActorByType(ctx, as, storage.TypePerson)
	}
	if community == "" {
		return nil, fmt.Errorf("%w: name the moderator with --as", federation.ErrInvalid)
	}
	c, err := svc.DB.GetCommunityByName(ctx, community)
	if err != nil {
		return nil, err
	}
	return c.Actor, nil
}

const asFlagDoc = "act as this local moderator's `USERNAME` (default: the community itself, as admin)"

func (a *app) moderateAppointCommand() *cobra.Command {
	var as string
	var remove bool
	cmd := &cobra.Command{
		Use:   "appoint COMMUNITY MEMBER",
		Short: "Make a member a moderator of a local community (or, with --remove, a member again)",
		Long: `Make a member of a local community (local or remote, by handle or actor id)
one of its moderators. Members' servers are told with an Add to the
community's moderators collection, as Lemmy sends it; --remove sends a
Remove. Only an owner (--as) or the admin (the default) appoints.`,
		Example: `  commonplace moderate appoint practice bea@other.example
  commonplace moderate appoint practice bea@other.example --remove`,
		Args: argsNamed("COMMUNITY", "MEMBER"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			by, err := moderator(cmd.Context(), svc, as, args[0])
			if err != nil {
				return describe("appoint", err)
			}
			if err := svc.SetModerator(cmd.Context(), by, args[0], args[1], !remove); err != nil {
				return describe("appoint", err)
			}
			if remove {
				fmt.Fprintf(a.Stdout, "%s no longer moderates %s\n", args[1], args[0])
			} else {
				fmt.Fprintf(a.Stdout, "%s moderates %s\n", args[1], args[0])
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&as, "as", "", "act as this owner's `USERNAME` (default: the admin)")
	cmd.Flags().BoolVar(&remove, "remove", false, "make the moderator a member again")
	return cmd
}

func reasonFlags(cmd *cobra.Command, r *federation.Reason) {
	cmd.Flags().StringVar(&r.Text, "reason", "", "why, shown in the modlog and sent with the action")
	cmd.Flags().BoolVar(&r.Private, "private", false, "keep the reason for the community's moderators: not federated, hidden in the public modlog")
}

func (a *app) moderateRemoveCommand() *cobra.Command {
	var as string
	var r federation.Reason
	cmd := &cobra.Command{
		Use:   "remove POST",
		Short: "Remove a post or reply from its community",
		Long: `Remove a post or reply (by its id) from its community, with a reason. The
community announces the removal to every member's server; the author's own
server keeps the post as the author's, outside the community.`,
		Example: `  commonplace moderate remove https://here.example/objects/0190... --reason "off topic"
  commonplace moderate remove https://there.example/post/7 --as bea --reason spam`,
		Args: argsNamed("POST"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			ctx := cmd.Context()
			mod, err := postModerator(ctx, svc, as, args[0])
			if err != nil {
				return describe("remove", err)
			}
			if err := svc.RemovePost(ctx, mod, args[0], r); err != nil {
				return describe("remove", err)
			}
			fmt.Fprintf(a.Stdout, "removed %s\n", args[0])
			return nil
		}),
	}
	cmd.Flags().StringVar(&as, "as", "", asFlagDoc)
	reasonFlags(cmd, &r)
	return cmd
}

// postModerator is the moderator acting on a post: --as, or the post's
// local community.
func postModerator(ctx context.Context, svc *federation.Service, as, postURI string) (*storage.Actor, error) {
	if as != "" {
		return moderator(ctx, svc, as, "")
	}
	o, err := svc.DB.GetObjectByURI(ctx, postURI)
	if err != nil {
		return nil, err
	}
	if o.CommunityActor == nil || !o.CommunityActor.Local {
		return nil, fmt.Errorf("%w: the post is not in a local community; name a moderator with --as", federation.ErrInvalid)
	}
	return o.CommunityActor, nil
}

func (a *app) moderateLockCommand() *cobra.Command {
	var as string
	var unlock bool
	var r federation.Reason
	cmd := &cobra.Command{
		Use:   "lock POST",
		Short: "Lock a thread: no new replies (--unlock to reopen)",
		Args:  argsNamed("POST"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			ctx := cmd.Context()
			mod, err := postModerator(ctx, svc, as, args[0])
			if err != nil {
				return describe("lock", err)
			}
			if err := svc.LockPost(ctx, mod, args[0], !unlock, r); err != nil {
				return describe("lock", err)
			}
			if unlock {
				fmt.Fprintf(a.Stdout, "unlocked %s\n", args[0])
			} else {
				fmt.Fprintf(a.Stdout, "locked %s\n", args[0])
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&as, "as", "", asFlagDoc)
	cmd.Flags().BoolVar(&unlock, "unlock", false, "reopen the thread")
	reasonFlags(cmd, &r)
	return cmd
}

func (a *app) moderateBanCommand() *cobra.Command {
	var as, until string
	var b federation.Ban
	cmd := &cobra.Command{
		Use:   "ban COMMUNITY MEMBER",
		Short: "Ban a member from a community",
		Long: `Ban someone (handle or actor id) from a community: their membership ends
and the community accepts and redistributes nothing more of theirs. The ban
is federated as Lemmy's Block with the community as target.`,
		Example: `  commonplace moderate ban practice spammer@elsewhere.example --reason spam --remove-posts
  commonplace moderate ban practice rude@elsewhere.example --until 168h --reason "cool down"`,
		Args: argsNamed("COMMUNITY", "MEMBER"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			if until != "" {
				t, err := parseUntil(until, time.Now())
				if err != nil {
					return err
				}
				b.Until = t
			}
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			mod, err := moderator(cmd.Context(), svc, as, args[0])
			if err != nil {
				return describe("ban", err)
			}
			if err := svc.BanMember(cmd.Context(), mod, args[0], args[1], b); err != nil {
				return describe("ban", err)
			}
			fmt.Fprintf(a.Stdout, "banned %s from %s\n", args[1], args[0])
			return nil
		}),
	}
	cmd.Flags().StringVar(&as, "as", "", asFlagDoc)
	cmd.Flags().StringVar(&until, "until", "", "end of the ban: a duration (72h) or an RFC 3339 time (default: for good)")
	cmd.Flags().BoolVar(&b.RemovePosts, "remove-posts", false, "also remove their posts and replies in the community")
	reasonFlags(cmd, &b.Reason)
	return cmd
}

// parseUntil reads a duration from now or an RFC 3339 time.
func parseUntil(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--until %q: a duration such as 72h or an RFC 3339 time", s)
	}
	return t, nil
}

func (a *app) moderateUnbanCommand() *cobra.Command {
	var as string
	var r federation.Reason
	cmd := &cobra.Command{
		Use:   "unban COMMUNITY MEMBER",
		Short: "Lift a ban",
		Args:  argsNamed("COMMUNITY", "MEMBER"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			mod, err := moderator(cmd.Context(), svc, as, args[0])
			if err != nil {
				return describe("unban", err)
			}
			if err := svc.UnbanMember(cmd.Context(), mod, args[0], args[1], r); err != nil {
				return describe("unban", err)
			}
			fmt.Fprintf(a.Stdout, "unbanned %s from %s\n", args[1], args[0])
			return nil
		}),
	}
	cmd.Flags().StringVar(&as, "as", "", asFlagDoc)
	reasonFlags(cmd, &r)
	return cmd
}

func (a *app) moderateRestrictCommand() *cobra.Command {
	var as string
	var off bool
	cmd := &cobra.Command{
		Use:   "restrict COMMUNITY",
		Short: "Let only moderators start threads (an announcement community); --off to reopen",
		Args:  argsNamed("COMMUNITY"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			mod, err := moderator(cmd.Context(), svc, as, args[0])
			if err != nil {
				return describe("restrict", err)
			}
			if err := svc.RestrictPosting(cmd.Context(), mod, args[0], !off); err != nil {
				return describe("restrict", err)
			}
			if off {
				fmt.Fprintf(a.Stdout, "every member of %s may start threads\n", args[0])
			} else {
				fmt.Fprintf(a.Stdout, "only moderators start threads in %s\n", args[0])
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&as, "as", "", asFlagDoc)
	cmd.Flags().BoolVar(&off, "off", false, "let every member start threads again")
	return cmd
}

// modActionJSON is the stable shape of `moderate log --json`.
type modActionJSON struct {
	ID            int64      `json:"id"`
	Action        string     `json:"action"`
	Moderator     string     `json:"moderator,omitempty"`
	Target        string     `json:"target,omitempty"`
	Object        string     `json:"object,omitempty"`
	Reason        string     `json:"reason,omitempty"`
	ReasonPrivate bool       `json:"reason_private"`
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}

func (a *app) moderateLogCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "log COMMUNITY",
		Short: "Show a local community's modlog, private reasons included",
		Args:  argsNamed("COMMUNITY"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			ctx := cmd.Context()
			c, err := svc.DB.GetCommunityByName(ctx, args[0])
			if err != nil {
				return describe("modlog", err)
			}
			log, err := svc.DB.ModLog(ctx, c.ActorID, 0, listLimit)
			if err != nil {
				return describe("modlog", err)
			}
			out := make([]modActionJSON, 0, len(log))
			for _, m := range log {
				j := modActionJSON{ID: m.ID, Action: m.Action, Object: m.ObjectURI, Reason: m.Reason,
					ReasonPrivate: m.ReasonPrivate, ExpiresAt: m.ExpiresAt, CreatedAt: m.CreatedAt.UTC()}
				if m.ModeratorActor != nil {
					j.Moderator = m.ModeratorActor.Handle()
				}
				if m.TargetActor != nil {
					j.Target = m.TargetActor.Handle()
				}
				out = append(out, j)
			}
			if asJSON {
				return writeJSON(a.Stdout, out)
			}
			tw := tabwriter.NewWriter(a.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "WHEN\tACTION\tMODERATOR\tTARGET\tREASON")
			for _, m := range out {
				target := m.Target
				if m.Object != "" {
					target = m.Object
				}
				reason := m.Reason
				if m.ReasonPrivate {
					reason += " (private)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.CreatedAt.Format(time.RFC3339), m.Action, m.Moderator, target, reason)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	return cmd
}
