package node

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigRoundTrip(t *testing.T) {
	for _, dev := range []bool{false, true} {
		want := DefaultConfig(dev)
		data, err := want.MarshalCommented()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseConfig("config.yaml", data)
		if err != nil {
			t.Fatalf("dev=%v: parse own template: %v\n%s", dev, err, data)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("dev=%v: round trip changed config:\n got %+v\nwant %+v", dev, *got, want)
		}
		if err := got.Validate(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "# Control API") {
			t.Fatal("template lost its comments")
		}
	}
}

func writeConfig(t testing.TB, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigStrictErrors(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"unknown top key", "mdns: true\nlisten_addrs: [x]\n", `config.yaml:2: unknown key "listen_addrs"`},
		{"unknown nested key", "api:\n  addr: 127.0.0.1:1\n  port: 5\n", `config.yaml:3: unknown key "port"`},
		{"wrong type", "provide:\n  max_concurrent: lots\n", "config.yaml:2:"},
		{"bad size", "provide:\n  memory: 12 parsecs\n", "config.yaml:2: bad size"},
		{"bad amount", "provide:\n  price_per_job: 1 doge\n", "config.yaml:2: bad amount"},
		{"fractional wei", "provide:\n  price_per_job: \"0.5\"\n", "finer than one wei"},
		{"bad duration", "provide:\n  max_job_duration: forever\n", "config.yaml:2: duration"},
		{"syntax", "api:\n  addr: [\n", "config.yaml:"},
		{"remote api", "api:\n  addr: 0.0.0.0:5080\n", "--api-allow-remote"},
		{"half chain", "chain:\n  rpc: http://x\n", "chain.rpc and chain.contract go together"},
		{"bad payout", "provide:\n  payout_address: 0x12\n", "payout_address"},
		{"bad level", "log:\n  level: loud\n", "log.level"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadConfig(writeConfig(t, c.body), func(string) string { return "" })
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrConfig) && !errors.Is(err, ErrRemoteAPI) {
				t.Fatalf("error %v is not ErrConfig", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestConfigMissing(t *testing.T) {
	_, err := LoadConfig(filepath.Join(t.TempDir(), "config.yaml"), nil)
	if !errors.Is(err, ErrNoRepo) || !strings.Contains(err.Error(), "cloudless init") {
		t.Fatalf("got %v", err)
	}
}

func TestConfigPrecedenceFileEnv(t *testing.T) {
	p := writeConfig(t, "api:\n  addr: 127.0.0.1:7000\nprovide:\n  max_concurrent: 3\n  memory: 2GiB\nlog:\n  level: warn\n")
	env := map[string]string{
		"CLOUDLESS_API_ADDR":                 "127.0.0.1:7001",
		"CLOUDLESS_LISTEN":                   "/ip4/127.0.0.1/tcp/0, /ip4/127.0.0.1/udp/0/quic-v1",
		"CLOUDLESS_PROVIDE_PRICE_PER_JOB":    "0.001 ether",
		"CLOUDLESS_PROVIDE_MAX_JOB_DURATION": "90s",
		"CLOUDLESS_MDNS":                     "false",
		"CLOUDLESS_CHAIN_RPC":                "http://127.0.0.1:8545",
		"CLOUDLESS_CHAIN_CONTRACT":           "0x00000000000000000000000000000000000000aa",
	}
	cfg, err := LoadConfig(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.API.Addr != "127.0.0.1:7001" {
		t.Errorf("env did not override file: api.addr = %s", cfg.API.Addr)
	}
	if cfg.Provide.MaxConcurrent != 3 || cfg.Provide.Memory != 2<<30 {
		t.Errorf("file values lost: %+v", cfg.Provide)
	}
	if cfg.Log.Level != "warn" {
		t.Errorf("log.level = %s", cfg.Log.Level)
	}
	if got := cfg.Provide.PricePerJob.String(); got != "1000000000000000" {
		t.Errorf("price_per_job = %s", got)
	}
	if cfg.Provide.MaxJobDuration.Std() != 90*time.Second {
		t.Errorf("max_job_duration = %v", cfg.Provide.MaxJobDuration.Std())
	}
	if cfg.MDNS {
		t.Error("mdns not overridden")
	}
	if len(cfg.Listen) != 2 || cfg.Listen[1] != "/ip4/127.0.0.1/udp/0/quic-v1" {
		t.Errorf("listen = %q", cfg.Listen)
	}
	if cfg.Chain.RPC == "" || cfg.Chain.Contract == "" {
		t.Errorf("chain = %+v", cfg.Chain)
	}
	// Defaults for keys absent from both.
	if cfg.Storage.CacheSize != DefaultConfig(false).Storage.CacheSize {
		t.Errorf("storage.cache_size default lost")
	}
}

func TestConfigEnvErrors(t *testing.T) {
	p := writeConfig(t, "")
	for k, v := range map[string]string{
		"CLOUDLESS_PROVIDE_MAX_CONCURRENT": "many",
		"CLOUDLESS_MDNS":                   "perhaps",
		"CLOUDLESS_PROVIDE_MEMORY":         "1 lot",
	} {
		_, err := LoadConfig(p, func(key string) string {
			if key == k {
				return v
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), "$"+k) {
			t.Errorf("%s=%s: got %v, want an error naming the variable", k, v, err)
		}
	}
}

func TestEnvKeys(t *testing.T) {
	keys := strings.Join(EnvKeys(), " ")
	for _, k := range []string{"CLOUDLESS_API_ADDR", "CLOUDLESS_CHAIN_RPC", "CLOUDLESS_CHAIN_CONTRACT", "CLOUDLESS_PROVIDE_PRICE_PER_JOB", "CLOUDLESS_LOG_LEVEL", "CLOUDLESS_LISTEN", "CLOUDLESS_STORAGE_CACHE_SIZE"} {
		if !strings.Contains(keys, k) {
			t.Errorf("EnvKeys lacks %s: %s", k, keys)
		}
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"4096": 4096, "64MiB": 64 << 20, "1GiB": 1 << 30, "1GB": 1e9, "2 KiB": 2048} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("%q: got %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.5GiB", "1PB", "99999999999999TiB"} {
		if _, err := ParseByteSize(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	if s := ByteSize(64 << 20).String(); s != "64MiB" {
		t.Errorf("String = %s", s)
	}
}

func TestParseWei(t *testing.T) {
	for in, want := range map[string]string{"0": "0", "12345": "12345", "1 gwei": "1000000000", "0.001 ether": "1000000000000000", "2 wei": "2"} {
		got, err := ParseWei(in)
		if err != nil || got.String() != want {
			t.Errorf("%q: got %s, %v; want %s", in, got.String(), err, want)
		}
	}
	for _, in := range []string{"-1", "abc", "1 dogecoin", "0.1 wei", "1e-30 ether"} {
		if _, err := ParseWei(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}
