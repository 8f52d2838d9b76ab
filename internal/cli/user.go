package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/auth"
	"github.com/magflow/magflow/internal/sqldb"
)

// userCmd is `magflow user`: API users in the database. Passwords are read
// from the terminal without echo, or from the first line of stdin when it is
// not a terminal; never from a flag, so they stay out of shell history and
// process lists.
func userCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage API users: create, passwd, disable, enable, role, list, token",
		Long: "Manage the users of the REST API and dashboard. Roles: viewer (reads) and operator (also starts syncs and\n" +
			"changes schedules). Passwords are prompted without echo, or read from the first line of stdin:\n" +
			"  printf '%s\\n' \"$PASSWORD\" | magflow user create ana --role operator",
	}
	var role string
	create := &cobra.Command{
		Use: "create USERNAME", Short: "Create a user (password from the prompt or stdin)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withDB(cmd.Context(), func(ctx context.Context, db *sqldb.DB) error {
				if err := validRole(role); err != nil {
					return err
				}
				hash, err := e.readNewPassword(args[0])
				if err != nil {
					return err
				}
				u, err := db.CreateUser(ctx, args[0], hash, role)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "user %s created (%s)\n", u.Username, u.Role)
				return nil
			})
		},
	}
	create.Flags().StringVar(&role, "role", sqldb.RoleViewer, "viewer (reads) or operator (also starts syncs and changes schedules)")

	passwd := &cobra.Command{
		Use: "passwd USERNAME", Short: "Set a user's password; every token issued before stops working", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withDB(cmd.Context(), func(ctx context.Context, db *sqldb.DB) error {
				if _, err := db.GetUser(ctx, args[0]); err != nil {
					return err
				}
				hash, err := e.readNewPassword(args[0])
				if err != nil {
					return err
				}
				if err := db.SetPassword(ctx, args[0], hash); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "password of %s changed; earlier tokens are revoked\n", args[0])
				return nil
			})
		},
	}
	setDisabled := func(use, short string, disabled bool) *cobra.Command {
		return &cobra.Command{
			Use: use + " USERNAME", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return e.withDB(cmd.Context(), func(ctx context.Context, db *sqldb.DB) error {
					if err := db.SetDisabled(ctx, args[0], disabled); err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "user %s %sd\n", args[0], use)
					return nil
				})
			},
		}
	}
	roleCmd := &cobra.Command{
		Use: "role USERNAME viewer|operator", Short: "Change a user's role (applies to its next request)", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withDB(cmd.Context(), func(ctx context.Context, db *sqldb.DB) error {
				if err := db.SetRole(ctx, args[0], args[1]); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "user %s is now %s\n", args[0], args[1])
				return nil
			})
		},
	}
	list := &cobra.Command{
		Use: "list", Short: "List users", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withDB(cmd.Context(), func(ctx context.Context, db *sqldb.DB) error {
				us, err := db.ListUsers(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "USERNAME\tROLE\tSTATUS\tCREATED")
				for _, u := range us {
					st := "active"
					if u.Disabled {
						st = "disabled"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Username, u.Role, st, u.CreatedAt.Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}
	var ttl time.Duration
	token := &cobra.Command{
		Use:   "token USERNAME",
		Short: "Print a long-lived access token for a service (e.g. a Prometheus scraper of /metrics)",
		Long: "Print an access token valid for --ttl, for services that cannot log in (Prometheus: authorization.credentials_file).\n" +
			"It stops working when the user is disabled or its password changes. Needs MAGFLOW_JWT_SECRET.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := e.loadConfig()
			if err != nil {
				return err
			}
			if cfg.JWTSecret == "" {
				return &magflow.Error{Code: magflow.EInvalid, Field: "MAGFLOW_JWT_SECRET", Message: "not set: the server signs tokens with it, so set it (openssl rand -hex 32) for both"}
			}
			is, err := auth.NewIssuer(auth.IssuerOptions{Secret: []byte(cfg.JWTSecret.Reveal())})
			if err != nil {
				return err
			}
			return e.withDB(cmd.Context(), func(ctx context.Context, db *sqldb.DB) error {
				u, err := db.GetUser(ctx, args[0])
				if err != nil {
					return err
				}
				if u.Disabled {
					return magflow.Errorf(magflow.EInvalid, "user %s is disabled", u.Username)
				}
				tok, exp, err := is.IssueAccess(auth.Subject{UserID: u.ID, Username: u.Username, Role: u.Role, PasswordHash: u.PasswordHash}, ttl)
				if err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, tok)
				fmt.Fprintf(e.stderr, "token of %s (%s) valid until %s\n", u.Username, u.Role, exp.Format(time.RFC3339))
				return nil
			})
		},
	}
	token.Flags().DurationVar(&ttl, "ttl", 30*24*time.Hour, "validity")
	cmd.AddCommand(create, passwd, setDisabled("disable", "Disable a user: its tokens stop working at once", true),
		setDisabled("enable", "Enable a disabled user", false), roleCmd, list, token)
	return cmd
}

func validRole(role string) error {
	if role != sqldb.RoleViewer && role != sqldb.RoleOperator {
		return &magflow.Error{Code: magflow.EInvalid, Field: "--role", Message: fmt.Sprintf("unknown role %q: use viewer or operator", role)}
	}
	return nil
}

// withDB opens the configured database (migrated), runs fn and closes it.
func (e *env) withDB(ctx context.Context, fn func(context.Context, *sqldb.DB) error) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	db, err := sqldb.Open(ctx, cfg.DatabaseURL, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx, "up"); err != nil {
		return fmt.Errorf("migrate the database: %w", err)
	}
	return fn(ctx, db)
}

// readNewPassword prompts twice without echo on a terminal, or reads the
// first line of stdin, and returns its bcrypt hash.
func (e *env) readNewPassword(username string) (string, error) {
	var pw string
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		read := func(prompt string) (string, error) {
			fmt.Fprint(e.stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(e.stderr)
			return string(b), err
		}
		p1, err := read(fmt.Sprintf("password for %s: ", username))
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		p2, err := read("again: ")
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if p1 != p2 {
			return "", magflow.Errorf(magflow.EInvalid, "the passwords differ")
		}
		pw = p1
	} else {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", &magflow.Error{Code: magflow.EInvalid, Field: "password",
				Message: "no password on stdin: pipe it (printf '%s\\n' \"$PASSWORD\" | magflow user ...) or run in a terminal to be prompted"}
		}
	}
	return auth.HashPassword(pw, 0)
}
