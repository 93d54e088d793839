package load

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Report is what a load run measured and what its audit found.
type Report struct {
	Config         ReportConfig `json:"config"`
	Started        time.Time    `json:"started"`
	Machine        string       `json:"machine"`
	LoadAvgBefore  string       `json:"loadavg_before"`
	LoadAvgAfter   string       `json:"loadavg_after"`
	StartupSeconds float64      `json:"startup_s"`
	LoadSeconds    float64      `json:"load_s"`
	AuditSeconds   float64      `json:"audit_s"`
	// CPUSeconds is the process's CPU time during the load phase (all
	// daemons, the chain and the driver share the process).
	CPUSeconds float64 `json:"cpu_s"`

	Jobs      int `json:"jobs"`      // submitted
	Succeeded int `json:"succeeded"` // client record paid, with a result
	Failed    int `json:"failed"`    // ended failed/refunded/cancelled
	Lost      int `json:"lost"`      // not ended, or not submitted
	// Charged counts failed jobs that had been awarded: a voucher for
	// them was signed (or the provider holds them paid). Whether the
	// client paid for them shows in the channel check of Problems.
	Charged int `json:"awarded_failed"`

	JobsPerSecond float64 `json:"jobs_per_s"`
	// Latency from the client's record (created → ended), milliseconds.
	P50, P90, P99, Max float64
	// ObservedP50/P99: submit call → the poll that saw the end.
	ObservedP50, ObservedP99 float64
	// AwardP50/P99: client record created → the provider's record of the
	// award (bids, voucher, award); RunP50/P99: the sandbox run, ms.
	AwardP50, AwardP99, RunP50, RunP99 float64

	PerProvider  []ProviderFigure `json:"per_provider"`
	Chain        ChainFigure      `json:"chain"`
	Conservation Conservation     `json:"conservation"`
	// FailReasons counts the causes of the jobs that did not succeed.
	FailReasons map[string]int `json:"fail_reasons,omitempty"`
	// Evidence lists the jobs of every channel whose money does not add up.
	Evidence []string `json:"evidence,omitempty"`
	// Problems lists every lost job, unpaid or overpaid job and money
	// mismatch found; empty means the run held.
	Problems []string `json:"problems"`

	Samples []Sample `json:"-"`
}

// ReportConfig is the part of Config a report records.
type ReportConfig struct {
	Clients, Providers, JobsPerClient, InFlight, ProviderSlots int
	JobTimeout                                                 string
}

func reportConfig(c Config) ReportConfig {
	return ReportConfig{c.Clients, c.Providers, c.JobsPerClient, c.InFlight, c.ProviderSlots, c.JobTimeout.String()}
}

// ProviderFigure is one provider's share.
type ProviderFigure struct {
	Name          string  `json:"name"`
	PeerID        string  `json:"peer_id"`
	Jobs          int     `json:"jobs"` // succeeded jobs it ran
	JobsPerSecond float64 `json:"jobs_per_s"`
	// Earned: prices of its succeeded jobs (client records); Redeemed:
	// what the contract paid it for the vouchers (wei).
	Earned   string `json:"earned_wei"`
	Redeemed string `json:"redeemed_wei"`
}

// ChainFigure counts the transactions of the run.
type ChainFigure struct {
	Blocks  int            `json:"blocks"`
	Txs     int            `json:"txs"`
	ByKind  map[string]int `json:"by_kind"`
	GasUsed uint64         `json:"gas_used"`
	FeesWei string         `json:"fees_wei"`
}

// Conservation is the money check: every account's balance plus the
// contract's plus the fees of every transaction equals the start.
type Conservation struct {
	StartWei string `json:"start_wei"`
	EndWei   string `json:"end_wei"` // balances + contract + fees at the end
	Held     bool   `json:"held"`
}

// OK reports whether the run held: nothing lost, no money mismatch.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// figures fills the counts and the speed figures from the samples.
func (r *Report) figures(samples []Sample, c *cluster) {
	r.Machine = machine()
	r.Jobs = len(samples)
	var lat, obs []time.Duration
	perProv := map[string]int{}
	for _, s := range samples {
		switch {
		case s.SubmitErr != "" || !terminal[s.State]:
			r.Lost++
		case s.State == "paid":
			r.Succeeded++
			perProv[s.Provider]++
		default:
			r.Failed++
		}
		if terminal[s.State] {
			lat = append(lat, s.Latency)
			obs = append(obs, s.Observed)
		}
	}
	if r.LoadSeconds > 0 {
		r.JobsPerSecond = float64(r.Succeeded+r.Failed) / r.LoadSeconds
	}
	r.P50, r.P90, r.P99, r.Max = pct(lat, 50), pct(lat, 90), pct(lat, 99), pct(lat, 100)
	r.ObservedP50, r.ObservedP99 = pct(obs, 50), pct(obs, 99)
	for _, p := range c.providers {
		f := ProviderFigure{Name: p.name, PeerID: p.peerID, Jobs: perProv[p.peerID], Earned: "0", Redeemed: "0"}
		if r.LoadSeconds > 0 {
			f.JobsPerSecond = float64(f.Jobs) / r.LoadSeconds
		}
		r.PerProvider = append(r.PerProvider, f)
	}
}

// pct is the p-th percentile (nearest rank) in milliseconds.
func pct(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	i = min(max(i, 0), len(s)-1)
	return float64(s[i].Microseconds()) / 1000
}

// machine names the CPU and its count.
func machine() string {
	model := ""
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	return fmt.Sprintf("%s/%s, %d CPUs, %s, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), model, runtime.Version())
}

// Summary is the report in a few lines, for a test log.
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d clients × %d jobs (≤%d in flight each) → %d providers (%d slots each)\n",
		r.Config.Clients, r.Config.JobsPerClient, r.Config.InFlight, r.Config.Providers, r.Config.ProviderSlots)
	fmt.Fprintf(&b, "jobs %d: succeeded %d, failed %d (%d after the award), lost %d\n", r.Jobs, r.Succeeded, r.Failed, r.Charged, r.Lost)
	fmt.Fprintf(&b, "load %.1f s: %.1f jobs/s; latency p50 %.0f ms p90 %.0f ms p99 %.0f ms max %.0f ms (observed p50 %.0f p99 %.0f)\n",
		r.LoadSeconds, r.JobsPerSecond, r.P50, r.P90, r.P99, r.Max, r.ObservedP50, r.ObservedP99)
	fmt.Fprintf(&b, "of which: to award p50 %.0f ms p99 %.0f ms; run p50 %.0f ms p99 %.0f ms\n", r.AwardP50, r.AwardP99, r.RunP50, r.RunP99)
	fmt.Fprintf(&b, "CPU %.1f s (%.2f ms/job); startup %.1f s; audit %.1f s; loadavg %s → %s\n",
		r.CPUSeconds, 1000*r.CPUSeconds/float64(max(r.Jobs, 1)), r.StartupSeconds, r.AuditSeconds, r.LoadAvgBefore, r.LoadAvgAfter)
	for _, p := range r.PerProvider {
		fmt.Fprintf(&b, "  %s: %d jobs (%.1f/s), earned %s wei, redeemed %s wei\n", p.Name, p.Jobs, p.JobsPerSecond, p.Earned, p.Redeemed)
	}
	fmt.Fprintf(&b, "chain: %d txs in %d blocks %v, gas %d, fees %s wei\n", r.Chain.Txs, r.Chain.Blocks, r.Chain.ByKind, r.Chain.GasUsed, r.Chain.FeesWei)
	fmt.Fprintf(&b, "money: start %s = end+fees %s: held %v\n", r.Conservation.StartWei, r.Conservation.EndWei, r.Conservation.Held)
	for m, n := range r.FailReasons {
		fmt.Fprintf(&b, "  failed ×%d: %s\n", n, m)
	}
	for i, p := range r.Problems {
		if i == 20 {
			fmt.Fprintf(&b, "  ... %d more problems\n", len(r.Problems)-20)
			break
		}
		fmt.Fprintf(&b, "  PROBLEM: %s\n", p)
	}
	return b.String()
}
