package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

func (a *app) oidcCommand() *cobra.Command {
	return groupCommand("oidc", "Map the identity provider's groups to roles",
		a.oidcMapCommand(true),
		a.oidcMapCommand(false),
		a.oidcRulesCommand(),
	)
}

const groupRoles = `ROLE is admin (of this server), moderator or member; moderator and member
name a local COMMUNITY. At each sign-in through the OpenID provider a person
gets what their groups map to; at the next sign-in after a group is gone,
what it gave is taken back (an admin made by hand, or a member who joined by
themselves, keeps that).`

func (a *app) oidcMapCommand(add bool) *cobra.Command {
	use, short := "map GROUP ROLE [COMMUNITY]", "Map a group of the provider to a role"
	if !add {
		use, short = "unmap GROUP ROLE [COMMUNITY]", "Remove a mapping made with map"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Long:  short + ".\n\n" + groupRoles,
		Example: `  commonplace oidc map /staff/heads admin
  commonplace oidc map early-years member early_years
  commonplace oidc map early-years-leads moderator early_years`,
		Args: cobra.RangeArgs(2, 3),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			community := ""
			if len(args) == 3 {
				community = args[2]
			}
			rule, err := federation.NewGroupRule(args[0], args[1], community)
			if err != nil {
				return describe("group rule", err)
			}
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			ctx := cmd.Context()
			if !add {
				if err := svc.DB.DeleteOIDCGroupRule(ctx, rule.Group, rule.Role, rule.Community); err != nil {
					return describe("unmap", err)
				}
				fmt.Fprintf(a.Stdout, "removed %s\n", ruleText(rule))
				return nil
			}
			if rule.Community != "" {
				if _, err := svc.DB.GetCommunityByName(ctx, rule.Community); errors.Is(err, storage.ErrNotFound) {
					return fmt.Errorf("no local community %q", rule.Community)
				} else if err != nil {
					return describe("map", err)
				}
			}
			rule.CreatedAt = time.Now()
			if err := svc.DB.PutOIDCGroupRule(ctx, &rule); err != nil {
				return describe("map", err)
			}
			fmt.Fprintf(a.Stdout, "mapped %s\n", ruleText(rule))
			return nil
		}),
	}
}

func ruleText(r storage.OIDCGroupRule) string {
	if r.Community == "" {
		return fmt.Sprintf("group %q to %s", r.Group, r.Role)
	}
	return fmt.Sprintf("group %q to %s of %s", r.Group, r.Role, r.Community)
}

func (a *app) oidcRulesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rules",
		Short: "List the group mappings in force",
		Long:  "List the group mappings in force: those made with map, and those of COMMONPLACE_OIDC_GROUPS.",
		Args:  cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config(cmd)
			if err != nil {
				return err
			}
			svc, closeDB, err := a.open(cmd)
			if err != nil {
				return err
			}
			defer closeDB()
			stored, err := svc.DB.ListOIDCGroupRules(cmd.Context())
			if err != nil {
				return describe("list group rules", err)
			}
			tw := tabwriter.NewWriter(a.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "GROUP\tROLE\tCOMMUNITY\tFROM")
			for _, r := range stored {
				fmt.Fprintf(tw, "%s\t%s\t%s\tcli\n", r.Group, r.Role, r.Community)
			}
			for _, s := range cfg.OIDCGroups {
				r, err := federation.ParseGroupRule(s)
				if err != nil {
					return describe("COMMONPLACE_OIDC_GROUPS", err)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\tconfig\n", r.Group, r.Role, r.Community)
			}
			return tw.Flush()
		}),
	}
}
