package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/federation"
)

// listLimit bounds list commands; an instance with more rows wants the
// admin API rather than a terminal table.
const listLimit = 10000

func (a *app) accountCommand() *cobra.Command {
	return groupCommand("account", "Manage local member accounts",
		a.accountCreateCommand(),
		a.accountListCommand(),
		a.accountTokenCommand(),
		a.accountPasswordCommand(),
		a.accountResetLinkCommand(),
		a.accountApproveCommand(true),
		a.accountApproveCommand(false),
		a.accountDisableCommand(true),
		a.accountDisableCommand(false),
		a.accountAdminCommand(),
	)
}

func (a *app) accountCreateCommand() *cobra.Command {
	var (
		in            federation.NewAccount
		passwordStdin bool
	)
	cmd := &cobra.Command{
		Use:   "create USERNAME --email EMAIL",
		Short: "Create a local member account",
		Long: `Create a local member account with its ActivityPub Person actor.

USERNAME is 1-30 lower-case letters, digits or underscores; members and
communities share one namespace. With --password-stdin the password is read
from standard input (one trailing newline is removed); without it the account
is created without a password and cannot log in until one is set.`,
		Example: `  commonplace account create alice --email alice@example.org --admin
  printf '%s\n' "$PASSWORD" | commonplace account create bob --email bob@example.org --password-stdin`,
		Args: argsNamed("USERNAME"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			in.Username = args[0]
			if passwordStdin {
				pw, err := readPassword(a.Stdin)
				if err != nil {
					return err
				}
				in.Password = pw
			}
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			acct, err := svc.CreateAccount(cmd.Context(), in)
			if err != nil {
				return describe("create account", err)
			}
			fmt.Fprintf(a.Stdout, "created account %s (%s)\n", acct.Actor.Handle(), acct.Actor.URI)
			if in.Password == "" {
				fmt.Fprintln(a.Stdout, "no password set: the account cannot log in until one is set")
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&in.Email, "email", "", "email address of the member (required)")
	f.StringVar(&in.DisplayName, "display-name", "", "name shown to others")
	f.BoolVar(&in.Admin, "admin", false, "make the member an instance administrator")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

// readPassword reads all of r, removing one trailing newline so that
// `echo secret |` and a file ending in a newline both work, while spaces
// that are part of the password survive.
func readPassword(r io.Reader) (string, error) {
	if r == nil {
		return "", fmt.Errorf("--password-stdin: no standard input")
	}
	b, err := io.ReadAll(io.LimitReader(r, federation.MaxPasswordLen+3))
	if err != nil {
		return "", fmt.Errorf("--password-stdin: %w", err)
	}
	s := string(b)
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		s = strings.TrimSuffix(t, "\r")
	}
	if s == "" {
		return "", fmt.Errorf("--password-stdin: standard input is empty")
	}
	return s, nil
}

// accountJSON is the stable shape of `account list --json`.
type accountJSON struct {
	Username    string    `json:"username"`
	Handle      string    `json:"handle"`
	URI         string    `json:"uri"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	Admin       bool      `json:"admin"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
}

func (a *app) accountListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List local member accounts",
		Args:  cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			accts, err := svc.DB.ListAccounts(cmd.Context(), listLimit)
			if err != nil {
				return describe("list accounts", err)
			}
			out := make([]accountJSON, 0, len(accts))
			for _, ac := range accts {
				out = append(out, accountJSON{
					Username: ac.Actor.Username, Handle: ac.Actor.Handle(), URI: ac.Actor.URI,
					Email: ac.Email, DisplayName: ac.Actor.DisplayName,
					Admin: ac.Admin, Disabled: ac.Disabled, CreatedAt: ac.CreatedAt.UTC(),
				})
			}
			if asJSON {
				return writeJSON(a.Stdout, out)
			}
			tw := tabwriter.NewWriter(a.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "USERNAME\tHANDLE\tEMAIL\tADMIN\tCREATED")
			for _, ac := range out {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ac.Username, ac.Handle, ac.Email, yesNo(ac.Admin), ac.CreatedAt.Format(time.DateTime))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
