package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/server"
)

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this binary",
		Args:  cobra.NoArgs,
		// No configuration is loaded: version must work even when the
		// settings are broken.
		RunE: a.action(func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(a.Stdout, "commonplace", server.Version)
			return err
		}),
	}
}
