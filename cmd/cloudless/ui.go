package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/node/client"
)

func newUICmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "ui",
		Short: "Print a signed-in link to the running daemon's dashboard",
		Long: `Prints http://HOST:PORT/ui/#token=... for the daemon holding the repo. The token
rides in the URL fragment, which browsers never send to the server; the page
moves it to session storage and strips it from the address bar. Treat the link
like the api.token file: whoever has it controls the node.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client.DialAPI(g.repoPath())
			if err != nil {
				return err
			}
			if _, err := c.ID(cmd.Context()); err != nil {
				return err
			}
			u := c.Addr() + "/ui/#token=" + c.Token()
			if g.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]string{"url": u})
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), u)
			return err
		},
	}
}
