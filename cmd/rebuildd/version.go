package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is baked in at build time:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/rebuildd
//
// (the repository's Dockerfile passes its VERSION build arg this way).
var version = "dev"

// versionString is version, or, for a `go install ...@v1.2.3` build that
// set no -X flag, the module version Go recorded in the binary.
func versionString() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print rebuildd's version and the Go version it was built with",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "rebuildd %s (%s, %s/%s)\n",
				versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}

// noArgs is cobra.NoArgs as bad usage (exit 2), not a failure (exit 1).
func noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	return nil
}
