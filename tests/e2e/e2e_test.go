package e2e

import (
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/node/client"
)

// Three providers at different prices. Every price is at least the
// provider's default voucher redemption threshold (0.01 ether), so channel
// payments reach the chain during the test too.
var threeProviders = []providerSpec{
	{name: "p1", pricePerJob: "10000000000000000"}, // 0.010 ether
	{name: "p2", pricePerJob: "11000000000000000"}, // 0.011 ether
	{name: "p3", pricePerJob: "12000000000000000"}, // 0.012 ether
}

// maxPrice of every job in the tests.
const maxPrice = "0.05 ether"

// spinOutput is what `cloudless exec` prints for the spin module with n,
// run locally in a throwaway repo: the reference for the market's output.
func spinOutput(t *testing.T, n string) string {
	t.Helper()
	wasm, _ := filepath.Abs("testdata/spin.wasm")
	r, err := runCLI(t.Context(), filepath.Join(t.TempDir(), "exec"), "exec", wasm, "--", n)
	if err != nil || r.code != 0 {
		t.Fatalf("exec spin: %v %s", err, r.stderr)
	}
	return r.stdout
}

// TestMarketEndToEnd: devnet, three providers and a client, each its own
// process, driven only through the CLI: publish, run in both payment
// modes, redundancy 2, job list, withdraw; every wei accounted for.
func TestMarketEndToEnd(t *testing.T) {
	needE2E(t)
	t.Parallel()
	c := newCluster(t, clusterOpts{providers: threeProviders})
	want := spinOutput(t, "20")
	b0 := c.books()

	cid := c.publishSpin()
	if !strings.HasPrefix(cid, "bafk") {
		t.Fatalf("publish printed %q, want a CIDv1", cid)
	}

	// Escrow, channel, and redundancy 2 (escrow), each through `cloudless run`.
	for _, args := range [][]string{
		{"run", "--max-price", maxPrice, cid, "--", "20"},
		{"run", "--pay", "channel", "--max-price", maxPrice, cid, "--", "20"},
		{"run", "--redundancy", "2", "--max-price", maxPrice, cid, "--", "20"},
		{"run", "--pay", "channel", "--redundancy", "2", "--max-price", maxPrice, cid, "--", "20"},
	} {
		if out := c.cli(c.client, args...); out != want {
			t.Fatalf("cloudless %s printed %q, want %q", strings.Join(args, " "), out, want)
		}
	}

	jobs := c.jobs(c.client)
	if len(jobs) != 4 {
		t.Fatalf("client job list: %d jobs, want 4", len(jobs))
	}
	prices := map[string]*big.Int{}
	for _, p := range threeProviders {
		prices[c.provider(p.name).address.Hex()] = wei(p.pricePerJob)
	}
	total := new(big.Int)
	assigned := map[string]int{} // provider name -> paid assignments
	for _, j := range jobs {
		d := detail(j)
		if j.State != "paid" || j.ExitCode == nil || *j.ExitCode != 0 || j.ResultCID == "" {
			t.Errorf("job %s: state %s exit %v result %q, want paid, exit 0 and a result", j.ID[:8], j.State, j.ExitCode, j.ResultCID)
		}
		k := 1
		if j.Pay == "channel" && len(d.Assigned) == 2 || j.Pay == "escrow" && len(d.Assigned) == 2 {
			k = 2
		}
		sum := new(big.Int)
		for _, a := range d.Assigned {
			addr := common.HexToAddress(a.Addr).Hex()
			if a.State != "paid" || a.Price.Cmp(prices[addr]) != 0 {
				t.Errorf("job %s: assignment %s state %s price %s, want paid at %s", j.ID[:8], addr, a.State, a.Price, prices[addr])
			}
			sum.Add(sum, a.Price)
			for _, p := range c.prov {
				if p.address.Hex() == addr {
					assigned[p.name]++
				}
			}
		}
		if len(d.Assigned) != k || d.Paid == nil || d.Paid.Cmp(sum) != 0 {
			t.Errorf("job %s: %d assignments, paid %v, want %d paid %s", j.ID[:8], len(d.Assigned), d.Paid, k, sum)
		}
		total.Add(total, sum)
	}
	// The two redundant jobs ran on two distinct providers each.
	for _, j := range jobs {
		if d := detail(j); len(d.Assigned) == 2 && d.Assigned[0].Addr == d.Assigned[1].Addr {
			t.Errorf("job %s: both runs on %s", j.ID[:8], d.Assigned[0].Addr)
		}
	}
	// Each provider's own job list agrees with the client's.
	for _, p := range c.prov {
		n := 0
		for _, j := range c.jobs(p) {
			if j.Role == "provider" && j.State == "paid" {
				n++
			}
		}
		if n != assigned[p.name] {
			t.Errorf("%s lists %d paid jobs, the client paid it for %d", p.name, n, assigned[p.name])
		}
	}

	b1, paid := c.checkSince(b0)
	if paid.Cmp(total) != 0 {
		t.Errorf("client paid %s wei on chain, the job prices add up to %s", paid, total)
	}
	if p, r := c.checkJobsAgainstChain(b1.jobs); p != 3 || r != 0 {
		t.Errorf("escrow deals on chain: %d paid, %d refunded; want 3 paid (1 + redundancy 2)", p, r)
	}

	// Withdraw every provider's credits: its balance rises by the credits
	// less the withdraw's gas, and its position only by -gas.
	for _, p := range c.prov {
		cr := b1.snap.credits[p.address]
		if cr.Sign() == 0 {
			continue
		}
		var res client.WithdrawResult
		c.cliJSON(p, &res, "wallet", "withdraw")
		if wei(res.Amount).Cmp(cr) != 0 {
			t.Errorf("%s withdrew %s, had %s credits", p.name, res.Amount, cr)
		}
		w := c.wallet(p)
		if w.Withdrawable != "0" {
			t.Errorf("%s: %s still withdrawable after withdraw", p.name, w.Withdrawable)
		}
	}
	c.checkSince(b1)
}
