package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/policy"
	"github.com/commonplace/commonplace/storage"
)

// The federation policy commands. Changes take effect at once on every
// running replica (they read the policy from the database, caching a
// decision for at most a second).

func (a *app) federationCommand() *cobra.Command {
	return groupCommand("federation", "Decide which instances this one federates with",
		a.federationModeCommand(),
		a.federationAllowCommand(),
		a.federationBlockCommand(),
		a.federationRemoveCommand(),
		a.federationListCommand(),
		a.federationImportCommand(),
		a.federationExportCommand(),
		a.federationAuditCommand(),
		a.federationPublishCommand(),
		a.federationHealthCommand(),
		a.federationRetryCommand(),
	)
}

// operator names who runs a CLI command in the audit log.
func (a *app) operator() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if a.LookupEnv != nil {
		if v, ok := a.LookupEnv("USER"); ok && v != "" && name == "" {
			name = v
		}
	}
	if name == "" {
		name = "unknown"
	}
	return "cli:" + name
}

// withPolicy opens the service and runs fn with its policy.
func (a *app) withPolicy(cmd *cobra.Command, fn func(ctx context.Context, svc *federation.Service, p *policy.Policy) error) error {
	svc, closeDB, err := a.open(cmd)
	if err != nil {
		return err
	}
	defer closeDB()
	return fn(cmd.Context(), svc, svc.Policy)
}

func (a *app) printEffects(e policy.Effects) {
	if e.DroppedDeliveries > 0 || e.RemovedMemberships > 0 {
		fmt.Fprintf(a.Stdout, "in force now: %d pending deliveries dropped, %d memberships removed (see federation audit)\n",
			e.DroppedDeliveries, e.RemovedMemberships)
	}
}

func (a *app) federationModeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "mode [allowlist|blocklist]",
		Short: "Show or set the federation mode",
		Long: `Show the federation mode, or set it.

blocklist (the default) federates with every instance except blocked ones.
allowlist federates only with allowed instances (federation allow), and
answers ActivityPub fetches only when they are signed by an allowed
instance (secure mode). Switching drops pending deliveries to instances
that are now refused and removes memberships with them, with audit records.`,
		Example: "  commonplace federation mode allowlist",
		Args:    cobra.MaximumNArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withPolicy(cmd, func(ctx context.Context, _ *federation.Service, p *policy.Policy) error {
				if len(args) == 0 {
					m, err := p.Mode(ctx)
					if err != nil {
						return describe("read mode", err)
					}
					fmt.Fprintln(a.Stdout, m)
					return nil
				}
				eff, err := p.SetMode(ctx, a.operator(), args[0])
				if err != nil {
					return describe("set mode", err)
				}
				fmt.Fprintf(a.Stdout, "federation mode is %s\n", args[0])
				a.printEffects(eff)
				return nil
			})
		}),
	}
}

func (a *app) federationAllowCommand() *cobra.Command {
	var comment string
	cmd := &cobra.Command{
		Use:   "allow DOMAIN",
		Short: "Allow an instance (used in allowlist mode)",
		Long: `Allow DOMAIN and its subdomains. In allowlist mode only allowed instances
are federated with; in blocklist mode allows are kept but not needed.

DOMAIN is a host name (example.org covers a.example.org too) or host:port,
which covers exactly that origin.`,
		Example: `  commonplace federation allow hospital-b.example --comment "Regional network"`,
		Args:    argsNamed("DOMAIN"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withPolicy(cmd, func(ctx context.Context, _ *federation.Service, p *policy.Policy) error {
				res, err := p.Allow(ctx, a.operator(), args[0], comment)
				if err != nil {
					return describe("allow", err)
				}
				fmt.Fprintf(a.Stdout, "%s %s\n", verb(res, "allowed"), res.Rule.Domain)
				a.printEffects(res.Effects)
				return nil
			})
		}),
	}
	cmd.Flags().StringVar(&comment, "comment", "", "public comment shown with the allow")
	return cmd
}

func verb(res policy.Result, done string) string {
	switch {
	case res.Created:
		return done
	case res.Changed:
		return "updated"
	}
	return "unchanged:"
}

func (a *app) federationBlockCommand() *cobra.Command {
	var in policy.BlockInput
	cmd := &cobra.Command{
		Use:   "block DOMAIN",
		Short: "Block an instance (suspend or limit)",
		Long: `Block DOMAIN and its subdomains.

--severity suspend (the default) refuses everything from and to the instance:
its inbox requests get 403, nothing is fetched from it or delivered to it,
pending deliveries to it are dropped and memberships with it removed.
--severity limit keeps federating but hides its members and posts from
public timelines and directories; follows from it need approval.
--reason is private to admins; --public-comment may be published.`,
		Example: `  commonplace federation block spam.example --reason "spam wave" --public-comment "Spam"
  commonplace federation block loud.example --severity limit`,
		Args: argsNamed("DOMAIN"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			in.Domain = args[0]
			return a.withPolicy(cmd, func(ctx context.Context, _ *federation.Service, p *policy.Policy) error {
				res, err := p.Block(ctx, a.operator(), in)
				if err != nil {
					return describe("block", err)
				}
				fmt.Fprintf(a.Stdout, "%s %s (%s)\n", verb(res, "blocked"), res.Rule.Domain, res.Rule.Severity)
				a.printEffects(res.Effects)
				return nil
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&in.Severity, "severity", storage.SeveritySuspend, "suspend or limit")
	f.StringVar(&in.Reason, "reason", "", "private reason, for admins")
	f.StringVar(&in.PublicComment, "public-comment", "", "comment that may be published")
	return cmd
}

func (a *app) federationRemoveCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "remove DOMAIN",
		Short:   "Remove the allow and block rules of a domain",
		Example: "  commonplace federation remove spam.example",
		Args:    argsNamed("DOMAIN"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withPolicy(cmd, func(ctx context.Context, _ *federation.Service, p *policy.Policy) error {
				eff, err := p.Remove(ctx, a.operator(), "", args[0])
				if err != nil {
					return describe("remove", err)
				}
				fmt.Fprintf(a.Stdout, "removed the rules for %s\n", args[0])
				a.printEffects(eff)
				return nil
			})
		}),
	}
}

// ruleJSON is the stable shape of `federation list --json`.
type ruleJSON struct {
	ID            int64     `json:"id"`
	Kind          string    `json:"kind"`
	Domain        string    `json:"domain"`
	Severity      string    `json:"severity,omitempty"`
	Reason        string    `json:"reason"`
	PublicComment string    `json:"public_comment"`
	CreatedBy     string    `json:"created_by"`
	CreatedAt     time.Time `json:"created_at"`
}

func (a *app) federationListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the mode and the allow and block rules",
		Args:  cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			return a.withPolicy(cmd, func(ctx context.Context, _ *federation.Service, p *policy.Policy) error {
				rules, err := p.Rules(ctx, "")
				if err != nil {
					return describe("list rules", err)
				}
				out := make([]ruleJSON, 0, len(rules))
				for _, r := range rules {
					out = append(out, ruleJSON{r.ID, r.Kind, r.Domain, r.Severity, r.Reason, r.PublicComment, r.CreatedBy, r.CreatedAt.UTC()})
				}
				if asJSON {
					return writeJSON(a.Stdout, out)
				}
				mode, err := p.Mode(ctx)
				if err != nil {
					return describe("read mode", err)
				}
				fmt.Fprintf(a.Stdout, "mode: %s\n", mode)
				tw := tabwriter.NewWriter(a.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "KIND\tDOMAIN\tSEVERITY\tREASON\tPUBLIC COMMENT\tBY\tCREATED")
				for _, r := range out {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Kind, r.Domain, dash(r.Severity), dash(r.Reason),
						dash(r.PublicComment), r.CreatedBy, r.CreatedAt.Format(time.DateTime))
				}
				return tw.Flush()
			})
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of rules instead of a table")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (a *app) federationImportCommand() *cobra.Command {
	var allows bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import blocks from Mastodon's CSV, or allows from a list",
		Long: `Import domain blocks from a CSV file in Mastodon's export format
(` + policy.MastodonCSVHeader + `;
severity suspend, silence or limit, noop lines are skipped), or with --allows
allowed domains from a plain list, one domain a line (text after the domain
is its comment; blank lines and lines starting with # are skipped).
FILE "-" reads standard input.

The whole file is checked first: if any line is invalid, every invalid line
is reported with its number and nothing is imported. Otherwise it is applied
in one transaction, and a summary says how many rules were added, changed or
skipped (already identical).`,
		Example: `  commonplace federation import blocks.csv
  commonplace federation import --allows partners.txt`,
		Args: argsNamed("FILE"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			var r io.Reader = a.Stdin
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			var (
				entries []policy.Entry
				err     error
			)
			if allows {
				entries, err = policy.ParseDomainList(r)
			} else {
				entries, err = policy.ParseBlocksCSV(r)
			}
			if err != nil {
				return fmt.Errorf("import %s: %w", args[0], err)
			}
			return a.withPolicy(cmd, func(ctx context.Context, _ *federation.Service, p *policy.Policy) error {
				progress := func(done, total int) {
					if total >= 500 {
						fmt.Fprintf(a.Stderr, "\rimporting: %d/%d", done, total)
						if done == total {
							fmt.Fprintln(a.Stderr)
						}
					}
				}
				res, err := p.Import(ctx, a.operator(), entries, progress)
				if err != nil {
					return fmt.Errorf("import %s: %w", args[0], err)
				}
				fmt.Fprintf(a.Stdout, "imported %s: %d added, %d changed, %d skipped\n", args[0], res.Added, res.Changed, res.Skipped)
				a.printEffects(res.Effects)
				return nil
			})
		}),
	}
	cmd.Flags().BoolVar(&allows, "allows", false, "FILE is a list of allowed domains")
	return cmd
}

func (a *app) federationExportCommand() *cobra.Command {
	var allows bool
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export blocks as Mastodon's CSV, or allows as a list",
		Long: `Print the domain blocks in Mastodon's CSV format (which Mastodon and
"federation import" read), or with --allows the allowed domains, one a line.
Private reasons are not exported.`,
		Example: "  commonplace federation export > blocks.csv",
		Args:    cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			return a.withPolicy(cmd, func(ctx context.Context, _ *federation.Service, p *policy.Policy) error {
				kind := storage.RuleBlock
				if allows {
					kind = storage.RuleAllow
				}
				rules, err := p.Rules(ctx, kind)
				if err != nil {
					return describe("export", err)
				}
				if allows {
					return policy.WriteDomainList(a.Stdout, rules)
				}
				return policy.WriteBlocksCSV(a.Stdout, rules)
			})
		}),
	}
	cmd.Flags().BoolVar(&allows, "allows", false, "export the allowed domains instead")
	return cmd
}

// auditJSON is the stable shape of `federation audit --json`.
type auditJSON struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Domain string    `json:"domain"`
	Detail string    `json:"detail"`
}

func (a *app) federationAuditCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the log of federation policy changes",
		Long: `Show every change of the federation policy, oldest first: who made it
("cli:USER" or the admin API account), what and when, and what a change
removed (memberships, pending deliveries).`,
		Args: cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			return a.withPolicy(cmd, func(ctx context.Context, _ *federation.Service, p *policy.Policy) error {
				out := []auditJSON{}
				for after := int64(0); ; {
					recs, err := p.Audit(ctx, after, 1000)
					if err != nil {
						return describe("read audit log", err)
					}
					for _, r := range recs {
						out = append(out, auditJSON{r.ID, r.CreatedAt.UTC(), r.Actor, r.Action, r.Domain, r.Detail})
						after = r.ID
					}
					if len(recs) < 1000 {
						break
					}
				}
				if asJSON {
					return writeJSON(a.Stdout, out)
				}
				tw := tabwriter.NewWriter(a.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "AT\tWHO\tACTION\tDOMAIN\tDETAIL")
				for _, r := range out {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.At.Format(time.DateTime), r.Actor, r.Action, dash(r.Domain), r.Detail)
				}
				return tw.Flush()
			})
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	return cmd
}

func (a *app) federationPublishCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "publish on|off",
		Short: "Publish the block list at /api/v1/instance/domain_blocks, or not",
		Long: `Choose whether the public Mastodon API endpoint /api/v1/instance/domain_blocks
lists this instance's blocks (domain, severity and public comment; never the
private reason). Off by default.`,
		Args: argsNamed("on|off"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			if args[0] != "on" && args[0] != "off" {
				return fmt.Errorf("publish takes on or off, not %q", args[0])
			}
			return a.withPolicy(cmd, func(ctx context.Context, _ *federation.Service, p *policy.Policy) error {
				if err := p.SetPublish(ctx, a.operator(), args[0] == "on"); err != nil {
					return describe("publish", err)
				}
				fmt.Fprintf(a.Stdout, "publishing the block list: %s\n", args[0])
				return nil
			})
		}),
	}
}

// communityPartnersCommand manages a partner community's instances.
func (a *app) communityPartnersCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "partners NAME list|add|remove [DOMAIN]",
		Short: "Restrict a community to partner instances",
		Long: `List, add or remove the partner instances of a local community.

A community with partners federates only with them (and this instance), on
top of the instance's federation policy: only members from partner instances
can join, post or like, and its posts are delivered only there. Adding the
first partner removes existing members from other instances, with audit
records. Removing the last partner lifts the restriction.`,
		Example: `  commonplace community partners sepsis_care add hospital-b.example
  commonplace community partners sepsis_care list`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) < 2:
				return errors.New("usage: partners NAME list|add|remove [DOMAIN]")
			case args[1] == "list" && len(args) == 2:
			case (args[1] == "add" || args[1] == "remove") && len(args) == 3:
			default:
				return fmt.Errorf("usage: partners NAME list|add|remove [DOMAIN], not %q", args[1:])
			}
			return nil
		},
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withPolicy(cmd, func(ctx context.Context, svc *federation.Service, p *policy.Policy) error {
				c, err := svc.DB.GetCommunityByName(ctx, args[0])
				if err != nil {
					return describe("community "+args[0], err)
				}
				switch args[1] {
				case "add":
					added, eff, err := p.AddPartner(ctx, a.operator(), c.Actor, args[2])
					if err != nil {
						return describe("add partner", err)
					}
					if added {
						fmt.Fprintf(a.Stdout, "%s is a partner of %s\n", args[2], args[0])
					} else {
						fmt.Fprintf(a.Stdout, "%s was already a partner of %s\n", args[2], args[0])
					}
					a.printEffects(eff)
				case "remove":
					eff, err := p.RemovePartner(ctx, a.operator(), c.Actor, args[2])
					if err != nil {
						return describe("remove partner", err)
					}
					fmt.Fprintf(a.Stdout, "%s is no longer a partner of %s\n", args[2], args[0])
					a.printEffects(eff)
				default:
					ps, err := p.Partners(ctx, c.ActorID)
					if err != nil {
						return describe("list partners", err)
					}
					if len(ps) == 0 {
						fmt.Fprintf(a.Stdout, "%s has no partners: it federates as the instance does\n", args[0])
					}
					for _, pt := range ps {
						fmt.Fprintln(a.Stdout, pt.Domain)
					}
				}
				return nil
			})
		}),
	}
}
