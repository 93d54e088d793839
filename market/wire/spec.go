package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"

	"gopkg.in/yaml.v3"
)

// MaxSpecSize caps a job spec document given to ParseJobSpec.
const MaxSpecSize = 64 << 10

// Default resources of a job spec that leaves them out (DESIGN.md "Job spec").
const (
	DefaultMemory    = Size(128 << 20)
	DefaultTimeout   = Duration(30_000_000_000) // 30s
	DefaultMaxOutput = Size(64 << 20)
)

// JobSpec is what to run: DESIGN.md "Job spec". It is carried inside a
// JobRequest and written by users as YAML or JSON.
type JobSpec struct {
	Module        string            `cbor:"module" json:"module" yaml:"module"`
	Args          []string          `cbor:"args,omitempty" json:"args,omitempty" yaml:"args,omitempty"`
	Env           map[string]string `cbor:"env,omitempty" json:"env,omitempty" yaml:"env,omitempty"`
	Stdin         string            `cbor:"stdin,omitempty" json:"stdin,omitempty" yaml:"stdin,omitempty"`
	Inputs        []Input           `cbor:"inputs,omitempty" json:"inputs,omitempty" yaml:"inputs,omitempty"`
	Resources     Resources         `cbor:"res" json:"resources" yaml:"resources"`
	Price         Price             `cbor:"price" json:"price" yaml:"price"`
	Redundancy    int               `cbor:"k" json:"redundancy" yaml:"redundancy"`
	Deterministic bool              `cbor:"det" json:"deterministic" yaml:"deterministic"`
	// Seed feeds the guest's randomness in deterministic mode.
	Seed uint64 `cbor:"seed,omitempty" json:"seed,omitempty" yaml:"seed,omitempty"`
}

// Input is a UnixFS file or directory mounted read-only at Path.
type Input struct {
	CID  string `cbor:"cid" json:"cid" yaml:"cid"`
	Path string `cbor:"path" json:"path" yaml:"path"`
}

// Resources are a job's limits.
type Resources struct {
	Memory    Size     `cbor:"mem" json:"memory" yaml:"memory"`
	Timeout   Duration `cbor:"timeout" json:"timeout" yaml:"timeout"`
	MaxOutput Size     `cbor:"maxout" json:"max_output" yaml:"max_output"`
}

// Price is the client's cap. In YAML/JSON Max is text ("0.001 ether",
// "1000 gwei", "123 wei"); on the wire it is a CBOR bignum of wei.
type Price struct {
	Max *big.Int `cbor:"max" json:"-" yaml:"-"`
}

type priceText struct {
	Max string `json:"max" yaml:"max"`
}

// MarshalJSON writes {"max": "N wei"}.
func (p Price) MarshalJSON() ([]byte, error) {
	return json.Marshal(priceText{Max: FormatWei(p.Max)})
}

// UnmarshalJSON reads {"max": "0.001 ether"}; unknown keys are an error.
func (p *Price) UnmarshalJSON(b []byte) error {
	var t priceText
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return fmt.Errorf("%w: price: %v", ErrBadSpec, err)
	}
	return p.setText(t)
}

// MarshalYAML writes max: "N wei".
func (p Price) MarshalYAML() (any, error) { return priceText{Max: FormatWei(p.Max)}, nil }

// UnmarshalYAML reads max: "0.001 ether"; unknown keys are an error.
func (p *Price) UnmarshalYAML(n *yaml.Node) error {
	var t priceText
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%w: price must be a mapping", ErrBadSpec)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "max" {
			return fmt.Errorf("%w: price: unknown key %q", ErrBadSpec, n.Content[i].Value)
		}
	}
	if err := n.Decode(&t); err != nil {
		return fmt.Errorf("%w: price: %v", ErrBadSpec, err)
	}
	return p.setText(t)
}

func (p *Price) setText(t priceText) error {
	if t.Max == "" {
		p.Max = nil
		return nil
	}
	v, err := ParseWei(t.Max)
	if err != nil {
		return err
	}
	p.Max = v
	return nil
}

// ParseJobSpec reads a job spec from YAML or JSON (JSON when the first
// non-space byte is '{'), strictly: unknown keys, duplicate documents and
// trailing data are errors. Missing resources get DefaultMemory,
// DefaultTimeout and DefaultMaxOutput; a missing redundancy becomes 1. The
// result is validated with (*JobSpec).Validate.
//
// # Errors
//
// ErrTooLarge over MaxSpecSize; ErrBadSpec, ErrBadSize, ErrBadDuration or
// ErrBadAmount when it does not parse; ErrInvalid when a rule fails.
func ParseJobSpec(data []byte) (JobSpec, error) {
	var s JobSpec
	if len(data) > MaxSpecSize {
		return s, fmt.Errorf("%w: job spec is %d bytes, max %d", ErrTooLarge, len(data), MaxSpecSize)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return JobSpec{}, wrapSpecErr(err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return JobSpec{}, fmt.Errorf("%w: trailing data after JSON object", ErrBadSpec)
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&s); err != nil {
			if err == io.EOF {
				return JobSpec{}, fmt.Errorf("%w: empty document", ErrBadSpec)
			}
			return JobSpec{}, wrapSpecErr(err)
		}
		var extra any
		if err := dec.Decode(&extra); err != io.EOF {
			return JobSpec{}, fmt.Errorf("%w: more than one YAML document", ErrBadSpec)
		}
	}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		return JobSpec{}, err
	}
	return s, nil
}

// wrapSpecErr keeps our own sentinels (from unit parsing) and wraps anything
// else as ErrBadSpec.
func wrapSpecErr(err error) error {
	for _, s := range []error{ErrBadSize, ErrBadDuration, ErrBadAmount, ErrBadSpec} {
		if errors.Is(err, s) {
			return err
		}
	}
	return fmt.Errorf("%w: %v", ErrBadSpec, err)
}

// ApplyDefaults fills zero resources and redundancy with the defaults.
func (s *JobSpec) ApplyDefaults() {
	if s.Resources.Memory == 0 {
		s.Resources.Memory = DefaultMemory
	}
	if s.Resources.Timeout == 0 {
		s.Resources.Timeout = DefaultTimeout
	}
	if s.Resources.MaxOutput == 0 {
		s.Resources.MaxOutput = DefaultMaxOutput
	}
	if s.Redundancy == 0 {
		s.Redundancy = 1
	}
}
