package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/cloudless-network/cloudless/node/client"
)

// Config sizes a load run. Zero fields take the defaults listed.
type Config struct {
	// Clients and Providers are the daemons (default 5 and 5).
	Clients, Providers int
	// JobsPerClient is how many jobs each client submits (default 40).
	JobsPerClient int
	// InFlight bounds each client's concurrent jobs (default 16).
	InFlight int
	// ProviderSlots is each provider's max_concurrent (default 32).
	ProviderSlots int
	// Module is the job's .wasm (required).
	Module []byte
	// JobTimeout is the job spec's timeout (default 10 s).
	JobTimeout time.Duration
	// MaxPrice is the job spec's price cap (default "0.001 ether").
	MaxPrice string
	// Fund is every account's genesis balance (default 1000 ether).
	Fund *big.Int
	// Dir holds the repos (default a new temp directory, removed after).
	Dir string
	// Logger gets the daemons' logs (default: discarded).
	Logger *slog.Logger
	// Progress, when set, is called after every finished job, one call at
	// a time.
	Progress func(done, total int)

	// beforeAudit lets the audit's own tests break a finished run (move
	// money behind the market's back, forge a lost job).
	beforeAudit func(ctx context.Context, c *cluster, samples []Sample) ([]Sample, error)
}

func (c *Config) defaults() error {
	if len(c.Module) == 0 {
		return errors.New("load: Config.Module is required")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Clients, 5)
	def(&c.Providers, 5)
	def(&c.JobsPerClient, 40)
	def(&c.InFlight, 16)
	def(&c.ProviderSlots, 32)
	if c.JobTimeout == 0 {
		c.JobTimeout = 10 * time.Second
	}
	if c.MaxPrice == "" {
		c.MaxPrice = "0.001 ether"
	}
	if c.Fund == nil {
		c.Fund = new(big.Int).Mul(big.NewInt(1000), big.NewInt(1e18))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Sample is one job as the load driver saw it.
type Sample struct {
	Client string `json:"client"`
	ID     string `json:"id"`
	// State is the last state the client's record showed.
	State    string `json:"state"`
	Provider string `json:"provider,omitempty"`
	Price    string `json:"price,omitempty"`
	Error    string `json:"error,omitempty"`
	// Latency is the client's record: created to its last update (the
	// state change that ended it), with the market's own clock.
	Latency time.Duration `json:"latency_ns"`
	// Observed is submit call to the poll that saw the end.
	Observed time.Duration `json:"observed_ns"`
	// SubmitErr is set when POST /v1/jobs failed: no job exists.
	SubmitErr string `json:"submit_err,omitempty"`
}

// terminal are the client states a job ends in.
var terminal = map[string]bool{"paid": true, "failed": true, "refunded": true, "cancelled": true}

// Run starts the cluster, drives the load, audits jobs and money, stops
// everything and returns the report. An error means the run could not be
// made or measured; a run that loses jobs or money returns a report whose
// Problems say so.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "cloudless-load-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	rep := &Report{Config: reportConfig(cfg), Started: time.Now().UTC(), LoadAvgBefore: loadAvg()}
	t0 := time.Now()
	c, err := startCluster(ctx, cfg, dir, cfg.Logger)
	if err != nil {
		return nil, err
	}
	defer c.close()
	rep.StartupSeconds = time.Since(t0).Seconds()

	cid, err := publish(ctx, c, cfg.Module)
	if err != nil {
		return nil, err
	}
	cpu0 := cpuTime()
	l0 := time.Now()
	samples := drive(ctx, c, cfg, cid)
	rep.LoadSeconds = time.Since(l0).Seconds()
	rep.CPUSeconds = (cpuTime() - cpu0).Seconds()
	rep.LoadAvgAfter = loadAvg()
	rep.figures(samples, c)
	rep.Samples = samples

	if cfg.beforeAudit != nil {
		if samples, err = cfg.beforeAudit(ctx, c, samples); err != nil {
			return rep, err
		}
	}
	// The audit gets its own time: a slow load must not eat it. The 5 × 2,000
	// run at load average 40–65 needed 12 min of it (docs/benchmarks/load.md).
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Minute)
	defer cancel()
	a0 := time.Now()
	if err := audit(actx, c, rep, samples); err != nil {
		return rep, fmt.Errorf("audit: %w", err)
	}
	rep.AuditSeconds = time.Since(a0).Seconds()
	rep.Samples = samples
	return rep, nil
}

// publish adds the module on every client (each serves it to the
// providers over bitswap) and returns its CID.
func publish(ctx context.Context, c *cluster, module []byte) (string, error) {
	var cid string
	for _, m := range c.clients {
		res, err := m.api.Publish(ctx, bytes.NewReader(module), "job.wasm")
		if err != nil {
			return "", fmt.Errorf("publish on %s: %w", m.name, err)
		}
		if cid != "" && res.CID != cid {
			return "", fmt.Errorf("publish: %s got CID %s, another client %s", m.name, res.CID, cid)
		}
		cid = res.CID
	}
	return cid, nil
}

// drive runs every client's jobs with at most InFlight at once per client
// and returns one sample per job, in no particular order.
func drive(ctx context.Context, c *cluster, cfg Config, cid string) []Sample {
	var providers []string
	for _, p := range c.providers {
		providers = append(providers, p.peerID)
	}
	req := map[string]any{
		"spec": map[string]any{
			"module":    cid,
			"resources": map[string]any{"timeout": cfg.JobTimeout.String()},
			"price":     map[string]any{"max": cfg.MaxPrice},
		},
		"pay":       "channel",
		"providers": providers,
	}
	body, _ := json.Marshal(req)
	total := cfg.Clients * cfg.JobsPerClient
	var mu sync.Mutex
	samples := make([]Sample, 0, total)
	var wg sync.WaitGroup
	for _, m := range c.clients {
		wg.Go(func() { // one submitter per client, InFlight jobs at a time
			sem := make(chan struct{}, cfg.InFlight)
			var jobs sync.WaitGroup
			for range cfg.JobsPerClient {
				sem <- struct{}{}
				jobs.Go(func() {
					defer func() { <-sem }()
					s := runJob(ctx, m, body)
					// Progress is called under mu: calls are serialized,
					// so the callback may keep state (the race detector
					// caught TestLoad's rate limit on its log lines).
					mu.Lock()
					samples = append(samples, s)
					if cfg.Progress != nil {
						cfg.Progress(len(samples), total)
					}
					mu.Unlock()
				})
			}
			jobs.Wait()
		})
	}
	wg.Wait()
	return samples
}

// runJob submits one job and polls it until it ends or ctx does.
func runJob(ctx context.Context, m *member, body []byte) Sample {
	s := Sample{Client: m.name}
	t0 := time.Now()
	var j client.Job
	if err := m.http.do(ctx, http.MethodPost, "/v1/jobs", body, &j); err != nil {
		s.SubmitErr = err.Error()
		return s
	}
	s.ID = j.ID
	wait := 5 * time.Millisecond
	for !terminal[j.State] {
		select {
		case <-ctx.Done():
			s.State, s.Error = j.State, "load stopped waiting: "+ctx.Err().Error()
			return s
		case <-time.After(wait):
		}
		wait = min(wait*3/2, 100*time.Millisecond)
		var next client.Job
		if err := m.http.do(ctx, http.MethodGet, "/v1/jobs/"+url.PathEscape(s.ID), nil, &next); err != nil {
			continue // a transient API error; the deadline bounds the retries
		}
		j = next
	}
	s.Observed = time.Since(t0)
	s.State, s.Provider, s.Price, s.Error = j.State, j.Provider, j.Price, j.Error
	s.Latency = j.Updated.Sub(j.Created)
	return s
}

func (a *apiClient) do(ctx context.Context, method, path string, body []byte, out any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// cpuTime is the process's user+system CPU time so far (the daemons, the
// chain and the driver all run in this process).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is /proc/loadavg's first three fields ("" off Linux).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return ""
	}
	return string(bytes.Join(f[:3], []byte(" ")))
}
