package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// runOnce is --once / --check. Being built (issue 4).
func runOnce(cmd *cobra.Command, g *globalFlags, m *modeFlags, services []string) error {
	return &exitError{code: exitUsage, err: errors.New("--once is not built yet")}
}
