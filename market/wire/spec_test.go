package wire

import (
	"errors"
	"math/big"
	"testing"
	"time"
)

const specYAML = `module: ` + testCID + `
args: ["--size", "256"]
env: {MODE: fast}
stdin: ` + testCID + `
inputs:
  - {cid: ` + testCID + `, path: /data}
resources: {memory: 128MiB, timeout: 30s, max_output: 64MiB}
price: {max: "0.001 ether"}
redundancy: 1
deterministic: true
`

const specJSON = `{"module":"` + testCID + `","args":["--size","256"],"env":{"MODE":"fast"},"stdin":"` + testCID + `",
"inputs":[{"cid":"` + testCID + `","path":"/data"}],
"resources":{"memory":"128MiB","timeout":"30s","max_output":67108864},
"price":{"max":"1000000 gwei"},"redundancy":1,"deterministic":true}`

func TestParseJobSpec(t *testing.T) {
	for name, doc := range map[string]string{"yaml": specYAML, "json": specJSON} {
		t.Run(name, func(t *testing.T) {
			s, err := ParseJobSpec([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if s.Resources.Memory != 128<<20 || s.Resources.Timeout.D() != 30*time.Second || s.Resources.MaxOutput != 64<<20 {
				t.Fatalf("resources %+v", s.Resources)
			}
			if s.Price.Max.Cmp(big.NewInt(1e15)) != 0 {
				t.Fatalf("price %v", s.Price.Max)
			}
			if s.Env["MODE"] != "fast" || len(s.Inputs) != 1 || !s.Deterministic || s.Redundancy != 1 {
				t.Fatalf("spec %+v", s)
			}
		})
	}
}

func TestParseJobSpecDefaults(t *testing.T) {
	s, err := ParseJobSpec([]byte("module: " + testCID + "\nprice: {max: 123 wei}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Resources.Memory != DefaultMemory || s.Resources.Timeout != DefaultTimeout || s.Resources.MaxOutput != DefaultMaxOutput || s.Redundancy != 1 {
		t.Fatalf("defaults not applied: %+v", s)
	}
}

func TestParseJobSpecRefusals(t *testing.T) {
	base := "module: " + testCID + "\nprice: {max: 1 wei}\n"
	tests := []struct {
		name, doc string
		want      error
	}{
		{"unknown key yaml", base + "colour: red\n", ErrBadSpec},
		{"unknown key json", `{"module":"` + testCID + `","price":{"max":"1 wei"},"colour":1}`, ErrBadSpec},
		{"unknown price key", "module: " + testCID + "\nprice: {max: 1 wei, min: 2 wei}\n", ErrBadSpec},
		{"unknown price key json", `{"module":"` + testCID + `","price":{"max":"1 wei","min":"1 wei"}}`, ErrBadSpec},
		{"trailing json", `{"module":"` + testCID + `","price":{"max":"1 wei"}} {}`, ErrBadSpec},
		{"two yaml docs", base + "---\n" + base, ErrBadSpec},
		{"empty", "", ErrBadSpec},
		{"bad size", base + "resources: {memory: 12XB}\n", ErrBadSize},
		{"bad duration", base + "resources: {timeout: forever}\n", ErrBadDuration},
		{"negative duration", base + "resources: {timeout: -1s}\n", ErrBadDuration},
		{"bad unit", "module: " + testCID + "\nprice: {max: 1 dogecoin}\n", ErrBadAmount},
		{"sub-wei", "module: " + testCID + "\nprice: {max: 0.5 wei}\n", ErrBadAmount},
		{"negative price", "module: " + testCID + "\nprice: {max: -1 wei}\n", ErrBadAmount},
		{"no price", "module: " + testCID + "\n", ErrInvalid},
		{"zero price", "module: " + testCID + "\nprice: {max: 0 wei}\n", ErrInvalid},
		{"bad cid", "module: nope\nprice: {max: 1 wei}\n", ErrInvalid},
		{"relative path", base + "inputs: [{cid: " + testCID + ", path: data}]\n", ErrInvalid},
		{"dotdot path", base + "inputs: [{cid: " + testCID + ", path: /a/../b}]\n", ErrInvalid},
		{"out path", base + "inputs: [{cid: " + testCID + ", path: /out}]\n", ErrInvalid},
		{"redundancy", base + "redundancy: 99\n", ErrInvalid},
		{"env name", base + "env: {\"A=B\": x}\n", ErrInvalid},
		{"too large", string(make([]byte, MaxSpecSize+1)), ErrTooLarge},
		{"wrong type", base + "args: 3\n", ErrBadSpec},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJobSpec([]byte(tc.doc))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseUnits(t *testing.T) {
	sizes := map[string]Size{"128MiB": 128 << 20, "64MB": 64e6, "1GiB": 1 << 30, "4096": 4096, "10 KiB": 10 << 10, "7B": 7}
	for in, want := range sizes {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "MiB", "-1", "1.5MiB", "99999999999999999999", "18446744073709551615GiB"} {
		if _, err := ParseSize(bad); !errors.Is(err, ErrBadSize) {
			t.Errorf("ParseSize(%q) = %v", bad, err)
		}
	}
	if Size(128<<20).String() != "128MiB" || Size(1000).String() != "1000B" {
		t.Error("Size.String")
	}
	wei := map[string]string{"0.001 ether": "1000000000000000", "1000 gwei": "1000000000000", "123 wei": "123", "123": "123", "1.5 gwei": "1500000000"}
	for in, want := range wei {
		got, err := ParseWei(in)
		if err != nil || got.String() != want {
			t.Errorf("ParseWei(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "1 2 3", "x wei", "1e3 wei", "1/2 ether", "+1 wei", "1 btc", "1" + string(make([]byte, 0)) + "00000000000000000000000000000000000000000000000000000000000000000000000000000000 ether"} {
		if _, err := ParseWei(bad); !errors.Is(err, ErrBadAmount) {
			t.Errorf("ParseWei(%q) = %v", bad, err)
		}
	}
}

func TestSpecRoundTripYAMLJSON(t *testing.T) {
	s := testSpec()
	// JSON out and back in.
	b, err := jsonMarshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseJobSpec(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if got.Price.Max.Cmp(s.Price.Max) != 0 || got.Resources != s.Resources {
		t.Fatalf("round trip: %+v", got)
	}
	y, err := yamlMarshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err = ParseJobSpec(y)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	if got.Price.Max.Cmp(s.Price.Max) != 0 || got.Resources != s.Resources {
		t.Fatalf("round trip: %+v", got)
	}
}
