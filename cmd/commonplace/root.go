package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// Exit codes. Usage and configuration errors are the operator's to fix
// before anything runs, so scripts can tell them from runtime failures.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// app is the state one invocation's commands share.
type app struct {
	env
	configFile string
	// init lets a command other than serve create a new empty database.
	init bool
	// parsed is set when a command starts to run, after cobra has checked
	// flags and arguments; an error before that is a usage error.
	parsed bool
	// listener, when set by a test, is used by serve instead of binding
	// Config.Listen, so tests never race for a free port.
	listener net.Listener
}

// configError marks an invalid setting: exit code 2.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// overrides maps each setting flag to the environment variable it stands
// for. Flags are the last layer: defaults, file, environment, flags.
var overrides = []struct{ flag, env, usage string }{
	{"domain", "COMMONPLACE_DOMAIN", "public host[:port] of this instance"},
	{"protocol", "COMMONPLACE_PROTOCOL", "public scheme: https or http"},
	{"listen", "COMMONPLACE_LISTEN", "address the HTTP server binds to, host:port"},
	{"database", "COMMONPLACE_DATABASE", "postgres:// URL or SQLite file path"},
	{"data-dir", "COMMONPLACE_DATA_DIR", "directory for the default SQLite database"},
	{"log-level", "COMMONPLACE_LOG_LEVEL", "debug, info, warn or error"},
	{"log-format", "COMMONPLACE_LOG_FORMAT", "text or json"},
	{"allow-private-addresses", "COMMONPLACE_ALLOW_PRIVATE_ADDRESSES", "allow federation with loopback and private addresses (tests, labs only)"},
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, e env) int {
	a := &app{env: e}
	return a.execute(ctx, args)
}

func (a *app) execute(ctx context.Context, args []string) int {
	root := a.rootCommand()
	if args == nil {
		args = []string{} // nil would make cobra read os.Args.
	}
	root.SetArgs(args)
	root.SetIn(a.Stdin)
	root.SetOut(a.Stdout)
	root.SetErr(a.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(a.Stderr, "commonplace: %v\n", err)
	var cerr configError
	switch {
	case errors.As(err, &cerr):
		return exitUsage
	case !a.parsed:
		fmt.Fprintf(a.Stderr, "Run 'commonplace %s--help' for usage.\n", commandPath(root, args))
		return exitUsage
	}
	return exitFailure
}

// commandPath finds the sub-command named by args, for the usage hint.
func commandPath(root *cobra.Command, args []string) string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == root {
		return ""
	}
	return strings.TrimPrefix(cmd.CommandPath(), root.Name()+" ") + " "
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "commonplace",
		Short: "A federated ActivityPub server for communities of practice",
		Long: `Commonplace is a federated ActivityPub server for communities of practice
that cross organisational boundaries. Each institution runs its own instance;
its communities are ActivityPub groups that members join from any instance.

Settings come from defaults, then the --config YAML file, then COMMONPLACE_*
environment variables, then the flags below, in that order.`,
		// No Args: cobra's default for a root with sub-commands reports an
		// unknown command with suggestions.
		SilenceErrors: true, // execute prints errors once, with exit codes.
		SilenceUsage:  true, // a usage dump would hide a runtime error.
	}
	root.CompletionOptions.DisableDefaultCmd = true

	f := root.PersistentFlags()
	f.StringVar(&a.configFile, "config", "", "YAML configuration `file`")
	f.BoolVar(&a.init, "init", false, "create a new empty database if there is none (serve always does)")
	for _, o := range overrides {
		usage := o.usage + " (" + o.env + ")"
		if o.flag == "allow-private-addresses" {
			f.Bool(o.flag, false, usage)
			continue
		}
		f.String(o.flag, "", usage)
	}

	root.AddCommand(
		a.serveCommand(),
		a.migrateCommand(),
		a.backupCommand(),
		a.restoreCommand(),
		a.accountCommand(),
		a.communityCommand(),
		a.federationCommand(),
		a.oidcCommand(),
		a.moderateCommand(),
		a.instanceCommand(),
		a.mediaCommand(),
		a.versionCommand(),
	)
	return root
}

// groupCommand is a command that only holds sub-commands; an unknown
// sub-command is an error rather than a silent help page.
func groupCommand(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		return cmd.Help()
	}}
	c.AddCommand(subs...)
	return c
}

// argsNamed requires exactly the named positional arguments and names the
// missing one, which cobra's ExactArgs does not.
func argsNamed(names ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return fmt.Errorf("missing %s", names[len(args)])
		case len(args) > len(names):
			return fmt.Errorf("unexpected argument %q", args[len(names)])
		}
		return nil
	}
}

// describe turns a service error into a message for the operator. Invalid
// input and conflicts already carry a readable text; anything else is
// given the operation that failed.
func describe(op string, err error) error {
	switch {
	case errors.Is(err, federation.ErrInvalid), errors.Is(err, storage.ErrConflict):
		return err
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// action wraps a command's body: once it runs, arguments and flags have
// passed cobra's checks, so later errors are runtime errors.
func (a *app) action(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a.parsed = true
		return fn(cmd, args)
	}
}
