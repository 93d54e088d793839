package load

import (
	"context"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAuditCatches runs a tiny load (one client, one provider, three
// jobs), then breaks it behind the market's back before the audit: the
// faucet pays the provider 1 wei (money from outside the run) and a job
// that never ended is added. The audit must report both, and nothing else.
func TestAuditCatches(t *testing.T) {
	if testing.Short() {
		t.Skip("two daemons and a dev chain")
	}
	module, err := os.ReadFile(filepath.Join("testdata", "hello.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := Config{Clients: 1, Providers: 1, JobsPerClient: 3, InFlight: 2, Module: module, Dir: t.TempDir(), Logger: testLogger(t)}
	cfg.beforeAudit = func(ctx context.Context, c *cluster, s []Sample) ([]Sample, error) {
		if err := c.chain.Fund(ctx, big.NewInt(1), c.providers[0].addr); err != nil {
			return nil, err
		}
		return append(s, Sample{Client: "client-1", ID: "forged", State: "awarded"}), nil
	}
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep.Summary())
	if rep.Succeeded != 3 {
		t.Fatalf("succeeded %d of 3", rep.Succeeded)
	}
	// Each entry: substrings one problem must hold together.
	want := [][]string{
		{"lost: client-1 job forged stuck in \"awarded\""},
		{"an account outside the run"},
		{"provider-1 0x", "balance moved", "net of fees"},
		{"money not conserved", "(diff 1)"},
	}
	for _, w := range want {
		found := false
		for _, p := range rep.Problems {
			all := true
			for _, sub := range w {
				all = all && strings.Contains(p, sub)
			}
			found = found || all
		}
		if !found {
			t.Errorf("the audit missed %q; problems: %q", w, rep.Problems)
		}
	}
	if len(rep.Problems) != len(want) {
		t.Errorf("problems %q, want only %d", rep.Problems, len(want))
	}
}

func TestPct(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	for _, tc := range []struct {
		in   []time.Duration
		p    float64
		want float64
	}{
		{nil, 50, 0},
		{ms(7), 99, 7},
		{ms(4, 1, 3, 2), 50, 2},
		{ms(4, 1, 3, 2), 100, 4},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10},
	} {
		if got := pct(tc.in, tc.p); got != tc.want {
			t.Errorf("pct(%v, %v) = %v, want %v", tc.in, tc.p, got, tc.want)
		}
	}
}
