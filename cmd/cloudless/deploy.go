package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/node/client"
	"github.com/cloudless-network/cloudless/trigger"
)

func newDeployCmd(g *globalFlags) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "deploy [-f cloudless.yaml]",
		Short: "Deploy the functions of a manifest, with their triggers, to the running daemon",
		Long: `Reads the manifest (cloudless.yaml by default; see docs/serverless.md),
publishes every module given as a path through the daemon, and registers
the functions with their triggers (http, cron, watch, topic). Functions of
the same names are replaced.

A bad manifest is refused with one line naming the file, the line and the
fix, and nothing is registered; deploying is all or nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fns, err := trigger.ParseManifest(file)
			if err != nil {
				return err
			}
			c, err := client.DialAPI(g.repoPath())
			if err != nil {
				return fmt.Errorf("deploy needs a running daemon: %w", err)
			}
			if err := publishModules(cmd.Context(), c, fns); err != nil {
				return err
			}
			l, err := c.Deploy(cmd.Context(), fns)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			if g.json {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(l)
			}
			return printDeployed(cmd.OutOrStdout(), l)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", trigger.DefaultManifest, "the manifest")
	return cmd
}

// publishModules publishes the modules the manifest gives as paths (each
// once) and puts their CIDs in the functions.
func publishModules(ctx context.Context, c *client.Client, fns []trigger.Function) error {
	done := map[string]string{}
	for i := range fns {
		fn := &fns[i]
		if _, err := cid.Decode(fn.Module); err == nil {
			continue
		}
		path := fn.Module
		if id, ok := done[path]; ok {
			fn.Module = id
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("%s:%d: module %s: %w", fn.File, fn.Line, fn.Source, err)
		}
		res, err := c.PublishFile(ctx, f, filepath.Base(path), client.PublishOptions{})
		f.Close()
		if err != nil {
			return fmt.Errorf("publish module %s of function %s: %w", path, fn.Name, err)
		}
		done[path], fn.Module = res.CID, res.CID
	}
	return nil
}

func printDeployed(w io.Writer, l client.FunctionList) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FUNCTION\tMODULE\tTRIGGERS")
	for _, fn := range l.Functions {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", fn.Name, fn.Module, triggerSummary(fn, l.Gateway))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if l.Gateway == "" {
		for _, fn := range l.Functions {
			for _, tr := range fn.Triggers {
				if tr.Kind == trigger.KindHTTP {
					_, err := fmt.Fprintln(w, "note: the daemon has no HTTP gateway; start it with `cloudless node --gateway 127.0.0.1:8080` to serve http triggers")
					return err
				}
			}
		}
	}
	return nil
}

// triggerSummary is a function's triggers on one line, http routes as
// URLs when there is a gateway.
func triggerSummary(fn client.Function, gateway string) string {
	var parts []string
	for _, tr := range fn.Triggers {
		switch tr.Kind {
		case trigger.KindHTTP:
			s := gateway + tr.Route
			if len(tr.Methods) > 0 {
				s = strings.Join(tr.Methods, ",") + " " + s
			}
			parts = append(parts, s)
		case trigger.KindCron:
			parts = append(parts, "cron "+tr.Schedule)
		case trigger.KindWatch:
			parts = append(parts, "watch "+tr.Dir)
		case trigger.KindTopic:
			parts = append(parts, "topic "+tr.Topic)
		}
	}
	return strings.Join(parts, "; ")
}
