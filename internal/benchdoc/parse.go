package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// run is one saved `go test -bench` invocation: the header lines the
// benchshim wrote and the benchmark results in its output.
type run struct {
	File    string
	Command string   // "go test ..." as typed (shell-quoted arguments)
	Dir     string   // working directory
	Env     []string // CLOUDLESS_*, SCALE_*, PERF_*, GOMAXPROCS, GOGC
	Load    string   // 1/5/15-minute load average when it started
	Started string   // UTC start time
	Exit    string   // exit status, "" when the run was cut short
	CPU     string   // from the "cpu:" line of go test
	Results []result
}

// result is one benchmark line.
type result struct {
	Pkg     string // import path ("pkg:" line)
	Name    string // full name without the -GOMAXPROCS suffix, e.g. BenchmarkScale/N=100
	Procs   int
	Iters   int64
	Metrics []metric // in the order printed
}

type metric struct {
	Unit  string
	Value float64
}

// value returns the metric with this unit.
func (r result) value(unit string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Unit == unit {
			return m.Value, true
		}
	}
	return 0, false
}

// readRuns parses every *.txt file in dir, oldest first (the shim names
// them by start time in nanoseconds).
func readRuns(dir string) ([]run, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var runs []run
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		r, err := parseRun(fh)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		r.File = f
		runs = append(runs, r)
	}
	return runs, nil
}

// parseRun reads the shim's "# key: value" header lines and the standard
// benchmark output format (https://go.dev/design/14313-benchmark-format):
// "pkg:" and "cpu:" configuration lines and result lines
//
//	BenchmarkName-4   20   123456 ns/op   12.5 result-p50-ms   3 jobs/s
//
// Lines it does not know (test logs, PASS, ok) are skipped.
func parseRun(rd io.Reader) (run, error) {
	var r run
	pkg := ""
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := header(line); ok {
			switch k {
			case "command":
				r.Command = v
			case "dir":
				r.Dir = v
			case "env":
				r.Env = append(r.Env, v)
			case "load":
				r.Load = v
			case "started":
				r.Started = v
			case "exit":
				r.Exit = v
			}
			continue
		}
		if v, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(v)
			continue
		}
		if v, ok := strings.CutPrefix(line, "cpu: "); ok {
			r.CPU = strings.TrimSpace(v)
			continue
		}
		if res, ok := parseResult(line); ok {
			res.Pkg = pkg
			r.Results = append(r.Results, res)
		}
	}
	return r, sc.Err()
}

func header(line string) (key, value string, ok bool) {
	rest, ok := strings.CutPrefix(line, "# ")
	if !ok {
		return "", "", false
	}
	key, value, ok = strings.Cut(rest, ": ")
	if !ok || strings.ContainsAny(key, " \t") {
		return "", "", false
	}
	return key, value, true
}

// parseResult parses one result line; ok is false for anything else.
func parseResult(line string) (result, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 || !strings.HasPrefix(f[0], "Benchmark") {
		return result{}, false
	}
	name, procs := f[0], 1
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if p, err := strconv.Atoi(name[i+1:]); err == nil {
			name, procs = name[:i], p
		}
	}
	iters, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return result{}, false
	}
	res := result{Name: name, Procs: procs, Iters: iters}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return result{}, false
		}
		res.Metrics = append(res.Metrics, metric{Unit: f[i+1], Value: v})
	}
	return res, true
}
