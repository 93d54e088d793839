package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/market/wire"
)

const testModuleCID = "bafkreihwvmh3g5lvgo4ytjcquifr6mfn2xcjdkmfninyi23zx75baccham"

func parseRun(t *testing.T, args ...string) (wire.JobSpec, error) {
	t.Helper()
	g := &globalFlags{}
	f := &runFlags{}
	cmd := newRunCmdWith(g, f)
	if err := cmd.Flags().Parse(args); err != nil {
		return wire.JobSpec{}, err
	}
	// A CID module and CID stdin never reach the daemon, so no client is needed.
	return buildSpec(context.Background(), cmd, nil, f, cmd.Flags().Args())
}

func TestRunBuildsSpec(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "job.yaml")
	os.WriteFile(yml, []byte("module: "+testModuleCID+"\nargs: [from-file]\nresources: {memory: 32MiB}\nprice: {max: \"5 gwei\"}\nredundancy: 2\n"), 0o644)
	cases := []struct {
		name  string
		args  []string
		check func(wire.JobSpec) bool
		err   string
	}{
		{"defaults", []string{testModuleCID},
			func(s wire.JobSpec) bool {
				return s.Module == testModuleCID && s.Resources.Memory == wire.DefaultMemory && s.Redundancy == 1 &&
					s.Price.Max.String() == "1000000000000000" && s.Deterministic
			}, ""},
		{"args after dash", []string{testModuleCID, "--memory", "64MiB", "--timeout", "3s", "--", "-x", "y"},
			func(s wire.JobSpec) bool {
				return strings.Join(s.Args, " ") == "-x y" && s.Resources.Memory == 64<<20 && s.Resources.Timeout == wire.Duration(3*time.Second)
			}, ""},
		{"inputs env price redundancy", []string{"--input", testModuleCID + ":/data", "--env", "A=1", "--max-price", "2 gwei", "--redundancy", "3", testModuleCID},
			func(s wire.JobSpec) bool {
				return len(s.Inputs) == 1 && s.Inputs[0].Path == "/data" && s.Env["A"] == "1" && s.Price.Max.String() == "2000000000" && s.Redundancy == 3
			}, ""},
		{"job file, flags override", []string{"-f", yml, "--redundancy", "1"},
			func(s wire.JobSpec) bool {
				return s.Args[0] == "from-file" && s.Resources.Memory == 32<<20 && s.Price.Max.String() == "5000000000" && s.Redundancy == 1
			}, ""},
		{"no module", nil, nil, "no module"},
		{"bad input", []string{"--input", "nocolon", testModuleCID}, nil, "CID:/path"},
		{"bad memory", []string{"--memory", "lots", testModuleCID}, nil, "--memory"},
		{"bad price", []string{"--max-price", "1 bitcoin", testModuleCID}, nil, "--max-price"},
		{"bad module CID", []string{"not-a-cid"}, nil, "module"},
		{"two modules before dash", []string{testModuleCID, testModuleCID, "--", "a"}, nil, "one MODULE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := parseRun(t, c.args...)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(s) {
				t.Errorf("spec %+v", s)
			}
		})
	}
}

func TestRunWithoutDaemon(t *testing.T) {
	root := newRootCmd()
	root.SetArgs([]string{"--repo", t.TempDir(), "run", testModuleCID})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "no daemon") {
		t.Fatalf("err %v, want a no-daemon hint", err)
	}
}
