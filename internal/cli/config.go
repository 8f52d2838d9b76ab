package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func configCmd(e *env) *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration, every secret masked",
		Long: "Print the configuration MagFlow would run with, after the environment, the .env file and flags are\n" +
			"layered, with every secret masked. --check also validates it and exits 1 listing every problem.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.loadConfig()
			if err != nil {
				return err
			}
			if err := c.Print(e.stdout); err != nil {
				return err
			}
			if check {
				if err := c.Validate(); err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, "configuration OK")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "validate the configuration too")
	return cmd
}
