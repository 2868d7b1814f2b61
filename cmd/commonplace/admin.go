package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/federation"
)

// The admin commands that /admin also offers: every one is written to the
// audit log ("federation audit") as "cli:USER".

func (a *app) accountDisableCommand(disable bool) *cobra.Command {
	use, short, done := "disable USERNAME", "Disable an account: no sign-in, sessions and tokens stop working", "disabled"
	if !disable {
		use, short, done = "enable USERNAME", "Enable a disabled account again", "enabled"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  argsNamed("USERNAME"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			if err := svc.SetAccountDisabled(cmd.Context(), nil, a.operator(), args[0], disable); err != nil {
				return describe(strings.Fields(use)[0], err)
			}
			fmt.Fprintf(a.Stdout, "%s %s\n", args[0], done)
			return nil
		}),
	}
}

func (a *app) accountAdminCommand() *cobra.Command {
	var revoke bool
	cmd := &cobra.Command{
		Use:     "admin USERNAME [--revoke]",
		Short:   "Make an account an admin of the instance, or with --revoke no longer one",
		Example: "  commonplace account admin alice\n  commonplace account admin bob --revoke",
		Args:    argsNamed("USERNAME"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			if err := svc.SetAccountAdmin(cmd.Context(), nil, a.operator(), args[0], !revoke); err != nil {
				return describe("set admin", err)
			}
			if revoke {
				fmt.Fprintf(a.Stdout, "%s is no longer an admin\n", args[0])
			} else {
				fmt.Fprintf(a.Stdout, "%s is an admin\n", args[0])
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&revoke, "revoke", false, "take the admin rights away")
	return cmd
}

// healthJSON is the stable shape of `federation health --json`.
type healthJSON struct {
	Host         string     `json:"host"`
	Queued       int64      `json:"queued"`
	Failures     int        `json:"consecutive_failures"`
	FailingSince *time.Time `json:"failing_since"`
	LastFailure  *time.Time `json:"last_failure_at"`
	LastSuccess  *time.Time `json:"last_success_at"`
	BackoffUntil *time.Time `json:"backoff_until"`
	LastError    string     `json:"last_error"`
}

func (a *app) federationHealthCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Show delivery health per remote host: queued, failing since, last error",
		Long: `List the remote hosts that are failing or have deliveries waiting (at most
200): failing hosts first, with how many deliveries wait, how many attempts
failed in a row and since when, when the host is backed off until, and the
last error. "federation retry HOST" sends a host's deliveries now.`,
		Args: cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			hosts, err := svc.DB.DeliveryHealth(cmd.Context(), 200)
			if err != nil {
				return describe("read delivery health", err)
			}
			out := make([]healthJSON, 0, len(hosts))
			for _, h := range hosts {
				out = append(out, healthJSON{h.Domain, h.Queued, h.Failures, h.FailingSince, h.LastFailure, h.LastSuccess, h.BackoffUntil, h.LastError})
			}
			if asJSON {
				return writeJSON(a.Stdout, out)
			}
			tw := tabwriter.NewWriter(a.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "HOST\tQUEUED\tFAILURES\tFAILING SINCE\tBACKED OFF UNTIL\tLAST ERROR")
			at := func(t *time.Time) string {
				if t == nil {
					return "-"
				}
				return t.UTC().Format(time.DateTime)
			}
			for _, h := range out {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", h.Host, h.Queued, h.Failures, at(h.FailingSince), at(h.BackoffUntil), dash(h.LastError))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	return cmd
}

func (a *app) federationRetryCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "retry HOST",
		Short: "Send the deliveries waiting for a host now, lifting its backoff",
		Long: `Make every delivery waiting for HOST due now and lift the host's backoff,
for when you know it is back. The running server sends them at once.`,
		Example: "  commonplace federation retry hospital-b.example",
		Args:    argsNamed("HOST"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			n, err := svc.RetryHost(cmd.Context(), a.operator(), args[0])
			if err != nil {
				return describe("retry", err)
			}
			fmt.Fprintf(a.Stdout, "%d deliveries to %s are due now\n", n, args[0])
			return nil
		}),
	}
}

func (a *app) instanceCommand() *cobra.Command {
	return groupCommand("instance", "Show or set what the instance says about itself",
		a.instanceShowCommand(), a.instanceSetCommand())
}

func (a *app) instanceShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Print the instance's name, description, contact and rules",
		Args:  cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			st, err := svc.InstanceSettings(cmd.Context())
			if err != nil {
				return describe("read instance settings", err)
			}
			cfg, err := a.config(cmd)
			if err != nil {
				return err
			}
			mode, err := svc.RegistrationMode(cmd.Context(), cfg.Registrations)
			if err != nil {
				return describe("read registration mode", err)
			}
			fmt.Fprintf(a.Stdout, "name: %s\ncontact: %s\nregistrations: %s\ndescription: %s\n", dash(st.Title), dash(st.ContactEmail), mode, dash(st.Description))
			for i, r := range st.Rules {
				fmt.Fprintf(a.Stdout, "rule %d: %s\n", i+1, r)
			}
			return nil
		}),
	}
}

func (a *app) instanceSetCommand() *cobra.Command {
	var (
		in            federation.InstanceSettings
		registrations string
	)
	cmd := &cobra.Command{
		Use:   "set [--name NAME] [--description TEXT] [--contact EMAIL] [--rule TEXT ...] [--registrations MODE]",
		Short: "Set the instance's name, description, contact and rules",
		Long: `Set what the instance says about itself in Mastodon's instance API
(/api/v1/instance, /api/v2/instance): its name, description, contact e-mail
and rules; and how people get accounts in the browser (--registrations
closed, invite, approval or open; "config" goes back to
COMMONPLACE_REGISTRATIONS), on every replica at once. Settings not given
keep their value; --rule replaces every rule (repeat it, one rule each;
--rule "" clears them).`,
		Example: `  commonplace instance set --name "NHS North practice" --contact admins@example.org \
      --rule "Be kind" --rule "No patient-identifiable information"`,
		Args: cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			st, err := svc.InstanceSettings(cmd.Context())
			if err != nil {
				return describe("read instance settings", err)
			}
			f := cmd.Flags()
			if f.Changed("name") {
				st.Title = in.Title
			}
			if f.Changed("description") {
				st.Description = in.Description
			}
			if f.Changed("contact") {
				st.ContactEmail = in.ContactEmail
			}
			if f.Changed("rule") {
				st.Rules = in.Rules
			}
			if f.Changed("registrations") {
				mode := registrations
				if mode == "config" {
					mode = ""
				}
				if err := svc.SetRegistrationMode(cmd.Context(), a.operator(), mode); err != nil {
					return describe("set registration mode", err)
				}
			}
			if f.Changed("name") || f.Changed("description") || f.Changed("contact") || f.Changed("rule") {
				if err := svc.SetInstanceSettings(cmd.Context(), a.operator(), st); err != nil {
					return describe("set instance settings", err)
				}
			}
			fmt.Fprintln(a.Stdout, "instance settings saved")
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&in.Title, "name", "", "the instance's name")
	f.StringVar(&in.Description, "description", "", "what the instance is for")
	f.StringVar(&in.ContactEmail, "contact", "", "the admins' e-mail address")
	f.StringArrayVar(&in.Rules, "rule", nil, "a rule; repeat for each")
	f.StringVar(&registrations, "registrations", "", "closed, invite, approval, open, or config")
	return cmd
}

func (a *app) communityTransferCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "transfer NAME USERNAME",
		Short: "Make a local member the owner of a community",
		Long: `Make USERNAME, a local member of the community, its owner; the previous
owners stay on as moderators. A new owner who was not a moderator is added
to the moderators collection, federated to the members' servers.`,
		Example: "  commonplace community transfer sepsis_care bea",
		Args:    argsNamed("NAME", "USERNAME"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			if err := svc.TransferCommunity(cmd.Context(), a.operator(), args[0], args[1]); err != nil {
				return describe("transfer community", err)
			}
			fmt.Fprintf(a.Stdout, "%s owns %s now\n", args[1], args[0])
			return nil
		}),
	}
}

func (a *app) communityDeleteCommand() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME --yes",
		Short: "Delete a community, telling every member's server",
		Long: `Delete a local community: every member's server is sent the community's
Delete of itself (Mastodon, Lemmy and others then drop it), its members,
bans and page go, and its name stays taken. Posts stay their authors'.
There is no undo: --yes is required.`,
		Example: "  commonplace community delete old_project --yes",
		Args:    argsNamed("NAME"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			if !yes {
				return fmt.Errorf("deleting %s cannot be undone: pass --yes", args[0])
			}
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			if err := svc.DeleteCommunity(cmd.Context(), a.operator(), args[0]); err != nil {
				return describe("delete community", err)
			}
			fmt.Fprintf(a.Stdout, "deleted %s; the running server tells the members' servers\n", args[0])
			return nil
		}),
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm the deletion")
	return cmd
}

func (a *app) communityEditCommand() *cobra.Command {
	var in federation.CommunitySettings
	cmd := &cobra.Command{
		Use:   "edit NAME [--title TITLE] [--summary TEXT] [--tag TAG ...] [--closed=true|false]",
		Short: "Change a community's title, statement, tags or joining by approval",
		Long: `Change what a local community says about itself and whether joining
needs approval. Settings not given keep their value; --tag replaces every
tag. The members' servers are sent the Group in an Update, and the modlog
records the change. Moderators do the same on the community's moderation
page.`,
		Example: `  commonplace community edit sepsis_care --title "Sepsis care" --tag sepsis,icu --closed=false`,
		Args:    argsNamed("NAME"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			ctx := cmd.Context()
			c, err := svc.DB.GetCommunityByName(ctx, args[0])
			if err != nil {
				return describe("edit community", err)
			}
			cur := federation.CommunitySettings{Title: c.Title, Summary: c.Summary, Tags: c.TagNames(), Closed: c.Closed}
			f := cmd.Flags()
			if f.Changed("title") {
				cur.Title = in.Title
			}
			if f.Changed("summary") {
				cur.Summary = in.Summary
			}
			if f.Changed("tag") {
				cur.Tags = in.Tags
			}
			if f.Changed("closed") {
				cur.Closed = in.Closed
			}
			// The community acts on itself, as the admin commands of
			// "moderate" do without --as.
			if _, err := svc.UpdateCommunity(ctx, c.Actor, c.Actor.URI, cur); err != nil {
				return describe("edit community", err)
			}
			fmt.Fprintf(a.Stdout, "saved %s\n", args[0])
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&in.Title, "title", "", "title")
	f.StringVar(&in.Summary, "summary", "", "statement of the community's domain")
	f.StringSliceVar(&in.Tags, "tag", nil, "tag; repeat or separate with commas (replaces every tag)")
	f.BoolVar(&in.Closed, "closed", false, "a moderator approves each request to join")
	return cmd
}
