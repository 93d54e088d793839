package trigger

import (
	"bytes"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/cloudless-network/cloudless/market/wire"
)

// DefaultManifest is the manifest `cloudless deploy` reads without -f.
const DefaultManifest = "cloudless.yaml"

// maxFnEnvBytes caps a function's own env: with the CGI variables of a
// request it must fit a signed job request (wire.MaxJobSize).
const maxFnEnvBytes = 16 << 10

// MaxManifestSize caps a manifest file.
const MaxManifestSize = 1 << 20

// Defaults of a function's resources when the manifest leaves them out:
// an HTTP handler is small and quick, unlike a batch job.
const (
	DefaultFnMemory    = wire.Size(128 << 20)
	DefaultFnTimeout   = wire.Duration(10 * time.Second)
	DefaultFnMaxOutput = wire.Size(8 << 20)
)

var (
	fnNameRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	topicNameRE = regexp.MustCompile(`^[a-z0-9._-]{1,64}$`)
	routeRE     = regexp.MustCompile(`^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$`)
	httpMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
	// cronParser reads five-field expressions and descriptors (@hourly,
	// @every 30s), as robfig/cron/v3's standard parser.
	cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
)

// Keys a manifest may use, in the order the messages list them.
var (
	topKeys      = []string{"version", "functions"}
	functionKeys = []string{"module", "args", "env", "resources", "price", "local", "pay", "deterministic", "triggers"}
	resKeys      = []string{"memory", "timeout", "max_output"}
	priceKeys    = []string{"max", "daily"}
	triggerKinds = []string{KindHTTP, KindCron, KindWatch, KindTopic}
)

// ParseManifest reads and checks a manifest file (see ParseManifestBytes).
// Module paths and watch directories are relative to the manifest's
// directory.
func ParseManifest(path string) ([]Function, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &ManifestError{File: path, Line: 0, Msg: unwrapPathErr(err).Error() + ": give the manifest with -f FILE"}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxManifestSize+1))
	if err != nil {
		return nil, &ManifestError{File: path, Msg: err.Error()}
	}
	return ParseManifestBytes(path, data)
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// ParseManifestBytes checks a manifest and returns its functions in the
// order written. file names the manifest in messages and anchors relative
// paths (its directory). The schema, strictly (unknown keys are refused):
//
//	version: 1
//	functions:
//	  thumb:
//	    module: ./thumb.wasm          # a path (relative to the manifest) or a CID
//	    args: [-width, "64"]
//	    env: {MODE: fast}
//	    resources: {memory: 64MiB, timeout: 5s, max_output: 8MiB}
//	    price: {max: "0.0001 ether", daily: "0.01 ether"}   # required unless local
//	    local: false                  # true: the daemon's own executor, no market
//	    pay: channel                  # or escrow
//	    deterministic: true
//	    triggers:
//	      - http: /thumb              # or {http: /thumb, methods: [GET, POST]}
//	      - cron: "*/5 * * * *"       # five fields, or @hourly, @every 30s
//	      - watch: ./inbox            # a directory, relative to the manifest
//	      - topic: uploads            # gossip topic /cloudless/events/1/uploads
//
// Returned functions have Source as written, Module the CID or the
// absolute module path, Dir of watch triggers absolute, File and Line set.
//
// # Errors
//
// One line wrapping ErrBadManifest: "FILE:LINE: what is wrong: how to fix
// it". Nothing is returned with an error.
func ParseManifestBytes(file string, data []byte) ([]Function, error) {
	p := &mparser{file: file, base: filepath.Dir(file)}
	if abs, err := filepath.Abs(p.base); err == nil {
		p.base = abs
	}
	fns, err := p.parse(data)
	if err != nil {
		return nil, err
	}
	return fns, nil
}

type mparser struct {
	file string
	base string
}

// ManifestError is a refused manifest: Error() is one line,
// "FILE:LINE: what is wrong: how to fix it". It matches ErrBadManifest.
type ManifestError struct {
	File string
	Line int
	Msg  string
}

func (e *ManifestError) Error() string {
	if e.Line <= 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Is matches ErrBadManifest.
func (e *ManifestError) Is(target error) bool { return target == ErrBadManifest }

// errAt makes the one-line manifest error.
func (p *mparser) errAt(line int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	msg = strings.NewReplacer("\r", " ", "\n", " ").Replace(msg)
	return &ManifestError{File: p.file, Line: line, Msg: msg}
}

func (p *mparser) parse(data []byte) ([]Function, error) {
	if len(data) > MaxManifestSize {
		return nil, p.errAt(1, "the manifest is larger than %d bytes: split it or trim it", MaxManifestSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, p.errAt(1, "the manifest is empty: add version: 1 and a functions: mapping")
		}
		return nil, p.yamlErr(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		line := extra.Line
		if err != nil {
			return nil, p.yamlErr(err)
		}
		return nil, p.errAt(line, "more than one YAML document: keep one (remove the ---)")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, p.errAt(1, "the manifest is empty: add version: 1 and a functions: mapping")
	}
	if err := p.noAliases(doc.Content[0], 0); err != nil {
		return nil, err
	}
	top, err := p.mapping(doc.Content[0], "the manifest", topKeys)
	if err != nil {
		return nil, err
	}
	if v, ok := top["version"]; ok {
		if v.val.Kind != yaml.ScalarNode || v.val.Value != "1" {
			return nil, p.errAt(v.val.Line, "version %s is not supported: write version: 1", p.show(v.val))
		}
	}
	fnsKV, ok := top["functions"]
	if !ok {
		return nil, p.errAt(doc.Content[0].Line, "functions is missing: add functions: {NAME: {module: ./fn.wasm, ...}}")
	}
	if fnsKV.val.Kind != yaml.MappingNode || len(fnsKV.val.Content) == 0 {
		return nil, p.errAt(fnsKV.val.Line, "functions must be a mapping of names to functions: add functions: {NAME: {module: ./fn.wasm, ...}}")
	}
	var fns []Function
	seen := map[string]int{}
	routes := map[string]string{}
	for i := 0; i+1 < len(fnsKV.val.Content); i += 2 {
		k, v := fnsKV.val.Content[i], fnsKV.val.Content[i+1]
		if k.Kind != yaml.ScalarNode || !fnNameRE.MatchString(k.Value) {
			return nil, p.errAt(k.Line, "function name %s is not valid: use letters, digits, - and _ (at most 64)", p.show(k))
		}
		if first, dup := seen[k.Value]; dup {
			return nil, p.errAt(k.Line, "function %s is defined twice (first on line %d): rename or remove one", k.Value, first)
		}
		seen[k.Value] = k.Line
		fn, err := p.function(k, v)
		if err != nil {
			return nil, err
		}
		for _, tr := range fn.Triggers {
			if tr.Kind != KindHTTP {
				continue
			}
			if other, dup := routes[tr.Route]; dup {
				return nil, p.errAt(fn.Line, "functions.%s: http route %s is already used by function %s: give each function its own route", fn.Name, tr.Route, other)
			}
			routes[tr.Route] = fn.Name
		}
		fns = append(fns, fn)
	}
	return fns, nil
}

// yamlErr turns a yaml.v3 error ("yaml: line 3: ...") into one line.
func (p *mparser) yamlErr(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if strings.HasPrefix(msg, "line ") {
		var n int
		if _, e := fmt.Sscanf(msg, "line %d:", &n); e == nil && n > 0 {
			line = n
			_, msg, _ = strings.Cut(msg, ": ")
		}
	}
	return p.errAt(line, "invalid YAML: %s: fix the syntax (indent with spaces, quote values with ':' or '#')", msg)
}

// noAliases refuses anchors and aliases (they can make a small file
// expand enormously, and a manifest has no need of them) and deep nesting.
func (p *mparser) noAliases(n *yaml.Node, depth int) error {
	if depth > 32 {
		return p.errAt(n.Line, "the manifest is nested too deeply: flatten it")
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return p.errAt(n.Line, "YAML anchors and aliases are not supported: write the value out")
	}
	for _, c := range n.Content {
		if err := p.noAliases(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

type kv struct{ key, val *yaml.Node }

// mapping reads a mapping node, refusing unknown and repeated keys.
func (p *mparser) mapping(n *yaml.Node, where string, allowed []string) (map[string]kv, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errAt(n.Line, "%s must be a mapping (key: value lines), not %s: write it as {%s: ...}", where, p.show(n), allowed[0])
	}
	out := make(map[string]kv, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, p.errAt(k.Line, "%s has a key that is not a plain name: use one of %s", where, strings.Join(allowed, ", "))
		}
		if !slices.Contains(allowed, k.Value) {
			return nil, p.errAt(k.Line, "unknown key %s in %s: use one of %s", p.show(k), where, strings.Join(allowed, ", "))
		}
		if _, dup := out[k.Value]; dup {
			return nil, p.errAt(k.Line, "%s.%s is given twice: keep one", where, k.Value)
		}
		out[k.Value] = kv{k, v}
	}
	return out, nil
}

// show quotes a node's value for a message (clipped, one line).
func (p *mparser) show(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 48 {
			v = v[:48] + "..."
		}
		return fmt.Sprintf("%q", v)
	}
	return "an empty value"
}

// scalar requires a string-ish scalar.
func (p *mparser) scalar(n *yaml.Node, where, fix string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", p.errAt(n.Line, "%s must be a single value, not %s: %s", where, p.show(n), fix)
	}
	return n.Value, nil
}

func (p *mparser) boolean(n *yaml.Node, where string) (bool, error) {
	if n.Kind == yaml.ScalarNode {
		var b bool
		if n.Tag == "!!bool" && n.Decode(&b) == nil {
			return b, nil
		}
	}
	return false, p.errAt(n.Line, "%s must be true or false, not %s: write %s: true", where, p.show(n), where[strings.LastIndexByte(where, '.')+1:])
}

func (p *mparser) function(k, v *yaml.Node) (Function, error) {
	name := k.Value
	where := "functions." + name
	fn := Function{Name: name, File: p.file, Line: k.Line, Deterministic: true, PayMode: wire.PayChannel,
		Resources: wire.Resources{Memory: DefaultFnMemory, Timeout: DefaultFnTimeout, MaxOutput: DefaultFnMaxOutput}}
	m, err := p.mapping(v, where, functionKeys)
	if err != nil {
		return fn, err
	}
	if n, ok := m["local"]; ok {
		if fn.Local, err = p.boolean(n.val, where+".local"); err != nil {
			return fn, err
		}
	}
	if n, ok := m["deterministic"]; ok {
		if fn.Deterministic, err = p.boolean(n.val, where+".deterministic"); err != nil {
			return fn, err
		}
	}
	// module
	mod, ok := m["module"]
	if !ok {
		return fn, p.errAt(k.Line, "%s.module is missing: add module: ./%s.wasm (a path relative to the manifest, or a CID)", where, name)
	}
	src, err := p.scalar(mod.val, where+".module", "write module: ./fn.wasm or a CID")
	if err != nil {
		return fn, err
	}
	fn.Source = src
	if fn.Module, err = p.module(mod.val, where, src); err != nil {
		return fn, err
	}
	// args
	if n, ok := m["args"]; ok {
		if n.val.Kind != yaml.SequenceNode {
			return fn, p.errAt(n.val.Line, "%s.args must be a list, not %s: write args: [-n, \"3\"]", where, p.show(n.val))
		}
		if len(n.val.Content) > wire.MaxArgs {
			return fn, p.errAt(n.val.Line, "%s.args has %d arguments, at most %d: pass fewer", where, len(n.val.Content), wire.MaxArgs)
		}
		for i, a := range n.val.Content {
			s, err := p.scalar(a, fmt.Sprintf("%s.args[%d]", where, i), "quote it")
			if err != nil {
				return fn, err
			}
			if len(s) > wire.MaxArgLen || strings.ContainsRune(s, 0) {
				return fn, p.errAt(a.Line, "%s.args[%d] is longer than %d bytes or has a NUL: shorten it", where, i, wire.MaxArgLen)
			}
			fn.Args = append(fn.Args, s)
		}
	}
	// env
	if n, ok := m["env"]; ok {
		if n.val.Kind != yaml.MappingNode {
			return fn, p.errAt(n.val.Line, "%s.env must be a mapping, not %s: write env: {NAME: value}", where, p.show(n.val))
		}
		fn.Env = map[string]string{}
		for i := 0; i+1 < len(n.val.Content); i += 2 {
			ek, ev := n.val.Content[i], n.val.Content[i+1]
			if ek.Kind != yaml.ScalarNode || ek.Value == "" || strings.ContainsAny(ek.Value, "=\x00 ") {
				return fn, p.errAt(ek.Line, "%s.env has a bad variable name %s: use letters, digits and _", where, p.show(ek))
			}
			if _, dup := fn.Env[ek.Value]; dup {
				return fn, p.errAt(ek.Line, "%s.env.%s is given twice: keep one", where, ek.Value)
			}
			val, err := p.scalar(ev, where+".env."+ek.Value, "quote the value")
			if err != nil {
				return fn, err
			}
			if len(ek.Value)+len(val) > wire.MaxEnvLen || strings.ContainsRune(val, 0) {
				return fn, p.errAt(ev.Line, "%s.env.%s is longer than %d bytes or has a NUL: shorten it", where, ek.Value, wire.MaxEnvLen)
			}
			fn.Env[ek.Value] = val
		}
		total := 0
		for k, v := range fn.Env {
			total += len(k) + len(v)
		}
		if total > maxFnEnvBytes {
			return fn, p.errAt(n.val.Line, "%s.env is %d bytes, at most %d (a job request carries it with the HTTP request): pass less, or put data in an input", where, total, maxFnEnvBytes)
		}
		if len(fn.Env) > wire.MaxEnv/2 {
			return fn, p.errAt(n.val.Line, "%s.env has %d variables, at most %d (the rest is for the request): pass fewer", where, len(fn.Env), wire.MaxEnv/2)
		}
	}
	// resources
	if n, ok := m["resources"]; ok {
		if err := p.resources(n.val, where+".resources", &fn.Resources); err != nil {
			return fn, err
		}
	}
	// price
	if err := p.price(k, m, where, &fn); err != nil {
		return fn, err
	}
	// pay
	if n, ok := m["pay"]; ok {
		s, err := p.scalar(n.val, where+".pay", "write pay: channel")
		if err != nil {
			return fn, err
		}
		switch wire.PayMode(s) {
		case wire.PayChannel, wire.PayEscrow:
			fn.PayMode = wire.PayMode(s)
		default:
			return fn, p.errAt(n.val.Line, "%s.pay %q is not a pay mode: write pay: channel (or escrow)", where, clip([]byte(s)))
		}
	}
	// triggers
	tn, ok := m["triggers"]
	if !ok {
		return fn, p.errAt(k.Line, "%s.triggers is missing: add triggers: [{http: /%s}] (or cron, watch, topic)", where, name)
	}
	if tn.val.Kind != yaml.SequenceNode || len(tn.val.Content) == 0 {
		return fn, p.errAt(tn.val.Line, "%s.triggers must be a non-empty list: write triggers: [{http: /%s}]", where, name)
	}
	for i, t := range tn.val.Content {
		tr, err := p.trigger(t, fmt.Sprintf("%s.triggers[%d]", where, i))
		if err != nil {
			return fn, err
		}
		for _, prev := range fn.Triggers {
			if prev.Kind == KindHTTP && tr.Kind == KindHTTP && prev.Route == tr.Route {
				return fn, p.errAt(t.Line, "%s: http route %s is given twice: keep one (list methods: [GET, POST] instead)", where, tr.Route)
			}
		}
		fn.Triggers = append(fn.Triggers, tr)
	}
	return fn, nil
}

// module resolves a module: a CID as is, else a path relative to the
// manifest that must be an existing file.
func (p *mparser) module(n *yaml.Node, where, src string) (string, error) {
	if src == "" {
		return "", p.errAt(n.Line, "%s.module is empty: write module: ./fn.wasm or a CID", where)
	}
	looksPath := strings.ContainsAny(src, `/\`) || strings.HasSuffix(src, ".wasm") || strings.HasPrefix(src, ".")
	if !looksPath {
		if len(src) <= wire.MaxCIDLen {
			if _, err := cid.Decode(src); err == nil {
				return src, nil
			}
		}
	}
	path := src
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.base, path)
	}
	st, err := os.Stat(path)
	switch {
	case err == nil && st.Mode().IsRegular():
		return path, nil
	case err == nil:
		return "", p.errAt(n.Line, "%s.module %s is not a file: name the .wasm file", where, p.show(n))
	case !looksPath:
		return "", p.errAt(n.Line, "%s.module %s is neither a file nor a valid CID: give a path like ./fn.wasm (relative to %s) or the CID from `cloudless publish`", where, p.show(n), filepath.Base(p.file))
	default:
		return "", p.errAt(n.Line, "%s.module %s not found (looked at %s): build it first or fix the path (relative to the manifest)", where, p.show(n), path)
	}
}

func (p *mparser) resources(n *yaml.Node, where string, r *wire.Resources) error {
	m, err := p.mapping(n, where, resKeys)
	if err != nil {
		return err
	}
	if v, ok := m["memory"]; ok {
		s, err := p.scalar(v.val, where+".memory", "write memory: 64MiB")
		if err != nil {
			return err
		}
		sz, err := wire.ParseSize(s)
		if err != nil || sz == 0 {
			return p.errAt(v.val.Line, "%s.memory %s is not a size: write memory: 64MiB", where, p.show(v.val))
		}
		r.Memory = sz
	}
	if v, ok := m["timeout"]; ok {
		s, err := p.scalar(v.val, where+".timeout", "write timeout: 5s")
		if err != nil {
			return err
		}
		d, err := wire.ParseDuration(s)
		if err != nil || d <= 0 {
			return p.errAt(v.val.Line, "%s.timeout %s is not a positive duration: write timeout: 5s", where, p.show(v.val))
		}
		r.Timeout = d
	}
	if v, ok := m["max_output"]; ok {
		s, err := p.scalar(v.val, where+".max_output", "write max_output: 8MiB")
		if err != nil {
			return err
		}
		sz, err := wire.ParseSize(s)
		if err != nil || sz == 0 {
			return p.errAt(v.val.Line, "%s.max_output %s is not a size: write max_output: 8MiB", where, p.show(v.val))
		}
		r.MaxOutput = sz
	}
	return nil
}

// price reads price.max and price.daily; both are required unless local.
func (p *mparser) price(k *yaml.Node, m map[string]kv, where string, fn *Function) error {
	fix := `add price: {max: "0.001 ether", daily: "0.1 ether"} (or local: true)`
	n, ok := m["price"]
	if !ok {
		if fn.Local {
			return nil
		}
		return p.errAt(k.Line, "%s.price is missing: %s", where, fix)
	}
	pm, err := p.mapping(n.val, where+".price", priceKeys)
	if err != nil {
		return err
	}
	amount := func(key, example string) (*big.Int, error) {
		v, ok := pm[key]
		if !ok {
			if fn.Local {
				return nil, nil
			}
			return nil, p.errAt(n.key.Line, "%s.price.%s is missing: %s", where, key, fix)
		}
		s, err := p.scalar(v.val, where+".price."+key, fmt.Sprintf("write %s: %q", key, example))
		if err != nil {
			return nil, err
		}
		w, err := wire.ParseWei(s)
		if err != nil || w.Sign() <= 0 {
			return nil, p.errAt(v.val.Line, "%s.price.%s %s is not a positive amount: write %s: %q (wei, gwei or ether)", where, key, p.show(v.val), key, example)
		}
		return w, nil
	}
	if fn.MaxPrice, err = amount("max", "0.001 ether"); err != nil {
		return err
	}
	if fn.DailyCap, err = amount("daily", "0.1 ether"); err != nil {
		return err
	}
	if fn.MaxPrice != nil && fn.DailyCap != nil && fn.DailyCap.Cmp(fn.MaxPrice) < 0 {
		return p.errAt(pm["daily"].val.Line, "%s.price.daily (%s) is less than price.max (%s), so no invocation could run: raise daily or lower max",
			where, wire.FormatWei(fn.DailyCap), wire.FormatWei(fn.MaxPrice))
	}
	return nil
}

// trigger reads one list item: {http: /route[, methods: [...]]},
// {cron: EXPR}, {watch: DIR} or {topic: NAME}.
func (p *mparser) trigger(n *yaml.Node, where string) (Trigger, error) {
	if n.Kind != yaml.MappingNode {
		return Trigger{}, p.errAt(n.Line, "%s must be one of http: /route, cron: \"*/5 * * * *\", watch: ./dir, topic: name, not %s", where, p.show(n))
	}
	m, err := p.mapping(n, where, append(slices.Clone(triggerKinds), "methods"))
	if err != nil {
		return Trigger{}, err
	}
	var kind string
	for _, k := range triggerKinds {
		if _, ok := m[k]; ok {
			if kind != "" {
				return Trigger{}, p.errAt(n.Line, "%s has both %s and %s: write one trigger per list item", where, kind, k)
			}
			kind = k
		}
	}
	if kind == "" {
		return Trigger{}, p.errAt(n.Line, "%s names no trigger: use one of http, cron, watch, topic", where)
	}
	if mk, ok := m["methods"]; ok && kind != KindHTTP {
		return Trigger{}, p.errAt(mk.key.Line, "%s: methods applies only to http triggers: remove it", where)
	}
	v := m[kind].val
	val, err := p.scalar(v, where+"."+kind, "write a single value")
	if err != nil {
		return Trigger{}, err
	}
	tr := Trigger{Kind: kind}
	switch kind {
	case KindHTTP:
		r := val
		if len(r) > 1 {
			r = strings.TrimRight(r, "/")
		}
		if len(r) > 256 || !routeRE.MatchString(r) || strings.Contains(r, "//") || strings.Contains(r, "/../") || strings.HasSuffix(r, "/..") {
			return Trigger{}, p.errAt(v.Line, "%s: route %s must start with / and be a plain path: write http: /%s", where, p.show(v), strings.Trim(clip([]byte(val)), "/ "))
		}
		tr.Route = r
		if mk, ok := m["methods"]; ok {
			if mk.val.Kind != yaml.SequenceNode || len(mk.val.Content) == 0 {
				return Trigger{}, p.errAt(mk.val.Line, "%s.methods must be a non-empty list: write methods: [GET, POST]", where)
			}
			for _, mn := range mk.val.Content {
				s, err := p.scalar(mn, where+".methods", "write methods: [GET, POST]")
				if err != nil {
					return Trigger{}, err
				}
				s = strings.ToUpper(s)
				if !slices.Contains(httpMethods, s) {
					return Trigger{}, p.errAt(mn.Line, "%s.methods: %s is not an HTTP method: use %s", where, p.show(mn), strings.Join(httpMethods, ", "))
				}
				if !slices.Contains(tr.Methods, s) {
					tr.Methods = append(tr.Methods, s)
				}
			}
		}
	case KindCron:
		if err := checkCron(val); err != nil {
			return Trigger{}, p.errAt(v.Line, "%s: bad cron expression %s: %v: write five fields like \"*/5 * * * *\" or @hourly, @every 30s", where, p.show(v), err)
		}
		tr.Schedule = strings.TrimSpace(val)
	case KindWatch:
		dir := val
		if dir == "" {
			return Trigger{}, p.errAt(v.Line, "%s: watch directory is empty: write watch: ./inbox", where)
		}
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(p.base, dir)
		}
		dir = filepath.Clean(dir)
		st, err := os.Stat(dir)
		if err != nil {
			return Trigger{}, p.errAt(v.Line, "%s: watch directory %s does not exist (looked at %s): create it (mkdir -p %s)", where, p.show(v), dir, dir)
		}
		if !st.IsDir() {
			return Trigger{}, p.errAt(v.Line, "%s: watch %s is not a directory: name a directory", where, p.show(v))
		}
		tr.Dir = dir
	case KindTopic:
		if !topicNameRE.MatchString(val) {
			return Trigger{}, p.errAt(v.Line, "%s: topic %s is not a valid name: use 1-64 of a-z, 0-9, '.', '_', '-' (it becomes %sNAME)", where, p.show(v), TopicPrefix)
		}
		tr.Topic = val
	}
	return tr, nil
}

// checkCron validates a schedule with robfig/cron/v3's parser (five
// fields or a descriptor); @every must be at least one second.
func checkCron(expr string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unparseable (%v)", r)
		}
	}()
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return fmt.Errorf("empty")
	}
	if len(expr) > 256 {
		return fmt.Errorf("longer than 256 bytes")
	}
	if rest, ok := strings.CutPrefix(expr, "@every "); ok {
		d, perr := time.ParseDuration(strings.TrimSpace(rest))
		if perr != nil || d < time.Second {
			return fmt.Errorf("@every needs a duration of at least 1s")
		}
	}
	if _, err := cronParser.Parse(expr); err != nil {
		return err
	}
	return nil
}
