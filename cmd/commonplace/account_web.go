package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) accountPasswordCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "password USERNAME",
		Short: "Set a member's password from standard input",
		Long: `Set a member's password, read from standard input (one trailing newline is
removed). Every browser signed in to the account is signed out. Use it for an
account created without a password, or when the member cannot receive e-mail.`,
		Example: `  printf '%s\n' "$PASSWORD" | commonplace account password alice`,
		Args:    argsNamed("USERNAME"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(a.Stdin)
			if err != nil {
				return err
			}
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			acct, err := svc.DB.GetAccountByUsername(cmd.Context(), args[0])
			if err != nil {
				return describe("find account", err)
			}
			if err := svc.SetPassword(cmd.Context(), acct, pw, 0); err != nil {
				return describe("set password", err)
			}
			fmt.Fprintf(a.Stdout, "password set for %s; its browsers are signed out\n", acct.Actor.Handle())
			return nil
		}),
	}
}

func (a *app) accountResetLinkCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "reset-link USERNAME",
		Short: "Print a one-time link with which a member chooses a new password",
		Long: `Print a one-time link, good for two hours, that lets a member choose a new
password in the browser. For servers without SMTP settings, or members whose
e-mail does not arrive: send the link to the member by a channel you trust.`,
		Example: `  commonplace account reset-link alice`,
		Args:    argsNamed("USERNAME"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			link, err := svc.AdminResetLink(cmd.Context(), a.operator(), args[0])
			if err != nil {
				return describe("make reset link", err)
			}
			fmt.Fprintln(a.Stdout, link)
			return nil
		}),
	}
}

func (a *app) accountApproveCommand(approve bool) *cobra.Command {
	use, short, done := "approve USERNAME", "Approve a sign-up waiting for approval", "approved"
	if !approve {
		use, short, done = "reject USERNAME", "Refuse a sign-up waiting for approval and remove it", "refused and removed"
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
			if _, err := svc.DecideRegistration(cmd.Context(), a.operator(), args[0], approve); err != nil {
				return describe("decide sign-up", err)
			}
			fmt.Fprintf(a.Stdout, "%s %s\n", args[0], done)
			return nil
		}),
	}
}
