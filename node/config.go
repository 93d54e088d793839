package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cloudless-network/cloudless/market/wire"
)

// DefaultAPIAddr is where the control API listens unless configured
// otherwise: loopback only, port 5080.
const DefaultAPIAddr = "127.0.0.1:5080"

// EnvPrefix starts every environment variable that overrides a config key:
// the key's YAML path in upper case joined by "_", e.g. api.addr is
// CLOUDLESS_API_ADDR and chain.rpc is CLOUDLESS_CHAIN_RPC. List values are
// comma separated.
const EnvPrefix = "CLOUDLESS_"

// Config is a node's configuration: config.yaml in the repo, then
// CLOUDLESS_* environment overrides, then command-line flags.
type Config struct {
	// Listen are the libp2p listen multiaddrs.
	Listen []string `yaml:"listen" json:"listen"`
	// Bootstrap are multiaddrs (with /p2p/ID) of peers dialed at start.
	Bootstrap []string `yaml:"bootstrap" json:"bootstrap"`
	// MDNS enables local-network peer discovery.
	MDNS bool `yaml:"mdns" json:"mdns"`
	// RelayService makes this node a circuit relay v2 for others (needs a
	// public address).
	RelayService bool `yaml:"relay_service" json:"relay_service"`
	// NAT turns on AutoNAT, UPnP port mapping, the relay client and hole
	// punching. Off for loopback-only dev repos.
	NAT bool `yaml:"nat" json:"nat"`
	// DHT is the Kademlia mode: auto (server when publicly reachable),
	// server or client.
	DHT string `yaml:"dht" json:"dht"`

	API     APIConfig     `yaml:"api" json:"api"`
	Provide ProvideConfig `yaml:"provide" json:"provide"`
	Storage StorageConfig `yaml:"storage" json:"storage"`
	Chain   ChainConfig   `yaml:"chain" json:"chain"`
	Market  MarketConfig  `yaml:"market" json:"market"`
	Log     LogConfig     `yaml:"log" json:"log"`
	// Gateway is HOST:PORT of the serverless functions' HTTP gateway
	// (WAGI); empty means off. Port 0 picks a free port (GET /v1/functions
	// reports the real one).
	Gateway string `yaml:"gateway" json:"gateway"`
}

// APIConfig configures the control API.
type APIConfig struct {
	// Addr is HOST:PORT; port 0 picks a free port (the real one is written
	// to the repo's api file).
	Addr string `yaml:"addr" json:"addr"`
	// AllowRemote permits a non-loopback Addr. The API is then reachable
	// by anyone who can reach the port and holds the token, over plain
	// HTTP: put TLS in front of it.
	AllowRemote bool `yaml:"allow_remote" json:"allow_remote"`
	// PublicMetrics serves /metrics without the bearer token.
	PublicMetrics bool `yaml:"public_metrics" json:"public_metrics"`
}

// ProvideConfig is what a provider sells and at what price.
type ProvideConfig struct {
	// Enabled sells capacity (same as `cloudless node --provide`).
	Enabled bool `yaml:"enabled" json:"enabled"`
	// PricePerJob is the flat price of one job.
	PricePerJob Wei `yaml:"price_per_job" json:"price_per_job"`
	// PricePerSecond is the price of one second of run time per memory
	// tier (MemoryTier bytes of guest memory, rounded up).
	PricePerSecond Wei `yaml:"price_per_second" json:"price_per_second"`
	// MemoryTier is the memory unit PricePerSecond is charged for.
	MemoryTier ByteSize `yaml:"memory_tier" json:"memory_tier"`
	// MaxConcurrent is how many jobs run at once.
	MaxConcurrent int `yaml:"max_concurrent" json:"max_concurrent"`
	// Memory is the total guest memory sold across running jobs.
	Memory ByteSize `yaml:"memory" json:"memory"`
	// MaxJobDuration caps a single job's wall-clock time.
	MaxJobDuration Duration `yaml:"max_job_duration" json:"max_job_duration"`
	// PayoutAddress receives earnings; empty means the node's own address.
	PayoutAddress string `yaml:"payout_address" json:"payout_address"`
}

// StorageConfig configures the embedded IPFS store.
type StorageConfig struct {
	// CacheSize caps the blocks kept for modules and inputs of jobs run;
	// what the user published or pinned is never collected.
	CacheSize ByteSize `yaml:"cache_size" json:"cache_size"`
}

// ChainConfig points at the settlement chain. Both empty means: read the
// repo's chain.json (written by `cloudless devnet`), and if there is none,
// run without settlement.
type ChainConfig struct {
	RPC      string `yaml:"rpc" json:"rpc"`
	Contract string `yaml:"contract" json:"contract"`
}

// MarketConfig is the buying side's escrow policy (market.ClientConfig).
type MarketConfig struct {
	// ResultMargin is added to a job's timeout (and the provider's expected
	// start) to make an escrow deal's deadline, after which a silent
	// provider's escrow is refunded; 0 means the default, 60 s.
	ResultMargin Duration `yaml:"result_margin" json:"result_margin"`
	// ChallengeWindow of escrow deals: how long a submitted result can be
	// disputed before the provider may claim; 0 means the default, 60 s.
	ChallengeWindow Duration `yaml:"challenge_window" json:"challenge_window"`
	// Mediator is the peer ID of the mediator this node names in the
	// escrow deals it buys (its address is derived from the peer ID); a
	// disputed deal's case is brought to it over the network
	// (/cloudless/mediate/1.0.0). Empty: no mediator, so a wrong result
	// cannot be disputed, only not accepted (the provider claims it).
	Mediator string `yaml:"mediator" json:"mediator"`
	// MediatorFee goes with each deal that names the mediator: locked
	// with the price, paid to the mediator if it rules, refunded if not.
	MediatorFee Wei `yaml:"mediator_fee" json:"mediator_fee"`
	// Mediators (peer IDs) a providing node accepts in the deals it sells;
	// it brings a disputed deal's case to the one the deal names. A deal
	// naming any other mediator is refused.
	Mediators []string `yaml:"mediators" json:"mediators"`
	// Mediate makes this node a mediator: it serves
	// /cloudless/mediate/1.0.0, re-runs the deterministic job of a
	// disputed deal that names it and rules on chain, for the deal's fee.
	Mediate bool `yaml:"mediate" json:"mediate"`
}

// LogConfig configures log/slog output.
type LogConfig struct {
	Level  string `yaml:"level" json:"level"`
	Format string `yaml:"format" json:"format"`
}

// DefaultConfig returns the configuration `cloudless init` writes. dev
// picks port 0 for every listener (any free port), for several nodes on one
// machine.
func DefaultConfig(dev bool) Config {
	c := Config{
		Listen:    []string{"/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1"},
		Bootstrap: []string{},
		MDNS:      true,
		NAT:       true,
		DHT:       "auto",
		API:       APIConfig{Addr: DefaultAPIAddr},
		Provide: ProvideConfig{
			PricePerJob:    MustWei("10000000000000"), // 10 µether
			PricePerSecond: MustWei("1000000000000"),  // 1 µether
			MemoryTier:     64 << 20,
			MaxConcurrent:  2,
			Memory:         1 << 30,
			MaxJobDuration: Duration(5 * time.Minute),
		},
		Storage: StorageConfig{CacheSize: 10 << 30},
		Market:  MarketConfig{ResultMargin: Duration(time.Minute), ChallengeWindow: Duration(time.Minute), MediatorFee: MustWei("0"), Mediators: []string{}},
		Log:     LogConfig{Level: "info", Format: "text"},
	}
	if dev {
		c.Listen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
		c.API.Addr = "127.0.0.1:0"
		c.NAT = false
		c.DHT = "server"
	}
	return c
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	if len(c.Listen) == 0 {
		return fmt.Errorf("%w: listen: at least one multiaddr is needed", ErrConfig)
	}
	switch c.DHT {
	case "auto", "server", "client":
	default:
		return fmt.Errorf("%w: dht %q: want auto, server or client", ErrConfig, c.DHT)
	}
	host, _, err := net.SplitHostPort(c.API.Addr)
	if err != nil {
		return fmt.Errorf("%w: api.addr %q: want HOST:PORT", ErrConfig, c.API.Addr)
	}
	if !c.API.AllowRemote && !isLoopbackHost(host) {
		return fmt.Errorf("%w: api.addr %q is not a loopback address; pass --api-allow-remote (or api.allow_remote: true) to expose the control API", ErrRemoteAPI, c.API.Addr)
	}
	if c.Gateway != "" {
		if _, _, err := net.SplitHostPort(c.Gateway); err != nil {
			return fmt.Errorf("%w: gateway %q: want HOST:PORT such as 127.0.0.1:8080 (or empty for no gateway)", ErrConfig, c.Gateway)
		}
	}
	if c.Provide.MaxConcurrent < 1 {
		return fmt.Errorf("%w: provide.max_concurrent must be at least 1", ErrConfig)
	}
	if c.Provide.MemoryTier <= 0 {
		return fmt.Errorf("%w: provide.memory_tier must be positive", ErrConfig)
	}
	if c.Provide.MaxJobDuration <= 0 {
		return fmt.Errorf("%w: provide.max_job_duration must be positive", ErrConfig)
	}
	if a := c.Provide.PayoutAddress; a != "" && !ethAddrRE.MatchString(a) {
		return fmt.Errorf("%w: provide.payout_address %q is not a 0x-prefixed 20-byte hex address", ErrConfig, a)
	}
	if c.Market.ResultMargin < 0 || c.Market.ChallengeWindow < 0 {
		return fmt.Errorf("%w: market.result_margin and market.challenge_window must not be negative", ErrConfig)
	}
	if err := c.Market.validateMediation(); err != nil {
		return err
	}
	if a := c.Chain.Contract; a != "" && !ethAddrRE.MatchString(a) {
		return fmt.Errorf("%w: chain.contract %q is not a 0x-prefixed 20-byte hex address", ErrConfig, a)
	}
	if (c.Chain.RPC == "") != (c.Chain.Contract == "") {
		return fmt.Errorf("%w: chain.rpc and chain.contract go together (set both, or neither to use the repo's chain.json)", ErrConfig)
	}
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("%w: log.level %q: want debug, info, warn or error", ErrConfig, c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("%w: log.format %q: want text or json", ErrConfig, c.Log.Format)
	}
	return nil
}

var ethAddrRE = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// LoadConfig reads the config file at path strictly (an unknown key or a
// value of the wrong type is an error naming the file and line), then
// applies CLOUDLESS_* overrides looked up with getenv (nil means
// os.Getenv), then validates.
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s not found; create the repo with `cloudless init`", ErrNoRepo, path)
		}
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := ParseConfig(path, data)
	if err != nil {
		return nil, err
	}
	if err := cfg.ApplyEnv(getenv); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// ParseConfig decodes a config file. Keys missing from the file keep their
// default values; unknown keys are errors. name is used in error messages.
func ParseConfig(name string, data []byte) (*Config, error) {
	cfg := DefaultConfig(false)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	return &cfg, nil
}

var yamlLineRE = regexp.MustCompile(`line (\d+): (.*)`)

// yamlError turns yaml.v3's multi-line messages into one line
// "file:LINE: what".
func yamlError(name string, err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		what := m[2]
		if f := regexp.MustCompile(`^field (\S+) not found in type .*`).FindStringSubmatch(what); f != nil {
			what = fmt.Sprintf("unknown key %q", f[1])
		}
		what = strings.ReplaceAll(what, "node.", "")
		return fmt.Errorf("%w: %s:%s: %s", ErrConfig, name, m[1], what)
	}
	return fmt.Errorf("%w: %s: %s", ErrConfig, name, strings.TrimPrefix(msg, "yaml: "))
}

// ApplyEnv overrides config keys from CLOUDLESS_* variables. Each leaf key
// maps to CLOUDLESS_<PATH>, e.g. provide.price_per_job is
// CLOUDLESS_PROVIDE_PRICE_PER_JOB; values are parsed as in the file.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	return applyEnv(reflect.ValueOf(c).Elem(), "", getenv)
}

// EnvKeys lists every environment variable ApplyEnv reads, in file order.
func EnvKeys() []string {
	var keys []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := prefix + strings.ToUpper(yamlName(f))
			if f.Type.Kind() == reflect.Struct && !isScalarType(f.Type) {
				walk(f.Type, name+"_")
				continue
			}
			keys = append(keys, EnvPrefix+name)
		}
	}
	walk(reflect.TypeOf(Config{}), "")
	return keys
}

func yamlName(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	if i := strings.IndexByte(tag, ','); i >= 0 {
		tag = tag[:i]
	}
	if tag == "" {
		return strings.ToLower(f.Name)
	}
	return tag
}

func isScalarType(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem())
}

func applyEnv(v reflect.Value, prefix string, getenv func(string) string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := prefix + strings.ToUpper(yamlName(f))
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct && !isScalarType(f.Type) {
			if err := applyEnv(fv, name+"_", getenv); err != nil {
				return err
			}
			continue
		}
		key := EnvPrefix + name
		val := getenv(key)
		if val == "" {
			continue
		}
		var err error
		if f.Type.Kind() == reflect.Slice {
			parts := []string{}
			for p := range strings.SplitSeq(val, ",") {
				if p = strings.TrimSpace(p); p != "" {
					parts = append(parts, p)
				}
			}
			fv.Set(reflect.ValueOf(parts))
		} else {
			var node yaml.Node
			node.Kind, node.Tag, node.Value = yaml.ScalarNode, "", val
			if f.Type.Kind() == reflect.String {
				node.Tag = "!!str"
			}
			err = node.Decode(fv.Addr().Interface())
		}
		if err != nil {
			// One line, as the CLI prints it: yaml.v3's type errors span
			// lines and repeat the raw value (control characters too), which
			// the message already shows quoted.
			msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "yaml: "), "line 0: ")
			var te *yaml.TypeError
			if errors.As(err, &te) {
				msg = "want a value of type " + f.Type.String()
			}
			return fmt.Errorf("%w: $%s=%q: %v", ErrConfig, key, val, msg)
		}
	}
	return nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (w *Wei) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		s = string(b)
	}
	v, err := ParseWei(s)
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// UnmarshalJSON reads a number of bytes or a size string.
func (b *ByteSize) UnmarshalJSON(data []byte) error {
	s, err := strconv.Unquote(string(data))
	if err != nil {
		s = string(data)
	}
	v, err := ParseByteSize(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(data []byte) error {
	s, err := strconv.Unquote(string(data))
	if err != nil {
		return fmt.Errorf("duration: want a string such as \"5m\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Wei is an amount of ether in wei. In the config it is written as an
// integer number of wei, or as a decimal with a unit: "0.001 ether",
// "10 gwei", "5 wei".
type Wei struct{ big.Int }

// MustWei parses s with ParseWei and panics on error; for constants only.
func MustWei(s string) Wei {
	w, err := ParseWei(s)
	if err != nil {
		panic(err)
	}
	return w
}

// ParseWei parses an amount: integer wei, or "<decimal> wei|gwei|ether"
// (market/wire's rules, shared with job specs).
func ParseWei(s string) (Wei, error) {
	v, err := wire.ParseWei(s)
	if err != nil {
		return Wei{}, err
	}
	var w Wei
	w.Set(v)
	return w, nil
}

// String is the amount in wei.
func (w Wei) String() string { return w.Int.String() }

// UnmarshalYAML implements yaml.Unmarshaler.
func (w *Wei) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: amount: want a scalar", n.Line)
	}
	v, err := ParseWei(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %s", n.Line, strings.TrimPrefix(err.Error(), "wire: "))
	}
	*w = v
	return nil
}

// MarshalYAML writes the amount as a wei string.
func (w Wei) MarshalYAML() (any, error) { return w.String(), nil }

// MarshalJSON writes the amount as a decimal string of wei (JSON numbers
// lose precision beyond 2^53).
func (w Wei) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(w.String())), nil }

// ByteSize is a size in bytes, written "64MiB", "1GiB", "512KiB", "100MB" or a
// plain number of bytes.
type ByteSize int64

// ParseByteSize parses sizes such as "64MiB", "1GB", "4096" (market/wire's
// rules, shared with job specs).
func ParseByteSize(s string) (ByteSize, error) {
	v, err := wire.ParseSize(s)
	if err != nil {
		return 0, err
	}
	if v > 1<<62 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return ByteSize(v), nil
}

// String formats the size with the largest binary unit that divides it.
func (b ByteSize) String() string {
	units := []string{"TiB", "GiB", "MiB", "KiB"}
	for i, u := range units {
		m := int64(1) << (10 * (4 - i))
		if b != 0 && int64(b)%m == 0 {
			return fmt.Sprintf("%d%s", int64(b)/m, u)
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %s (want e.g. 64MiB, 1GiB, 4096)", n.Line, strings.TrimPrefix(err.Error(), "wire: "))
	}
	*b = v
	return nil
}

// MarshalYAML writes the size with its unit.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

// MarshalJSON writes the size as a number of bytes.
func (b ByteSize) MarshalJSON() ([]byte, error) { return []byte(strconv.FormatInt(int64(b), 10)), nil }

// Duration is a time.Duration written as "30s", "5m".
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: duration %q: want e.g. 30s, 5m, 1h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(time.Duration(d).String())), nil
}

// Std returns the time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// configTemplate is the commented config.yaml `cloudless init` writes.
var configTemplate = template.Must(template.New("config").Parse(`# cloudless node configuration.
#
# Precedence: this file < CLOUDLESS_* environment variables < command-line flags.
# Each key maps to an environment variable: its path in upper case joined by
# "_", e.g. api.addr -> CLOUDLESS_API_ADDR, provide.price_per_job ->
# CLOUDLESS_PROVIDE_PRICE_PER_JOB (lists comma separated).
# Unknown keys are an error. ` + "`cloudless config show`" + ` prints the effective config.

# libp2p listen addresses. Port 0 picks a free port; ` + "`cloudless id`" + ` shows the
# real ones while the daemon runs. Open 4001/tcp and 4001/udp for inbound peers.
listen:
{{- range .Listen}}
  - {{printf "%q" .}}
{{- end}}

# Peers dialed at start (multiaddrs ending in /p2p/<peer ID>).
bootstrap:{{if not .Bootstrap}} []{{end}}
{{- range .Bootstrap}}
  - {{printf "%q" .}}
{{- end}}

# Find peers on the local network with mDNS.
mdns: {{.MDNS}}

# Serve as a circuit relay v2 for peers behind NAT (needs a public address).
relay_service: {{.RelayService}}

# NAT traversal: AutoNAT, UPnP port mapping, relay client, hole punching.
nat: {{.NAT}}

# Kademlia DHT mode: auto (server once reachable from outside), server, client.
dht: {{.DHT}}

# Control API (HTTP+JSON) used by the CLI and the dashboard at /ui.
# Default 127.0.0.1:5080. Every request needs the bearer token in the repo's
# api.token file. A non-loopback address also needs allow_remote: true.
api:
  addr: {{printf "%q" .API.Addr}}
  allow_remote: {{.API.AllowRemote}}
  # Serve /metrics (Prometheus) without the token.
  public_metrics: {{.API.PublicMetrics}}

# Selling compute (` + "`cloudless node --provide`" + ` turns it on too).
# Amounts are wei, or a decimal with a unit: "0.001 ether", "10 gwei".
provide:
  enabled: {{.Provide.Enabled}}
  # Flat price of one job.
  price_per_job: {{printf "%q" .Provide.PricePerJob.String}}
  # Price of one second of run time per memory tier (memory rounded up to tiers).
  price_per_second: {{printf "%q" .Provide.PricePerSecond.String}}
  memory_tier: {{.Provide.MemoryTier}}
  # Jobs run at once, and guest memory sold across them.
  max_concurrent: {{.Provide.MaxConcurrent}}
  memory: {{.Provide.Memory}}
  # Longest wall-clock time of one job.
  max_job_duration: {{printf "%s" .Provide.MaxJobDuration.Std}}
  # Address paid for jobs; empty means this node's own address.
  payout_address: {{printf "%q" .Provide.PayoutAddress}}

storage:
  # Room for modules and inputs cached from jobs run; published and pinned
  # content is never collected.
  cache_size: {{.Storage.CacheSize}}

# Settlement chain. Leave both empty to use the repo's chain.json (written by
# ` + "`cloudless devnet`" + `); with neither, the node runs without settlement.
chain:
  rpc: {{printf "%q" .Chain.RPC}}
  contract: {{printf "%q" .Chain.Contract}}

# Escrow deals of jobs this node buys.
market:
  # Added to a job's timeout to make the deal deadline; a provider silent
  # past it is refunded.
  result_margin: {{printf "%s" .Market.ResultMargin.Std}}
  # How long a submitted result can be disputed before the provider claims.
  challenge_window: {{printf "%s" .Market.ChallengeWindow.Std}}
  # Peer ID of the mediator named in this node's escrow deals; a disputed
  # deal's case goes to it over the network and it rules on chain. Empty:
  # no mediator (a wrong result is not accepted, but the provider claims it).
  mediator: {{printf "%q" .Market.Mediator}}
  # Paid to the mediator when it rules (refunded when it does not).
  mediator_fee: {{printf "%q" .Market.MediatorFee.String}}
  # When selling (provide.enabled): peer IDs of the mediators accepted in
  # deals; a deal naming another mediator is refused.
  mediators:{{if not .Market.Mediators}} []{{end}}
{{- range .Market.Mediators}}
    - {{printf "%q" .}}
{{- end}}
  # Serve as a mediator: re-run the deterministic job of a disputed deal
  # that names this node and rule on chain, for the deal's mediator fee.
  mediate: {{.Market.Mediate}}

log:
  # debug, info, warn or error
  level: {{.Log.Level}}
  # text or json
  format: {{.Log.Format}}

# HTTP gateway of deployed functions (` + "`cloudless deploy`" + `): HOST:PORT, e.g.
# "127.0.0.1:8080"; empty is off. Keep it on loopback unless you mean to
# let others spend your money calling your functions.
gateway: {{printf "%q" .Gateway}}
`))

// MarshalCommented renders c as a commented config.yaml.
func (c *Config) MarshalCommented() ([]byte, error) {
	var buf bytes.Buffer
	if err := configTemplate.Execute(&buf, c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
