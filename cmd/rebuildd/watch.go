package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// runWatch is the daemon. Being built (issue 5).
func runWatch(cmd *cobra.Command, g *globalFlags, m *modeFlags, services []string) error {
	return &exitError{code: exitUsage, err: errors.New("watch mode is not built yet")}
}
