package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Size is a number of bytes. In YAML and JSON it is written with a binary or
// decimal unit ("128MiB", "64MB", "512KiB") or as a plain integer of bytes; on
// the wire it is an unsigned integer.
type Size uint64

var sizeUnits = []struct {
	suffix string
	mult   uint64
}{
	// Longest suffixes first so "MiB" is not read as "B".
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"kB", 1000}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"TB", 1000 * 1000 * 1000 * 1000},
	{"B", 1},
}

// ParseSize parses "128MiB", "64MB", "1GiB", "4096B" or "4096".
//
// # Errors
//
// ErrBadSize wrapped with the input when the text is not a non-negative
// integer with an optional known unit or the value overflows 64 bits.
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	mult := uint64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t = strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
			mult = u.mult
			break
		}
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrBadSize, s)
	}
	if n != 0 && mult > math.MaxUint64/n {
		return 0, fmt.Errorf("%w: %q overflows", ErrBadSize, s)
	}
	return Size(n * mult), nil
}

// String writes the size with the largest binary unit that divides it exactly.
func (s Size) String() string {
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if s != 0 && uint64(s)%u.mult == 0 {
			return strconv.FormatUint(uint64(s)/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatUint(uint64(s), 10) + "B"
}

// MarshalText implements encoding.TextMarshaler (YAML).
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (YAML).
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalJSON writes the size as a string with a unit.
func (s Size) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON accepts a string with a unit or a plain integer of bytes.
func (s *Size) UnmarshalJSON(b []byte) error {
	return s.UnmarshalText([]byte(jsonScalar(b)))
}

// Duration is a time span. In YAML and JSON it is written as Go duration text
// ("30s", "1m30s"); on the wire it is an integer of nanoseconds.
type Duration time.Duration

// ParseDuration parses Go duration text; negative durations are refused.
//
// # Errors
//
// ErrBadDuration wrapped with the input.
func ParseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%w: %q", ErrBadDuration, s)
	}
	return Duration(d), nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String implements fmt.Stringer.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler (YAML).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (YAML).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes duration text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON accepts duration text.
func (d *Duration) UnmarshalJSON(b []byte) error {
	return d.UnmarshalText([]byte(jsonScalar(b)))
}

// jsonScalar returns the contents of a JSON string, or the raw token for a
// number, so text unmarshalers can accept both "64MiB" and 67108864.
func jsonScalar(b []byte) string {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return s
	}
	return string(b)
}

// Timestamp is a point in time in Unix milliseconds (UTC). Zero means "unset".
type Timestamp int64

// TimestampOf converts a time.Time to a Timestamp.
func TimestampOf(t time.Time) Timestamp { return Timestamp(t.UnixMilli()) }

// Time converts the Timestamp to a time.Time.
func (ts Timestamp) Time() time.Time { return time.UnixMilli(int64(ts)) }

// IsZero reports whether the timestamp is unset.
func (ts Timestamp) IsZero() bool { return ts == 0 }

// maxWeiBits bounds every amount on the wire to what fits a Solidity uint256.
const maxWeiBits = 256

var (
	weiPerGwei  = big.NewInt(1_000_000_000)
	weiPerEther = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
)

// ParseWei parses an amount of ether: "0.001 ether", "1000 gwei", "123 wei",
// or a bare integer of wei ("123"). Fractions finer than one wei are refused.
//
// # Errors
//
// ErrBadAmount wrapped with the input: unknown unit, malformed number,
// negative, more precision than wei, or more than 256 bits.
func ParseWei(s string) (*big.Int, error) {
	fields := strings.Fields(s)
	unit := "wei"
	switch len(fields) {
	case 1:
	case 2:
		unit = strings.ToLower(fields[1])
	default:
		return nil, fmt.Errorf("%w: %q", ErrBadAmount, s)
	}
	var mult *big.Int
	switch unit {
	case "wei":
		mult = big.NewInt(1)
	case "gwei":
		mult = weiPerGwei
	case "ether", "eth":
		mult = weiPerEther
	default:
		return nil, fmt.Errorf("%w: unknown unit in %q (want wei, gwei or ether)", ErrBadAmount, s)
	}
	num := fields[0]
	if len(num) > 100 || strings.HasPrefix(num, "-") || strings.HasPrefix(num, "+") {
		return nil, fmt.Errorf("%w: %q", ErrBadAmount, s)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok || strings.ContainsAny(num, "eE/") {
		return nil, fmt.Errorf("%w: %q", ErrBadAmount, s)
	}
	r.Mul(r, new(big.Rat).SetInt(mult))
	if !r.IsInt() {
		return nil, fmt.Errorf("%w: %q is finer than one wei", ErrBadAmount, s)
	}
	v := new(big.Int).Set(r.Num())
	if v.BitLen() > maxWeiBits {
		return nil, fmt.Errorf("%w: %q exceeds 256 bits", ErrBadAmount, s)
	}
	return v, nil
}

// FormatWei writes an amount of wei as "N wei"; ParseWei reads it back.
func FormatWei(v *big.Int) string {
	if v == nil {
		return "0 wei"
	}
	return v.String() + " wei"
}
