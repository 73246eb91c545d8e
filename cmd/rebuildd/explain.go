package main

import "github.com/spf13/cobra"

func newExplainCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{Use: "explain [SERVICE...]"}
}
