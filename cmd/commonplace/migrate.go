package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) migrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations",
		Long: `Apply every pending database migration and print what was applied.

serve and the admin commands migrate on start as well; run this on its own to
upgrade the schema before starting new replicas. Replicas that migrate at the
same moment take a lock, so each migration is applied once.

Like the admin commands, migrate refuses a database that does not exist yet
or is empty; pass --init to create one (serve creates it on first start).`,
		Example: "  commonplace migrate\n  commonplace migrate --init --database postgres://commonplace@db/commonplace",
		Args:    cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config(cmd)
			if err != nil {
				return err
			}
			db, err := openStorage(cmd.Context(), cfg, a.init)
			if err != nil {
				return err
			}
			defer db.Close()
			applied, err := db.Migrate(cmd.Context(), nil)
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintln(a.Stdout, "database is up to date")
				return nil
			}
			for _, m := range applied {
				fmt.Fprintf(a.Stdout, "applied migration %d (%s) in %s\n", m.Version, m.Source, m.Duration.Round(time.Millisecond))
			}
			return nil
		}),
	}
}
