package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

func (a *app) communityCommand() *cobra.Command {
	return groupCommand("community", "Manage local communities",
		a.communityCreateCommand(),
		a.communityListCommand(),
		a.communityRequestsCommand(),
		a.communityDecideCommand(true),
		a.communityDecideCommand(false),
		a.communityPartnersCommand(),
		a.communityTransferCommand(),
		a.communityDeleteCommand(),
		a.communityEditCommand(),
		a.communityImageCommand(),
		a.communityExportCommand(),
		a.communityImportCommand(),
		a.communityDigestCommand(),
	)
}

func (a *app) communityCreateCommand() *cobra.Command {
	var in federation.NewCommunity
	cmd := &cobra.Command{
		Use:   "create NAME --title TITLE",
		Short: "Create a local community",
		Long: `Create a local community with its ActivityPub Group actor.

NAME is 1-30 lower-case letters, digits or underscores and becomes the
community's handle, NAME@domain, which people on any fediverse server can
follow. The summary states the community's domain of practice. A closed
community approves each member by hand; a members-only one also shows its
posts to its members only, on every server. The owner, a local member, becomes
the community's first member and moderator.`,
		Example: `  commonplace community create practice --title "Practice"
  commonplace community create sepsis_care --title "Sepsis care" \
      --summary "Recognising and treating sepsis early" --tag sepsis,icu --tag nursing --owner alice`,
		Args: argsNamed("NAME"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			in.Name = args[0]
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			c, err := svc.AdminCreateCommunity(cmd.Context(), a.operator(), in)
			if err != nil {
				return describe("create community", err)
			}
			fmt.Fprintf(a.Stdout, "created community %s (%s)\n", c.Actor.Handle(), c.Actor.URI)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&in.Title, "title", "", "title shown to people deciding to join (required)")
	f.StringVar(&in.Summary, "summary", "", "statement of the community's domain")
	f.StringSliceVar(&in.Tags, "tag", nil, "tag; repeat the flag or separate tags with commas")
	f.BoolVar(&in.Closed, "closed", false, "approve each new member by hand")
	f.BoolVar(&in.MembersOnly, "members-only", false, "closed, and its posts are for its members only")
	f.StringVar(&in.Owner, "owner", "", "`USERNAME` of the local member who owns the community")
	_ = cmd.MarkFlagRequired("title")
	return cmd
}

// communityJSON is the stable shape of `community list --json`.
type communityJSON struct {
	Name       string    `json:"name"`
	Handle     string    `json:"handle"`
	URI        string    `json:"uri"`
	Title      string    `json:"title"`
	Summary    string    `json:"summary"`
	Closed     bool      `json:"closed"`
	Visibility string    `json:"visibility"`
	Tags       []string  `json:"tags"`
	Members    int64     `json:"members"`
	CreatedAt  time.Time `json:"created_at"`
}

func (a *app) communityListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List local communities",
		Long:  "List local communities with their accepted member counts.",
		Args:  cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			ctx := cmd.Context()
			cs, err := svc.DB.ListCommunities(ctx, listLimit)
			if err != nil {
				return describe("list communities", err)
			}
			out := make([]communityJSON, 0, len(cs))
			for _, c := range cs {
				n, err := svc.DB.CountMembers(ctx, c.ActorID, storage.StateAccepted)
				if err != nil {
					return describe("list communities", err)
				}
				out = append(out, communityJSON{
					Name: c.Actor.Username, Handle: c.Actor.Handle(), URI: c.Actor.URI,
					Title: c.Title, Summary: c.Summary, Closed: c.Closed, Visibility: c.Visibility,
					Tags: c.TagNames(), Members: n, CreatedAt: c.CreatedAt.UTC(),
				})
			}
			if asJSON {
				return writeJSON(a.Stdout, out)
			}
			tw := tabwriter.NewWriter(a.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tHANDLE\tTITLE\tCLOSED\tTAGS\tMEMBERS")
			for _, c := range out {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", c.Name, c.Handle, c.Title, yesNo(c.Closed), strings.Join(c.Tags, ","), c.Members)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	return cmd
}

func (a *app) communityRequestsCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "requests NAME",
		Short: "List pending requests to join a closed community",
		Long: `List the members waiting for approval to join a closed community, oldest
first, with the handle to pass to approve or reject.`,
		Args: argsNamed("NAME"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			ctx := cmd.Context()
			c, err := svc.DB.GetCommunityByName(ctx, args[0])
			if err != nil {
				return describe("list requests", err)
			}
			pending, err := svc.DB.PendingMembers(ctx, c.ActorID, listLimit)
			if err != nil {
				return describe("list requests", err)
			}
			type request struct {
				Handle    string    `json:"handle"`
				URI       string    `json:"uri"`
				Requested time.Time `json:"requested_at"`
			}
			out := make([]request, 0, len(pending))
			for _, m := range pending {
				out = append(out, request{Handle: m.MemberActor.Handle(), URI: m.MemberActor.URI, Requested: m.CreatedAt.UTC()})
			}
			if asJSON {
				return writeJSON(a.Stdout, out)
			}
			tw := tabwriter.NewWriter(a.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "HANDLE\tACTOR\tREQUESTED")
			for _, r := range out {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Handle, r.URI, r.Requested.Format(time.RFC3339))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	return cmd
}

func (a *app) communityDecideCommand(approve bool) *cobra.Command {
	verb, past, short, long := "reject", "rejected", "Reject a request to join a closed community",
		"Reject a pending request to join a closed community. The requester's server is sent a Reject."
	if approve {
		verb, past, short, long = "approve", "approved", "Approve a request to join a closed community",
			"Approve a pending request to join a closed community. The requester's server is sent an Accept\nand the member starts receiving the community's posts."
	}
	return &cobra.Command{
		Use:   verb + " NAME MEMBER",
		Short: short,
		Long: long + `

MEMBER is the requester's handle (user@domain) or actor id, as listed by
"community requests". The answer is queued and delivered by the running
server's delivery workers.`,
		Example: "  commonplace community " + verb + " council bea@hospital-b.example",
		Args:    argsNamed("NAME", "MEMBER"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			if _, err := svc.Decide(cmd.Context(), args[0], args[1], approve); err != nil {
				return describe(verb+" request", err)
			}
			fmt.Fprintf(a.Stdout, "%s %s's request to join %s\n", past, args[1], args[0])
			return nil
		}),
	}
}
