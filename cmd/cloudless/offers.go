package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/node/client"
)

func newOffersCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "offers",
		Short: "Show the offer book: providers' prices and free capacity (through the running daemon)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client.DialAPI(g.repoPath())
			if err != nil {
				return err
			}
			os, err := c.Offers(cmd.Context())
			if err != nil {
				return err
			}
			return printOffers(cmd.OutOrStdout(), g.json, os, time.Now())
		},
	}
}

func printOffers(w io.Writer, asJSON bool, offers []client.Offer, now time.Time) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(offers)
	}
	if len(offers) == 0 {
		_, err := fmt.Fprintln(w, "the offer book is empty (no provider announced capacity yet; providers run `cloudless node --provide`)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tPER JOB (ETH)\tPER SECOND (ETH)\tTIER\tFREE MEMORY\tSLOTS\tMAX TIME\tEXPIRES IN")
	for _, o := range offers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", o.Provider, formatEther(o.PricePerJob), formatEther(o.PricePerSecond),
			formatBytes(o.MemoryTier), formatBytes(o.FreeMemory), o.FreeSlots,
			time.Duration(o.MaxDurationMS)*time.Millisecond, o.Expires.Sub(now).Round(time.Second))
	}
	return tw.Flush()
}

// formatEther prints a decimal wei string as ether, exactly.
func formatEther(wei string) string {
	v, ok := new(big.Int).SetString(wei, 10)
	if !ok {
		return wei
	}
	r := new(big.Rat).SetFrac(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil))
	s := strings.TrimRight(strings.TrimRight(r.FloatString(18), "0"), ".")
	return s
}

func formatBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f, i := float64(n), 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.4g %s", f, units[i])
}
