package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
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
