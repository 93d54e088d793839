package functions_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cloudless-network/cloudless/executor"
)

// jobSpec mirrors the job spec of DESIGN.md ("Job spec"); decoding with
// KnownFields catches a misspelled field in a sample.
type jobSpec struct {
	Module string            `yaml:"module"`
	Args   []string          `yaml:"args"`
	Env    map[string]string `yaml:"env"`
	Stdin  string            `yaml:"stdin"`
	Inputs []struct {
		CID  string `yaml:"cid"`
		Path string `yaml:"path"`
	} `yaml:"inputs"`
	Resources struct {
		Memory    string `yaml:"memory"`
		Timeout   string `yaml:"timeout"`
		MaxOutput string `yaml:"max_output"`
	} `yaml:"resources"`
	Price struct {
		Max string `yaml:"max"`
	} `yaml:"price"`
	Redundancy    int  `yaml:"redundancy"`
	Deterministic bool `yaml:"deterministic"`
}

// placeholder is how the samples mark a CID the reader computes.
const placeholder = "REPLACE-WITH-CID-OF-"

// testJobs decodes every sample job spec and, when its module and data are
// files of this repo (placeholders naming build/examples/NAME.wasm and
// examples/data/...), runs it through the executor with the spec's own
// limits, so a sample cannot drift from the function it runs.
func testJobs(t *testing.T, r *runner) {
	r.t = t
	files, err := filepath.Glob(filepath.Join(repoRoot, "examples", "jobs", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no job specs: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			r.t = t
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dec := yaml.NewDecoder(bytes.NewReader(b))
			dec.KnownFields(true)
			var js jobSpec
			if err := dec.Decode(&js); err != nil {
				t.Fatalf("decode: %v", err)
			}
			mem, err := executor.ParseSize(js.Resources.Memory)
			if err != nil {
				t.Fatalf("resources.memory: %v", err)
			}
			maxOut, err := executor.ParseSize(js.Resources.MaxOutput)
			if err != nil {
				t.Fatalf("resources.max_output: %v", err)
			}
			timeout, err := time.ParseDuration(js.Resources.Timeout)
			if err != nil {
				t.Fatalf("resources.timeout: %v", err)
			}
			if !strings.HasSuffix(js.Price.Max, " ether") || js.Redundancy < 1 || !js.Deterministic {
				t.Errorf("price %q redundancy %d deterministic %v", js.Price.Max, js.Redundancy, js.Deterministic)
			}

			name, ok := strings.CutPrefix(js.Module, placeholder+"build/examples/")
			name, ok2 := strings.CutSuffix(name, ".wasm")
			if !ok || !ok2 || r.mods[name] == nil {
				t.Fatalf("module %q does not name an example", js.Module)
			}
			spec := executor.Spec{
				Args: js.Args,
				Env:  js.Env,
				// Generous deadline: the first run of a Go module compiles it.
				Limits: executor.Limits{Memory: mem, MaxOutput: int64(maxOut), Timeout: max(timeout, time.Minute)},
			}
			local := func(cid string) (string, bool) {
				p, ok := strings.CutPrefix(cid, placeholder+"examples/data/")
				return filepath.Join(repoRoot, "examples", "data", p), ok
			}
			if js.Stdin != "" {
				p, ok := local(js.Stdin)
				if !ok {
					t.Logf("decoded; not run: stdin %s is the reader's own file", js.Stdin)
					return
				}
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				spec.Stdin = bytes.NewReader(data)
			}
			for _, in := range js.Inputs {
				p, ok := local(in.CID)
				if !ok {
					t.Logf("decoded; not run: input %s is the reader's own data", in.CID)
					return
				}
				abs, err := filepath.Abs(p)
				if err != nil {
					t.Fatal(err)
				}
				spec.Mounts = append(spec.Mounts, executor.Mount{HostPath: abs, GuestPath: in.Path})
			}
			res := r.run(name, spec)
			if res.ExitCode != 0 || len(res.Stdout) == 0 {
				t.Errorf("exit %d stdout %q stderr %q", res.ExitCode, res.Stdout, res.Stderr)
			}
		})
	}
}
