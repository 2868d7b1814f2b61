package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/federation/oauth"
	"github.com/commonplace/commonplace/server/mastoapi"
)

func (a *app) accountTokenCommand() *cobra.Command {
	var scopes string
	cmd := &cobra.Command{
		Use:   "token USERNAME",
		Short: "Mint a client API access token for a member",
		Long: `Mint an access token for the Mastodon-compatible client API, for scripts and
tools that cannot run the OAuth flow. The token is printed once on standard
output; only its SHA-256 hash is stored. Scopes are Mastodon's (read, write,
follow, push, admin:read, admin:write and their sub-scopes such as
read:statuses), separated by spaces.`,
		Example: `  commonplace account token alice --scopes "read write"
  curl -H "Authorization: Bearer $(commonplace account token alice --scopes read)" http://localhost:8080/api/v1/timelines/home`,
		Args: argsNamed("USERNAME"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			if _, err := oauth.ParseScopes(scopes); err != nil {
				return configError{fmt.Errorf("--scopes: %w", err)}
			}
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			token, err := mastoapi.IssueToken(cmd.Context(), svc.DB, args[0], scopes)
			if err != nil {
				return describe("mint token", err)
			}
			fmt.Fprintln(a.Stdout, token)
			return nil
		}),
	}
	cmd.Flags().StringVar(&scopes, "scopes", "read", "space-separated OAuth scopes of the token")
	return cmd
}
