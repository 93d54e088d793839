package functions_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/executor"
)

// example is one function: its name and how to build it.
type example struct {
	name string
	lang string // "c" or "go"
}

var examples = []example{
	{"hello", "c"},
	{"sha256", "c"},
	{"wordfreq", "go"},
	{"csvagg", "go"},
	{"thumbnail", "go"},
}

// repoRoot is the module root, from this package's directory.
const repoRoot = "../.."

// loadModules returns the wasm of every example: build/examples/NAME.wasm
// when `make examples` built it from the current sources, else a fresh build
// into a temp dir (clang for C, GOOS=wasip1 go build for Go).
func loadModules(t *testing.T) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	mods := map[string][]byte{}
	for _, ex := range examples {
		src := filepath.Join("..", "functions", ex.name)
		built := filepath.Join(repoRoot, "build", "examples", ex.name+".wasm")
		if upToDate(t, built, src) {
			b, err := os.ReadFile(built)
			if err != nil {
				t.Fatal(err)
			}
			mods[ex.name] = b
			continue
		}
		out := filepath.Join(dir, ex.name+".wasm")
		var cmd *exec.Cmd
		switch ex.lang {
		case "c":
			clang := requireTool(t, "clang")
			cmd = exec.Command(clang, "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-s",
				"-o", out, filepath.Join(src, ex.name+".c"))
		case "go":
			cmd = exec.Command(requireTool(t, "go"), "build", "-trimpath", "-o", out, "./"+ex.name)
			cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		}
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", ex.name, err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		mods[ex.name] = b
	}
	return mods
}

// upToDate reports whether built exists and is newer than every file in src.
func upToDate(t *testing.T, built, src string) bool {
	st, err := os.Stat(built)
	if err != nil {
		return false
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || info.ModTime().After(st.ModTime()) {
			return false
		}
	}
	return true
}

// requireTool finds a build tool; without it the test is skipped, except in
// CI, where make test's prerequisites install it.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found; run .ci/install-wasm-tools.sh", name)
		}
		t.Skipf("%s not found (run `make examples`, which installs it)", name)
	}
	return p
}

// runner runs example modules through one executor.
type runner struct {
	t    *testing.T
	ex   *executor.Executor
	mods map[string][]byte
}

// run runs module name and fails the test on a sandbox error; the guest's
// exit code is in the result.
func (r *runner) run(name string, spec executor.Spec) *executor.Result {
	r.t.Helper()
	res, err := r.try(name, spec)
	if err != nil {
		r.t.Fatalf("%s: %v", name, err)
	}
	return res
}

func (r *runner) try(name string, spec executor.Spec) (*executor.Result, error) {
	spec.Module = r.mods[name]
	spec.Deterministic = true
	if spec.OutDir == "" {
		spec.OutDir = r.t.TempDir()
	}
	if spec.Limits.Timeout == 0 {
		// Generous: the Go modules' first run includes their compile on a
		// shared 2-core machine.
		spec.Limits.Timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return r.ex.Run(ctx, spec)
}

func TestFunctions(t *testing.T) {
	mods := loadModules(t)
	ex, err := executor.New(executor.WithMaxConcurrent(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ex.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	r := &runner{t: t, ex: ex, mods: mods}
	t.Run("hello", func(t *testing.T) { testHello(t, r) })
	t.Run("sha256", func(t *testing.T) { testSHA256(t, r) })
	t.Run("wordfreq", func(t *testing.T) { testWordfreq(t, r) })
	t.Run("csvagg", func(t *testing.T) { testCSVAgg(t, r) })
	t.Run("thumbnail", func(t *testing.T) { testThumbnail(t, r) })
	t.Run("deterministic", func(t *testing.T) { testDeterministic(t, r) })
	t.Run("jobs", func(t *testing.T) { testJobs(t, r) })
}

func testHello(t *testing.T, r *runner) {
	r.t = t
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, nil, "Hello, world! (from a WebAssembly sandbox)\n"},
		{[]string{"Ada"}, nil, "Hello, Ada! (from a WebAssembly sandbox)\n"},
		{[]string{"Ada"}, map[string]string{"GREETING": "Bonjour"}, "Bonjour, Ada! (from a WebAssembly sandbox)\n"},
	}
	for _, tc := range tests {
		res := r.run("hello", executor.Spec{Args: tc.args, Env: tc.env})
		if res.ExitCode != 0 || string(res.Stdout) != tc.want || len(res.Stderr) != 0 {
			t.Errorf("hello %v %v: exit %d stdout %q stderr %q, want %q", tc.args, tc.env, res.ExitCode, res.Stdout, res.Stderr, tc.want)
		}
	}
}

// testSHA256 checks the guest's digest against Go's crypto/sha256 on sizes
// around the 64-byte block and the 56-byte padding edge, on 3 MiB of random
// data, and on files in a mounted directory.
func testSHA256(t *testing.T, r *runner) {
	r.t = t
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	for _, n := range []int{0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 65536, 3 << 20} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		sum := sha256.Sum256(data)
		want := hex.EncodeToString(sum[:]) + "  -\n"
		res := r.run("sha256", executor.Spec{Stdin: bytes.NewReader(data)})
		if res.ExitCode != 0 || string(res.Stdout) != want {
			t.Errorf("%d bytes: exit %d stdout %q, want %q", n, res.ExitCode, res.Stdout, want)
		}
	}

	in := t.TempDir()
	files := map[string]string{"a.txt": "alpha\n", "b.txt": strings.Repeat("beta ", 1000)}
	var want strings.Builder
	for _, name := range []string{"a.txt", "b.txt"} {
		if err := os.WriteFile(filepath.Join(in, name), []byte(files[name]), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(files[name]))
		fmt.Fprintf(&want, "%x  /data/%s\n", sum, name)
	}
	mount := []executor.Mount{{HostPath: in, GuestPath: "/data"}}
	res := r.run("sha256", executor.Spec{Args: []string{"/data/a.txt", "/data/b.txt"}, Mounts: mount})
	if res.ExitCode != 0 || string(res.Stdout) != want.String() {
		t.Errorf("files: exit %d stdout %q, want %q", res.ExitCode, res.Stdout, want.String())
	}
	res = r.run("sha256", executor.Spec{Args: []string{"/data/missing.txt"}, Mounts: mount})
	if res.ExitCode != 1 || !strings.HasPrefix(string(res.Stderr), "sha256: /data/missing.txt: ") {
		t.Errorf("missing file: exit %d stderr %q", res.ExitCode, res.Stderr)
	}
}

func testWordfreq(t *testing.T, r *runner) {
	r.t = t
	text := "The cat and the hat. THE CAT's hat; don't 'tis\nnaïve Naïve 42 42 42 the\n"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-n", "3"}, "      4 the\n      3 42\n      2 hat\n"},
		{nil, "      4 the\n      3 42\n      2 hat\n      2 naïve\n      1 and\n      1 cat\n      1 cat's\n      1 don't\n      1 tis\n"},
	}
	for _, tc := range tests {
		res := r.run("wordfreq", executor.Spec{Args: tc.args, Stdin: strings.NewReader(text)})
		if res.ExitCode != 0 || string(res.Stdout) != tc.want {
			t.Errorf("wordfreq %v: exit %d stdout %q stderr %q, want %q", tc.args, res.ExitCode, res.Stdout, res.Stderr, tc.want)
		}
	}

	// A bigger text with known counts: word i appears i times, shuffled.
	var words []string
	for i := 1; i <= 300; i++ {
		for range i {
			words = append(words, fmt.Sprintf("w%03d", i))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	res := r.run("wordfreq", executor.Spec{Args: []string{"-n", "3"}, Stdin: strings.NewReader(strings.Join(words, " "))})
	if want := "    300 w300\n    299 w299\n    298 w298\n"; string(res.Stdout) != want {
		t.Errorf("known counts: stdout %q, want %q", res.Stdout, want)
	}

	res = r.run("wordfreq", executor.Spec{Args: []string{"-n", "-1"}})
	if res.ExitCode != 2 {
		t.Errorf("-n -1: exit %d, want 2", res.ExitCode)
	}
}

// testCSVAgg runs the data job the way a client would: the sales directory
// mounted read-only, the report written to /out and compared with a report
// checked by hand.
func testCSVAgg(t *testing.T, r *runner) {
	r.t = t
	golden, err := os.ReadFile("testdata/sales-report.csv")
	if err != nil {
		t.Fatal(err)
	}
	sales, err := filepath.Abs(filepath.Join(repoRoot, "examples", "data", "sales"))
	if err != nil {
		t.Fatal(err)
	}
	mount := []executor.Mount{{HostPath: sales, GuestPath: "/data"}}

	out := t.TempDir()
	res := r.run("csvagg", executor.Spec{
		Args:   []string{"-by", "region", "-sum", "units,revenue", "/data"},
		Mounts: mount,
		OutDir: out,
	})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d stderr %q", res.ExitCode, res.Stderr)
	}
	got, err := os.ReadFile(filepath.Join(out, "report.csv"))
	if err != nil || !bytes.Equal(got, golden) {
		t.Errorf("/out/report.csv (err %v):\n%s\nwant:\n%s", err, got, golden)
	}
	if len(res.OutFiles) != 1 || res.OutFiles[0] != "report.csv" {
		t.Errorf("out files %v", res.OutFiles)
	}
	if !strings.Contains(string(res.Stdout), "wrote /out/report.csv: 4 groups from 14 rows") {
		t.Errorf("stdout %q", res.Stdout)
	}

	// stdin in, report on stdout.
	q1, err := os.ReadFile(filepath.Join(sales, "2026-q1.csv"))
	if err != nil {
		t.Fatal(err)
	}
	res = r.run("csvagg", executor.Spec{
		Args:  []string{"-by", "product", "-sum", "revenue", "-out", "-"},
		Stdin: bytes.NewReader(q1),
	})
	wantCSV := "product,rows,revenue_sum,revenue_avg,revenue_min,revenue_max\n" +
		"gadget,2,599.88,299.94,149.97,449.91\n" +
		"gizmo,1,899.00,899.00,899.00,899.00\n" +
		"widget,5,1439.52,287.90,119.96,599.80\n"
	if res.ExitCode != 0 || !strings.HasSuffix(string(res.Stdout), wantCSV) {
		t.Errorf("stdin: exit %d stdout %q", res.ExitCode, res.Stdout)
	}

	fails := []struct {
		name   string
		args   []string
		stdin  string
		stderr string
	}{
		{"no such column", []string{"-by", "city", "/data"}, "", "csvagg: /data/2026-q1.csv: no column \"city\""},
		{"not a number", []string{"-by", "a", "-sum", "b"}, "a,b\nx,1\nx,lots\n", "csvagg: stdin:3: column \"b\": \"lots\" is not a number"},
		{"ragged row", []string{"-by", "a"}, "a,b\nx,1,2\n", "csvagg: stdin: record on line 2: wrong number of fields"},
		{"empty input", []string{"-by", "a"}, "", "csvagg: stdin: empty, want a header row"},
		{"missing -by", nil, "", "usage: csvagg"},
	}
	for _, tc := range fails {
		res := r.run("csvagg", executor.Spec{Args: tc.args, Stdin: strings.NewReader(tc.stdin), Mounts: mount})
		if res.ExitCode == 0 || !strings.HasPrefix(string(res.Stderr), tc.stderr) {
			t.Errorf("%s: exit %d stderr %q, want prefix %q", tc.name, res.ExitCode, res.Stderr, tc.stderr)
		}
	}
}

// testThumbnail shrinks a two-color PNG and a PPM and checks size and colors.
func testThumbnail(t *testing.T, r *runner) {
	r.t = t
	// 64×48: left half red, right half blue.
	src := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			c := color.RGBA{255, 0, 0, 255}
			if x >= 32 {
				c = color.RGBA{0, 0, 255, 255}
			}
			src.SetRGBA(x, y, c)
		}
	}
	in := t.TempDir()
	var buf bytes.Buffer
	if err := png.Encode(&buf, src); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "img.png"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	res := r.run("thumbnail", executor.Spec{
		Args:   []string{"-width", "16", "-gray", "/in/img.png"},
		Mounts: []executor.Mount{{HostPath: in, GuestPath: "/in"}},
		OutDir: out,
		Limits: executor.Limits{Memory: 128 * executor.MiB},
	})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d stderr %q", res.ExitCode, res.Stderr)
	}
	if want := "/in/img.png: png 64x48 -> 16x12 gray, wrote /out/thumb.png"; !strings.HasPrefix(string(res.Stderr), want) {
		t.Errorf("stderr %q, want prefix %q", res.Stderr, want)
	}
	img := decodePNG(t, filepath.Join(out, "thumb.png"))
	g, ok := img.(*image.Gray)
	if !ok || g.Bounds() != image.Rect(0, 0, 16, 12) {
		t.Fatalf("thumb is %T %v, want 16x12 gray", img, img.Bounds())
	}
	// BT.601 luma of pure red and pure blue, as color.GrayModel computes it.
	red := color.GrayModel.Convert(color.RGBA{255, 0, 0, 255}).(color.Gray).Y
	blue := color.GrayModel.Convert(color.RGBA{0, 0, 255, 255}).(color.Gray).Y
	if l, rr := g.GrayAt(0, 0).Y, g.GrayAt(15, 11).Y; l != red || rr != blue {
		t.Errorf("gray values %d, %d, want %d (red), %d (blue)", l, rr, red, blue)
	}

	// A 4×2 PPM on stdin (P3: the ASCII variant), halved, in color.
	ppm := "P3\n# a comment\n4 2\n255\n" +
		"255 0 0  255 0 0  0 0 255  0 0 255\n" +
		"255 0 0  255 0 0  0 0 255  0 0 255\n"
	out = t.TempDir()
	res = r.run("thumbnail", executor.Spec{Args: []string{"-width", "2"}, Stdin: strings.NewReader(ppm), OutDir: out})
	if res.ExitCode != 0 {
		t.Fatalf("ppm: exit %d stderr %q", res.ExitCode, res.Stderr)
	}
	img = decodePNG(t, filepath.Join(out, "thumb.png"))
	if img.Bounds() != image.Rect(0, 0, 2, 1) {
		t.Fatalf("ppm thumb %v, want 2x1", img.Bounds())
	}
	if c0, c1 := color.RGBAModel.Convert(img.At(0, 0)), color.RGBAModel.Convert(img.At(1, 0)); c0 != (color.RGBA{255, 0, 0, 255}) || c1 != (color.RGBA{0, 0, 255, 255}) {
		t.Errorf("ppm colors %v %v", c0, c1)
	}

	// Garbage and a lying PPM header fail cleanly.
	for _, bad := range []string{"not an image", "P6\n99999 99999\n255\n", "P3\n2 1\n255\n1 2 3 4 5\n"} {
		res, err := r.try("thumbnail", executor.Spec{Stdin: strings.NewReader(bad), Limits: executor.Limits{Memory: 128 * executor.MiB}})
		if err != nil || res.ExitCode != 1 || !strings.HasPrefix(string(res.Stderr), "thumbnail: ") {
			t.Errorf("input %q: err %v, result %+v", bad, err, res)
		}
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// testDeterministic: the same job twice gives byte-identical output, which
// is what lets two providers' results be compared.
func testDeterministic(t *testing.T, r *runner) {
	r.t = t
	sales, _ := filepath.Abs(filepath.Join(repoRoot, "examples", "data", "sales"))
	var first []byte
	for i := range 2 {
		out := t.TempDir()
		res := r.run("csvagg", executor.Spec{
			Args:   []string{"-by", "product", "-sum", "revenue", "/data"},
			Mounts: []executor.Mount{{HostPath: sales, GuestPath: "/data"}},
			OutDir: out,
		})
		report, err := os.ReadFile(filepath.Join(out, "report.csv"))
		if err != nil {
			t.Fatal(err)
		}
		got := append(res.Stdout, report...)
		if i == 0 {
			first = got
		} else if !bytes.Equal(first, got) {
			t.Errorf("second run differs:\n%s\nfirst:\n%s", got, first)
		}
	}
}
