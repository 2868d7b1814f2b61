package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/storage"
)

// Pre-moderation from the shell: a community's posting rules, its queue
// of held posts, and the decision on each (federation/premoderation.go).

func (a *app) moderateRulesCommand() *cobra.Command {
	var as string
	var r storage.PostingRules
	cmd := &cobra.Command{
		Use:   "rules COMMUNITY",
		Short: "Show or set a community's pre-moderation and hourly posting limits",
		Long: `Without flags, show a local community's posting rules; with any, set them
all (flags not given are off or 0). --hold-new-members holds the posts of a
member with no post in the community yet until a moderator approves one;
--hold-new-servers holds posts from a server none of whose members has one.
The hourly limits refuse posts beyond them (0: no limit). Moderators are
never held or limited.`,
		Example: `  commonplace moderate rules practice
  commonplace moderate rules practice --hold-new-servers --member-posts-per-hour 10`,
		Args: argsNamed("COMMUNITY"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			ctx := cmd.Context()
			if cmd.Flags().NFlag() > 0 && !(cmd.Flags().NFlag() == 1 && cmd.Flags().Changed("as")) {
				mod, err := moderator(ctx, svc, as, args[0])
				if err != nil {
					return describe("posting rules", err)
				}
				if err := svc.SetPostingRules(ctx, mod, args[0], r); err != nil {
					return describe("posting rules", err)
				}
			}
			c, err := svc.DB.GetCommunityByName(ctx, args[0])
			if err != nil {
				return describe("posting rules", err)
			}
			p := c.PostingRules
			fmt.Fprintf(a.Stdout, "hold new members: %s\nhold new servers: %s\nposts an hour per member: %s\nposts an hour per server: %s\n",
				yesNo(p.HoldNewMembers), yesNo(p.HoldNewInstances), limitText(p.MemberPostsPerHour), limitText(p.InstancePostsPerHour))
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&as, "as", "", asFlagDoc)
	f.BoolVar(&r.HoldNewMembers, "hold-new-members", false, "hold posts of members who have not posted in the community yet")
	f.BoolVar(&r.HoldNewInstances, "hold-new-servers", false, "hold posts from servers none of whose members has posted in the community yet")
	f.IntVar(&r.MemberPostsPerHour, "member-posts-per-hour", 0, "posts an hour one member may make (0: no limit)")
	f.IntVar(&r.InstancePostsPerHour, "server-posts-per-hour", 0, "posts an hour one other server's members may make together (0: no limit)")
	return cmd
}

func limitText(n int) string {
	if n == 0 {
		return "no limit"
	}
	return strconv.Itoa(n)
}

// heldJSON is the stable shape of `moderate held --json`.
type heldJSON struct {
	ID        int64     `json:"id"`
	Post      string    `json:"post"`
	InReplyTo string    `json:"in_reply_to,omitempty"`
	Author    string    `json:"author"`
	Reason    string    `json:"reason"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

func (a *app) moderateHeldCommand() *cobra.Command {
	var as string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "held COMMUNITY",
		Short: "List the posts waiting for a moderator of a community, oldest first",
		Args:  argsNamed("COMMUNITY"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			ctx := cmd.Context()
			mod, err := moderator(ctx, svc, as, args[0])
			if err != nil {
				return describe("held posts", err)
			}
			out := []heldJSON{}
			var after int64
			for len(out) < listLimit {
				page, err := svc.HeldPosts(ctx, mod, args[0], after, 100)
				if err != nil {
					return describe("held posts", err)
				}
				for _, h := range page {
					j := heldJSON{ID: h.ID, Post: h.ObjectURI, InReplyTo: h.InReplyToURI, Reason: h.Reason,
						Text: sanitize.PlainText(h.Content, 200), CreatedAt: h.CreatedAt.UTC()}
					if h.AuthorActor != nil {
						j.Author = h.AuthorActor.Handle()
					}
					out = append(out, j)
					after = h.ID
				}
				if len(page) < 100 {
					break
				}
			}
			if asJSON {
				return writeJSON(a.Stdout, out)
			}
			tw := tabwriter.NewWriter(a.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tWHEN\tAUTHOR\tREASON\tTEXT")
			for _, h := range out {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", h.ID, h.CreatedAt.Format(time.RFC3339), h.Author, h.Reason, h.Text)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().StringVar(&as, "as", "", asFlagDoc)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	return cmd
}

func (a *app) moderateDecideHeldCommand(approve bool) *cobra.Command {
	var as string
	var r federation.Reason
	verb, short := "reject", "Reject a held post: it never enters the community"
	if approve {
		verb, short = "approve", "Approve a held post: it enters the community and goes to every member's server"
	}
	cmd := &cobra.Command{
		Use:   verb + " ID",
		Short: short,
		Long:  short + ". ID is from `moderate held`; the modlog records the decision.",
		Args:  argsNamed("ID"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return describe(verb, fmt.Errorf("%w: ID is a number from `moderate held`", federation.ErrInvalid))
			}
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			ctx := cmd.Context()
			mod, err := heldModerator(ctx, svc, as, id)
			if err != nil {
				return describe(verb, err)
			}
			if err := svc.DecideHeldPost(ctx, mod, id, approve, r); err != nil {
				return describe(verb, err)
			}
			fmt.Fprintf(a.Stdout, "%sd held post %d\n", verb, id)
			return nil
		}),
	}
	cmd.Flags().StringVar(&as, "as", "", asFlagDoc)
	reasonFlags(cmd, &r)
	return cmd
}

// heldModerator is who decides a held post: --as, or its community.
func heldModerator(ctx context.Context, svc *federation.Service, as string, id int64) (*storage.Actor, error) {
	if as != "" {
		return moderator(ctx, svc, as, "")
	}
	h, err := svc.DB.GetHeldPost(ctx, id)
	if err != nil {
		return nil, err
	}
	return svc.DB.GetActorByID(ctx, h.CommunityActorID)
}
