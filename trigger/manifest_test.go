package trigger

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/market/wire"
)

const testCID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"

// manifestDir makes a temp dir holding fn.wasm and inbox/, with the
// manifest text written as cloudless.yaml; it returns the manifest path.
func manifestDir(t testing.TB, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fn.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "inbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "cloudless.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseManifest(t *testing.T) {
	text := `version: 1
functions:
  thumb:
    module: ./fn.wasm
    args: [-width, "64"]
    env: {MODE: fast}
    resources: {memory: 64MiB, timeout: 5s, max_output: 8MiB}
    price: {max: "0.0001 ether", daily: "0.01 ether"}
    pay: escrow
    deterministic: false
    triggers:
      - http: /thumb/
        methods: [get, POST]
      - cron: "*/5 * * * *"
      - cron: "@every 30s"
      - watch: ./inbox
      - topic: uploads
  byhash:
    module: ` + testCID + `
    local: true
    triggers: [{http: /}]
`
	p := manifestDir(t, text)
	fns, err := ParseManifest(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 2 {
		t.Fatalf("%d functions", len(fns))
	}
	f := fns[0]
	dir := filepath.Dir(p)
	if f.Name != "thumb" || f.Source != "./fn.wasm" || f.Module != filepath.Join(dir, "fn.wasm") || f.Line != 3 || f.File != p {
		t.Errorf("thumb: %+v", f)
	}
	if strings.Join(f.Args, " ") != "-width 64" || f.Env["MODE"] != "fast" || f.PayMode != wire.PayEscrow || f.Deterministic || f.Local {
		t.Errorf("thumb fields: %+v", f)
	}
	if f.Resources.Memory != 64<<20 || f.Resources.Timeout.D() != 5*time.Second || f.Resources.MaxOutput != 8<<20 {
		t.Errorf("resources %+v", f.Resources)
	}
	if f.MaxPrice.String() != "100000000000000" || f.DailyCap.String() != "10000000000000000" {
		t.Errorf("price %v %v", f.MaxPrice, f.DailyCap)
	}
	want := []Trigger{
		{Kind: KindHTTP, Route: "/thumb", Methods: []string{"GET", "POST"}},
		{Kind: KindCron, Schedule: "*/5 * * * *"},
		{Kind: KindCron, Schedule: "@every 30s"},
		{Kind: KindWatch, Dir: filepath.Join(dir, "inbox")},
		{Kind: KindTopic, Topic: "uploads"},
	}
	if len(f.Triggers) != len(want) {
		t.Fatalf("triggers %+v", f.Triggers)
	}
	for i, w := range want {
		g := f.Triggers[i]
		if g.Kind != w.Kind || g.Route != w.Route || strings.Join(g.Methods, ",") != strings.Join(w.Methods, ",") || g.Schedule != w.Schedule || g.Dir != w.Dir || g.Topic != w.Topic {
			t.Errorf("trigger %d = %+v, want %+v", i, g, w)
		}
	}
	b := fns[1]
	if b.Module != testCID || !b.Local || b.MaxPrice != nil || !b.Deterministic || b.PayMode != wire.PayChannel ||
		b.Resources.Memory != DefaultFnMemory || b.Resources.Timeout != DefaultFnTimeout || b.Triggers[0].Route != "/" {
		t.Errorf("byhash: %+v", b)
	}
}

func TestParseManifestErrors(t *testing.T) {
	const fnHead = "functions:\n  f:\n    module: ./fn.wasm\n"
	const price = "    price: {max: 1 gwei, daily: 1 ether}\n"
	const trig = "    triggers: [{http: /f}]\n"
	tests := []struct {
		name, text string
		line       int
		want       string
	}{
		{"empty", "", 1, "empty"},
		{"bad yaml", "functions:\n  f: [\n", 2, "invalid YAML"},
		{"two documents", fnHead + price + trig + "---\nx: 1\n", 6, "more than one YAML document"},
		{"unknown top key", "versoin: 1\n" + fnHead + price + trig, 1, `unknown key "versoin" in the manifest: use one of version, functions`},
		{"bad version", "version: 2\n" + fnHead + price + trig, 1, "version"},
		{"no functions", "version: 1\n", 1, "functions is missing"},
		{"functions not a map", "functions: [a]\n", 1, "must be a mapping"},
		{"bad name", "functions:\n  'a b':\n    module: ./fn.wasm\n", 2, "function name"},
		{"duplicate function", fnHead + price + trig + "  f:\n    module: ./fn.wasm\n", 6, "defined twice (first on line 2)"},
		{"unknown fn key", fnHead + price + trig + "    memory: 1MiB\n", 6, `unknown key "memory" in functions.f`},
		{"missing module", "functions:\n  f:\n" + price + trig, 2, "functions.f.module is missing"},
		{"module not found", "functions:\n  f:\n    module: ./nope.wasm\n" + price + trig, 3, "not found"},
		{"module neither", "functions:\n  f:\n    module: nope\n" + price + trig, 3, "neither a file nor a valid CID"},
		{"module dir", "functions:\n  f:\n    module: ./inbox\n" + price + trig, 3, "is not a file"},
		{"price missing", fnHead + trig, 2, `functions.f.price is missing: add price: {max: "0.001 ether"`},
		{"price max missing", fnHead + "    price: {daily: 1 ether}\n" + trig, 4, "functions.f.price.max is missing"},
		{"price daily missing", fnHead + "    price: {max: 1 gwei}\n" + trig, 4, "functions.f.price.daily is missing"},
		{"price bad", fnHead + "    price: {max: 1 dollar, daily: 1 ether}\n" + trig, 4, "not a positive amount"},
		{"price zero", fnHead + "    price: {max: '0', daily: 1 ether}\n" + trig, 4, "not a positive amount"},
		{"daily under max", fnHead + "    price: {max: 1 ether, daily: 1 gwei}\n" + trig, 4, "less than price.max"},
		{"unknown price key", fnHead + "    price: {max: 1 gwei, daily: 1 ether, min: 1}\n" + trig, 4, `unknown key "min"`},
		{"bad memory", fnHead + price + trig + "    resources: {memory: lots}\n", 6, "not a size"},
		{"bad timeout", fnHead + price + trig + "    resources: {timeout: 5 parsecs}\n", 6, "not a positive duration"},
		{"zero timeout", fnHead + price + trig + "    resources: {timeout: 0s}\n", 6, "not a positive duration"},
		{"bad max_output", fnHead + price + trig + "    resources: {max_output: -1}\n", 6, "not a size"},
		{"unknown resource", fnHead + price + trig + "    resources: {cpu: 2}\n", 6, `unknown key "cpu"`},
		{"bad local", fnHead + price + trig + "    local: maybe\n", 6, "must be true or false"},
		{"bad pay", fnHead + price + trig + "    pay: cash\n", 6, "not a pay mode"},
		{"args not list", fnHead + price + trig + "    args: -n\n", 6, "args must be a list"},
		{"env too big", fnHead + price + trig + "    env: {A: " + strings.Repeat("a", 4000) + ", B: " + strings.Repeat("b", 4000) + ", C: " + strings.Repeat("c", 4000) + ", D: " + strings.Repeat("d", 4000) + ", E: " + strings.Repeat("e", 4000) + "}\n", 6, "at most 16384"},
		{"env bad name", fnHead + price + trig + "    env: {'A=B': x}\n", 6, "bad variable name"},
		{"no triggers", fnHead + price, 2, "triggers is missing"},
		{"empty triggers", fnHead + price + "    triggers: []\n", 5, "non-empty list"},
		{"trigger scalar", fnHead + price + "    triggers: [http]\n", 5, "must be one of"},
		{"unknown trigger", fnHead + price + "    triggers: [{queue: x}]\n", 5, `unknown key "queue"`},
		{"two kinds", fnHead + price + "    triggers: [{http: /a, cron: '@hourly'}]\n", 5, "has both"},
		{"methods on cron", fnHead + price + "    triggers: [{cron: '@hourly', methods: [GET]}]\n", 5, "methods applies only to http"},
		{"bad method", fnHead + price + "    triggers: [{http: /a, methods: [FETCH]}]\n", 5, "not an HTTP method"},
		{"route no slash", fnHead + price + "    triggers: [{http: thumb}]\n", 5, "must start with /"},
		{"route dotdot", fnHead + price + "    triggers: [{http: /a/../b}]\n", 5, "must start with /"},
		{"route twice", fnHead + price + "    triggers: [{http: /a}, {http: /a/}]\n", 5, "given twice"},
		{"route duplicate", fnHead + price + "    triggers: [{http: /a}]\n  g:\n    module: ./fn.wasm\n    local: true\n    triggers: [{http: /a}]\n", 6, "already used by function f"},
		{"bad cron", fnHead + price + "    triggers: [{cron: '61 * * * *'}]\n", 5, "bad cron expression"},
		{"cron six fields", fnHead + price + "    triggers: [{cron: '0 0 * * * *'}]\n", 5, "bad cron expression"},
		{"cron every fast", fnHead + price + "    triggers: [{cron: '@every 10ms'}]\n", 5, "at least 1s"},
		{"cron bad descriptor", fnHead + price + "    triggers: [{cron: '@fortnightly'}]\n", 5, "bad cron expression"},
		{"watch missing", fnHead + price + "    triggers: [{watch: ./nope}]\n", 5, "does not exist"},
		{"watch file", fnHead + price + "    triggers: [{watch: ./fn.wasm}]\n", 5, "not a directory"},
		{"bad topic", fnHead + price + "    triggers: [{topic: Up Loads}]\n", 5, "not a valid name"},
		{"alias", "x: &a 1\n" + fnHead, 1, "anchors and aliases"},
		{"null module", "functions:\n  f:\n    module:\n" + price + trig, 3, "must be a single value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := manifestDir(t, tc.text)
			fns, err := ParseManifest(p)
			if err == nil {
				t.Fatalf("accepted: %+v", fns)
			}
			if fns != nil {
				t.Errorf("functions returned with an error")
			}
			msg := err.Error()
			var me *ManifestError
			if !errors.Is(err, ErrBadManifest) || !errors.As(err, &me) || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error %q is not one line matching ErrBadManifest", msg)
			}
			if me.Line != tc.line || !strings.HasPrefix(msg, p+":") {
				t.Errorf("error %q at line %d, want line %d", msg, me.Line, tc.line)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not say %q", msg, tc.want)
			}
			// The fix follows the last colon-separated part.
			if parts := strings.Split(msg, ": "); len(parts) < 3 {
				t.Errorf("error %q lacks what/fix parts", msg)
			}
		})
	}
}

func TestParseManifestFile(t *testing.T) {
	_, err := ParseManifest(filepath.Join(t.TempDir(), "cloudless.yaml"))
	if !errors.Is(err, ErrBadManifest) || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	big := manifestDir(t, "x: "+strings.Repeat("a", MaxManifestSize)+"\n")
	if _, err := ParseManifest(big); !errors.Is(err, ErrBadManifest) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge file: %v", err)
	}
}

// FuzzParseManifest: any bytes give functions or a one-line error
// wrapping ErrBadManifest, never a panic.
func FuzzParseManifest(f *testing.F) {
	for _, s := range []string{
		"version: 1\nfunctions:\n  f:\n    module: " + testCID + "\n    local: true\n    triggers: [{http: /f}, {cron: '@every 1m'}, {topic: t}]\n",
		"functions:\n  f:\n    module: " + testCID + "\n    price: {max: 1 gwei, daily: 1 ether}\n    triggers:\n      - http: /a\n        methods: [GET]\n",
		"functions: {f: {module: x}}",
		"a: &x [*x]",
		"functions:\n  f: [\n",
		"- - - -",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fns, err := ParseManifestBytes("fuzz.yaml", b)
		if err != nil {
			if !errors.Is(err, ErrBadManifest) || strings.ContainsAny(err.Error(), "\r\n") || fns != nil {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		for _, fn := range fns {
			if fn.Module == "" || len(fn.Triggers) == 0 || (!fn.Local && (fn.MaxPrice == nil || fn.DailyCap == nil)) {
				t.Fatalf("accepted an incomplete function %+v", fn)
			}
		}
	})
}

// TestExampleManifest: examples/cloudless.yaml (what `make demo` deploys)
// is valid.
func TestExampleManifest(t *testing.T) {
	p := filepath.Join("..", "examples", "cloudless.yaml")
	if _, err := os.Stat(filepath.Join("..", "build", "examples", "markdown.wasm")); err != nil {
		t.Skip("build/examples/markdown.wasm not built (make examples)")
	}
	fns, err := ParseManifest(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 2 || fns[0].Name != "markdown" || fns[0].Local || fns[0].Triggers[0].Route != "/markdown" ||
		!fns[1].Local || fns[1].Triggers[0].Route != "/local/markdown" {
		t.Errorf("functions %+v", fns)
	}
}
