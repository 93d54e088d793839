package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
	"github.com/cloudless-network/cloudless/node/client"
)

// defaultMaxPrice caps a job's price when neither --max-price nor the job
// file says (DESIGN.md's example cap).
const defaultMaxPrice = "0.001 ether"

type runFlags struct {
	stdin, memory, timeout, maxPrice, pay, out, file string
	inputs, env                                      []string
	redundancy, retry                                int
	detach, nondeterministic                         bool
}

func newRunCmd(g *globalFlags) *cobra.Command { return newRunCmdWith(g, &runFlags{}) }

func newRunCmdWith(g *globalFlags, f *runFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run MODULE|CID [flags] [-- ARGS]",
		Short: "Run a job on the marketplace and print its output; exits with the job's exit code",
		Long: `Runs a WebAssembly (WASI) module on a provider of the network, paying it
through the settlement contract, and prints the job's stdout and stderr.
MODULE is a local .wasm file (published through the daemon first) or a CID.
With -f job.yaml the job spec comes from a file and flags override it.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runJob(cmd, g, f, args) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.stdin, "stdin", "", "standard input: a local FILE or a CID")
	fl.StringArrayVar(&f.inputs, "input", nil, "input mount CID:/path (repeatable)")
	fl.StringArrayVar(&f.env, "env", nil, "environment variable K=V (repeatable)")
	fl.StringVar(&f.memory, "memory", "", "memory limit, e.g. 128MiB (default 128MiB)")
	fl.StringVar(&f.timeout, "timeout", "", "run time limit, e.g. 30s (default 30s)")
	fl.StringVar(&f.maxPrice, "max-price", "", `price cap, e.g. "0.001 ether" or "1000 gwei" (default `+defaultMaxPrice+`)`)
	fl.IntVar(&f.redundancy, "redundancy", 0, "run on K distinct providers; the majority output wins (default 1)")
	fl.StringVar(&f.pay, "pay", "escrow", "payment: escrow (a deal per job) or channel (vouchers on a channel per provider)")
	fl.IntVar(&f.retry, "retry", 0, "re-award the job to another bidder up to N times when a provider stays silent or fails (it is not paid)")
	fl.StringVar(&f.out, "out", "", "write the job's /out files under DIR")
	fl.BoolVar(&f.detach, "detach", false, "print the job ID and return without waiting")
	fl.StringVarP(&f.file, "file", "f", "", "job spec file (YAML or JSON)")
	fl.BoolVar(&f.nondeterministic, "nondeterministic", false, "real clock and randomness (redundant runs may then disagree)")
	return cmd
}

func runJob(cmd *cobra.Command, g *globalFlags, f *runFlags, args []string) error {
	ctx := cmd.Context()
	c, err := client.DialAPI(g.repoPath())
	if err != nil {
		return err
	}
	spec, err := buildSpec(ctx, cmd, c, f, args)
	if err != nil {
		return err
	}
	pay := wire.PayMode(f.pay)
	if pay != wire.PayEscrow && pay != wire.PayChannel {
		return fmt.Errorf("--pay %q: want escrow or channel", f.pay)
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	if f.retry < 0 || f.retry > market.MaxRetry {
		return fmt.Errorf("--retry %d: want 0..%d", f.retry, market.MaxRetry)
	}
	job, err := c.Run(ctx, market.SubmitRequest{Spec: raw, Pay: pay, Retry: f.retry})
	if err != nil {
		return err
	}
	if f.detach {
		if g.json {
			return jobPrintJSON(cmd.OutOrStdout(), job)
		}
		_, err := fmt.Fprintln(cmd.OutOrStdout(), job.ID)
		return err
	}
	job, err = waitJob(ctx, c, job.ID, cmd.ErrOrStderr(), ttyOut(os.Stderr) && !g.json)
	if err != nil {
		return err
	}
	return showResult(ctx, cmd, c, g, job, f.out)
}

// buildSpec makes the job spec from -f and the flags, publishing local
// files (module, stdin) through the daemon.
func buildSpec(ctx context.Context, cmd *cobra.Command, c *client.Client, f *runFlags, args []string) (wire.JobSpec, error) {
	var spec wire.JobSpec
	if f.file != "" {
		b, err := os.ReadFile(f.file)
		if err != nil {
			return spec, err
		}
		if spec, err = wire.ParseJobSpec(b); err != nil {
			return spec, fmt.Errorf("%s: %w", f.file, err)
		}
	} else {
		spec.Deterministic = !f.nondeterministic
	}
	modArgs := args
	if dash := cmd.ArgsLenAtDash(); dash >= 0 {
		if dash > 1 {
			return spec, errors.New("one MODULE before --, arguments after it")
		}
		modArgs = args[:dash]
		spec.Args = append([]string(nil), args[dash:]...)
	}
	switch {
	case len(modArgs) == 1:
		cid, err := publishIfFile(ctx, c, modArgs[0])
		if err != nil {
			return spec, err
		}
		spec.Module = cid
	case len(modArgs) > 1:
		spec.Args = append(append([]string(nil), modArgs[1:]...), spec.Args...)
		cid, err := publishIfFile(ctx, c, modArgs[0])
		if err != nil {
			return spec, err
		}
		spec.Module = cid
	case spec.Module == "":
		return spec, errors.New("no module: give MODULE (a .wasm file or a CID) or -f job.yaml")
	}
	if f.stdin != "" {
		cid, err := publishIfFile(ctx, c, f.stdin)
		if err != nil {
			return spec, err
		}
		spec.Stdin = cid
	}
	for _, in := range f.inputs {
		cid, p, ok := strings.Cut(in, ":")
		if !ok {
			return spec, fmt.Errorf("--input %q: want CID:/path", in)
		}
		spec.Inputs = append(spec.Inputs, wire.Input{CID: cid, Path: p})
	}
	for _, kv := range f.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return spec, fmt.Errorf("--env %q: want K=V", kv)
		}
		if spec.Env == nil {
			spec.Env = map[string]string{}
		}
		spec.Env[k] = v
	}
	var err error
	if f.memory != "" {
		if spec.Resources.Memory, err = wire.ParseSize(f.memory); err != nil {
			return spec, fmt.Errorf("--memory: %w", err)
		}
	}
	if f.timeout != "" {
		if spec.Resources.Timeout, err = wire.ParseDuration(f.timeout); err != nil {
			return spec, fmt.Errorf("--timeout: %w", err)
		}
	}
	if f.maxPrice != "" || spec.Price.Max == nil {
		mp := f.maxPrice
		if mp == "" {
			mp = defaultMaxPrice
		}
		if spec.Price.Max, err = wire.ParseWei(mp); err != nil {
			return spec, fmt.Errorf("--max-price: %w", err)
		}
	}
	if f.redundancy != 0 {
		spec.Redundancy = f.redundancy
	}
	spec.ApplyDefaults()
	return spec, spec.Validate()
}

// publishIfFile publishes a local file through the daemon and returns its
// CID; anything that is not a file is taken as a CID.
func publishIfFile(ctx context.Context, c *client.Client, arg string) (string, error) {
	st, err := os.Stat(arg)
	if err != nil || st.IsDir() {
		return arg, nil
	}
	fh, err := os.Open(arg)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	res, err := c.Publish(ctx, fh, filepath.Base(arg))
	if err != nil {
		return "", fmt.Errorf("publish %s: %w", arg, err)
	}
	return res.CID, nil
}

// ttyOut reports whether f is a terminal (progress lines go there).
func ttyOut(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// terminalState reports whether the market is done with a job.
func terminalState(s string) bool { return market.State(s).Terminal() }

var progressText = map[string]string{
	string(market.StateRequested): "finding providers",
	string(market.StateBidding):   "collecting bids",
	string(market.StatePaying):    "paying",
	string(market.StateAwarded):   "running",
	string(market.StateVerifying): "fetching and checking the result",
	string(market.StatePaid):      "done",
}

// waitJob polls the job until it ends, printing each new state when
// progress is on.
func waitJob(ctx context.Context, c *client.Client, id string, w io.Writer, progress bool) (client.Job, error) {
	last := ""
	start := time.Now()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		job, err := c.Job(ctx, id)
		if err != nil {
			return job, err
		}
		if progress && job.State != last {
			txt := progressText[job.State]
			if txt == "" {
				txt = job.State
			}
			fmt.Fprintf(w, "[%5.1fs] %s\n", time.Since(start).Seconds(), txt)
		}
		last = job.State
		if terminalState(job.State) {
			return job, nil
		}
		select {
		case <-ctx.Done():
			return job, fmt.Errorf("stopped waiting for job %s (it goes on; see `cloudless job status %s`): %w", id, id, ctx.Err())
		case <-t.C:
		}
	}
}

// showResult prints the job's stdout and stderr, writes /out files, and
// returns the job's exit code as an ExitCodeError.
func showResult(ctx context.Context, cmd *cobra.Command, c *client.Client, g *globalFlags, job client.Job, outDir string) error {
	var mj market.Job
	if len(job.Detail) > 0 {
		_ = json.Unmarshal(job.Detail, &mj)
	}
	if g.json {
		if err := jobPrintJSON(cmd.OutOrStdout(), job); err != nil {
			return err
		}
	}
	if job.State != string(market.StatePaid) {
		msg := job.Error
		if msg == "" {
			msg = "job ended " + job.State
		}
		return fmt.Errorf("job %s: %s", job.ID, msg)
	}
	if !g.json {
		stdout, stderr := mj.Stdout, mj.Stderr
		if stdout == nil {
			stdout, _ = jobGetAll(ctx, c, job.ResultCID+"/"+market.StdoutName)
		}
		if stderr == nil {
			stderr, _ = jobGetAll(ctx, c, job.ResultCID+"/"+market.StderrName)
		}
		cmd.OutOrStdout().Write(stdout)
		cmd.ErrOrStderr().Write(stderr)
	}
	if outDir != "" {
		for _, name := range mj.OutFiles {
			clean := path.Clean("/" + name)[1:]
			b, err := jobGetAll(ctx, c, job.ResultCID+"/"+market.OutDirName+"/"+clean)
			if err != nil {
				return fmt.Errorf("fetch /out/%s: %w", clean, err)
			}
			dst := filepath.Join(outDir, filepath.FromSlash(clean))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				return err
			}
		}
	}
	code := 0
	if job.ExitCode != nil {
		code = *job.ExitCode
	}
	if code != 0 {
		return &ExitCodeError{Code: code}
	}
	return nil
}

func jobGetAll(ctx context.Context, c *client.Client, p string) ([]byte, error) {
	r, err := c.Get(ctx, p)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func jobPrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// formatWei prints a wei string as ether ("0.0012 ETH").
func jobFormatWei(wei string) string {
	if wei == "" {
		return "-"
	}
	if _, ok := new(big.Int).SetString(wei, 10); !ok {
		return wei
	}
	return formatEther(wei) + " ETH"
}
