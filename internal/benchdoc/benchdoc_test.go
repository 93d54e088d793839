package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseResult(t *testing.T) {
	for _, tc := range []struct {
		line  string
		ok    bool
		name  string
		procs int
		iters int64
		units []string
	}{
		{"BenchmarkScale/N=100-2   20   123 ns/op   4.5 result-p50-ms", true, "BenchmarkScale/N=100", 2, 20, []string{"ns/op", "result-p50-ms"}},
		{"BenchmarkX   1   9 ns/op", true, "BenchmarkX", 1, 1, []string{"ns/op"}},
		{"BenchmarkSHA256/native-gcc-8 3 30 ns/op", true, "BenchmarkSHA256/native-gcc", 8, 3, []string{"ns/op"}},
		{"BenchmarkX-2   x   9 ns/op", false, "", 0, 0, nil},                 // iterations not a number
		{"BenchmarkX-2   1   9 ns/op  7", false, "", 0, 0, nil},              // odd field count
		{"BenchmarkX-2   1   nine ns/op", false, "", 0, 0, nil},              // value not a number
		{"    bench_test.go:30: BenchmarkX 1 2 ns/op", false, "", 0, 0, nil}, // a log line
		{"PASS", false, "", 0, 0, nil},
	} {
		r, ok := parseResult(tc.line)
		if ok != tc.ok {
			t.Errorf("%q: ok %v, want %v", tc.line, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if r.Name != tc.name || r.Procs != tc.procs || r.Iters != tc.iters || len(r.Metrics) != len(tc.units) {
			t.Errorf("%q: got %+v", tc.line, r)
			continue
		}
		for i, u := range tc.units {
			if r.Metrics[i].Unit != u {
				t.Errorf("%q: metric %d unit %q, want %q", tc.line, i, r.Metrics[i].Unit, u)
			}
		}
	}
}

func TestConvert(t *testing.T) {
	for _, tc := range []struct {
		unit string
		v    float64
		du   string
		want float64
	}{
		{"ns/op", 15e6, "ms", 15},
		{"p50-ns", 48000, "µs", 48},
		{"compile-ns/op", 175e6, "ms", 175},
		{"result-p50-ms", 12.5, "ms", 12.5},
		{"setup-s", 2, "ms", 2000},
		{"jobs/s", 320, "jobs/s", 320},
		{"msgs/node/job", 7, "msgs", 7},
	} {
		got, ok := convert(tc.unit, tc.v, tc.du)
		if !ok || got != tc.want {
			t.Errorf("convert(%q, %v, %q) = %v, %v; want %v", tc.unit, tc.v, tc.du, got, ok, tc.want)
		}
	}
}

func TestGenerate(t *testing.T) {
	base := t.TempDir()
	out := filepath.Join(base, "docs", "benchmarks.md")
	pages := filepath.Join(base, "docs", "benchmarks")
	if err := os.MkdirAll(pages, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pages, "scale.md"), []byte("# Scale benchmarks\n\ntext\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := generate("testdata", out, pages, false); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		"**Machine:**",
		"(AMD EPYC 7B13)",
		// p50-ms preferred over ns/op; goal met; ratio to Bacalhau's 630 ms.
		"| warm time to result, channel payment (p50) | **12.5 ms** | ≤ 20 ms: **met** | Bacalhau ≈ 630 ms, no-op job | 0.0198× (50.4× better) |",
		// ns/op converted when there is no percentile.
		"| warm time to result, escrow payment (p50) | **427 ms** |",
		"| jobs per second through one provider, small functions | **320 jobs/s** | ≥ 500/s: **missed** | Bacalhau ≈ 16 no-op jobs/s | 20.0× (20.0× better) |",
		// An anchor measured in the same run.
		"| sha256 of 64 MiB in the sandbox | **800 ms** | ≤ 2× native | same C source built natively, same run (300 ms) | 2.67× (2.67× worse) |",
		"| start of a trivial module from a cached compile (p50) | **48.0 µs** | ≤ 1 ms: **met** |",
		// Missing figures say so.
		"| idle provider daemon RSS | not measured in this run |",
		// Commands with their environment, and the run's header.
		"`CLOUDLESS_X=1 go test ./market -run XXX -bench BenchmarkJobToResult -benchtime=20x`",
		"exit status 1",
		"[Scale benchmarks](benchmarks/scale.md)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if testing.Verbose() {
		t.Log(page)
	}
}

func TestGenerateCheck(t *testing.T) {
	out := filepath.Join(t.TempDir(), "b.md")
	// The executor run in testdata exited 1.
	if err := generate("testdata", out, t.TempDir(), true); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("check of a failed run: %v", err)
	}
	// No runs at all.
	if err := generate(t.TempDir(), out, t.TempDir(), true); err == nil || !strings.Contains(err.Error(), "no benchmark results") {
		t.Fatalf("check of no runs: %v", err)
	}
	// A directory that cannot be listed is an error, not an empty page.
	if err := generate("testdata/[", out, t.TempDir(), false); err == nil {
		t.Fatal("bad glob: no error")
	}
}

func TestRatioAndNum(t *testing.T) {
	if got := ratioText(0.5, false); got != "0.5× (2.00× better)" {
		t.Errorf("ratio lower-better: %q", got)
	}
	if got := ratioText(2, true); got != "2.00× (2.00× better)" {
		t.Errorf("ratio higher-better: %q", got)
	}
	if got := ratioText(0, true); got != "" {
		t.Errorf("ratio 0: %q", got)
	}
	if got := num(1234567); got != "1,234,567" {
		t.Errorf("num: %q", got)
	}
}
