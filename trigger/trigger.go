package trigger

import (
	"context"
	"math/big"
	"time"

	"github.com/cloudless-network/cloudless/market/wire"
)

// This file is the contract between the trigger parts (manifest, gateway,
// cron, watch, topic, the service that registers functions) and the node
// that wires them: the types every part shares.

// Trigger kinds, as written in the manifest.
const (
	KindHTTP  = "http"
	KindCron  = "cron"
	KindWatch = "watch"
	KindTopic = "topic"
)

// TopicPrefix is the gossipsub topic prefix of topic triggers: a trigger
// on topic "uploads" listens on /cloudless/events/1/uploads.
const TopicPrefix = "/cloudless/events/1/"

// Function is one deployed function: what to run, what it may cost and
// what makes it run. The manifest yields them with Module possibly a host
// path; Deploy replaces a path by the CID it published.
type Function struct {
	Name string `json:"name"`
	// Module is the CID of the .wasm once deployed. Source is what the
	// manifest said (a path relative to the manifest, or the CID itself).
	Module string `json:"module"`
	Source string `json:"source"`

	Args []string          `json:"args,omitempty"`
	Env  map[string]string `json:"env,omitempty"`
	// Resources are the job limits of every invocation.
	Resources wire.Resources `json:"resources"`
	// MaxPrice caps one invocation (wei); DailyCap caps the sum of the
	// prices paid in one UTC day (wei). Both are required unless Local.
	MaxPrice *big.Int `json:"max_price"`
	DailyCap *big.Int `json:"daily_cap"`
	// Local runs on the daemon's own executor, never the market.
	Local bool `json:"local,omitempty"`
	// PayMode of market invocations: channel (default) or escrow.
	PayMode wire.PayMode `json:"pay_mode,omitempty"`
	// Deterministic mode of the sandbox (default true, as for jobs).
	Deterministic bool `json:"deterministic"`

	Triggers []Trigger `json:"triggers"`

	// Deployed is when this version was registered; File and Line locate
	// its definition in the manifest (for messages).
	Deployed time.Time `json:"deployed"`
	File     string    `json:"file,omitempty"`
	Line     int       `json:"line,omitempty"`
}

// Trigger is one thing that makes a function run. Exactly one of the
// kind-specific fields is set, matching Kind.
type Trigger struct {
	Kind string `json:"kind"`
	// HTTP: Route is a path prefix on the gateway ("/thumb"); Methods
	// limits the methods (empty: all).
	Route   string   `json:"route,omitempty"`
	Methods []string `json:"methods,omitempty"`
	// Cron: a five-field expression or a descriptor (@hourly, @every 30s).
	Schedule string `json:"schedule,omitempty"`
	// Watch: a host directory (absolute after manifest parsing).
	Dir string `json:"dir,omitempty"`
	// Topic: the name under TopicPrefix.
	Topic string `json:"topic,omitempty"`
}

// Invocation is one run of a function asked for by a trigger.
type Invocation struct {
	// Trigger is the kind that fired (KindHTTP, ...); Detail says which
	// ("GET /thumb/x", "@every 30s", the new file's path, the peer).
	Trigger string
	Detail  string
	// Args are appended to the function's args; Env is merged over its env
	// (the gateway puts the CGI variables here).
	Args []string
	Env  map[string]string
	// Stdin is the body given to the function (HTTP request body, topic
	// message). StdinCID is an alternative already in IPFS.
	Stdin    []byte
	StdinCID string
	// Inputs are mounted read-only (watch: the new file's CID).
	Inputs []wire.Input
	// StdoutOnly says the caller uses only stdout (the gateway: a CGI
	// function answers there), so a local run gets no /out directory
	// (executor.Spec.NoOut: no temp dir made and removed per run). A
	// market run ignores it: the provider's result is a directory anyway.
	StdoutOnly bool
}

// Output is what one invocation produced.
type Output struct {
	// JobID is the market or local job ID (every invocation is a job).
	JobID string
	// Provider is the peer that ran it ("local" for the daemon's executor).
	Provider string
	ExitCode int32
	Stdout   []byte
	Stderr   []byte
	// ResultCID is the output directory's CID when the run stored one.
	ResultCID string
	// Price paid in wei (zero when local).
	Price *big.Int
	// Duration is the time from invocation to output, as seen by the caller.
	Duration time.Duration
}

// Invoker runs one invocation of a function, on the market or locally.
// It returns an error only when the function did not run to an exit code
// (no provider, sandbox stop, deadline, payment refused); the error's text
// is one line a caller can be shown.
type Invoker interface {
	Invoke(ctx context.Context, fn *Function, inv Invocation) (*Output, error)
}

// Dispatcher is what the triggers fire into: the Service, which resolves
// functions, enforces the spending caps, records every invocation (logs)
// and calls the Invoker.
type Dispatcher interface {
	// Route returns the function whose HTTP trigger matches method and
	// path (longest route prefix wins), and the route that matched.
	Route(method, path string) (fn *Function, route string, ok bool)
	// Invoke runs fn once. Errors wrap ErrOverBudget when the daily cap
	// would be passed, ErrNoFunction when fn was removed meanwhile.
	Invoke(ctx context.Context, fn *Function, inv Invocation) (*Output, error)
}
