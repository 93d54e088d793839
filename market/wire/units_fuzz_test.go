package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// The unit parsers read job specs, offers' YAML/JSON forms, the config file
// and CLI flags (--max-price, --memory, --timeout). Each target checks: no
// panic; errors wrap the package sentinel and are one line; what parses
// prints back (String / FormatWei / JSON) to text that parses to the same
// value.

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"128MiB", "64MB", "1GiB", "4096B", "4096", " 7 KiB ", "18446744073709551615", "16EiB", "1TB", "-1", "0x10", "+5", "1.5GiB", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSize(s)
		if err != nil {
			checkUnitErr(t, err, ErrBadSize)
			return
		}
		back, err := ParseSize(v.String())
		if err != nil || back != v {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, v, v.String(), back, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var j Size
		if err := json.Unmarshal(b, &j); err != nil || j != v {
			t.Fatalf("JSON %s -> %d, %v; want %d", b, j, err, v)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30s", "1m30s", "1h", "0", "-1s", "9223372036854775807ns", "9999999999h", "1.5µs", " 2m ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			checkUnitErr(t, err, ErrBadDuration)
			return
		}
		if d < 0 {
			t.Fatalf("%q parsed as negative %v", s, d)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("%q -> %v -> %v, %v", s, d, back, err)
		}
		b, _ := json.Marshal(d)
		var j Duration
		if err := json.Unmarshal(b, &j); err != nil || j != d {
			t.Fatalf("JSON %s -> %v, %v; want %v", b, j, err, d)
		}
	})
}

func FuzzParseWei(f *testing.F) {
	for _, s := range []string{"0.001 ether", "1000 gwei", "123 wei", "123", "1 ETH", "0.0000000000000000001 ether", "1e18", "1/2 ether", "0x10", "-1", "115792089237316195423570985008687907853269984665640564039457584007913129639935", "115792089237316195423570985008687907853269984665640564039457584007913129639936", "1 2 3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseWei(s)
		if err != nil {
			checkUnitErr(t, err, ErrBadAmount)
			return
		}
		if v.Sign() < 0 || v.BitLen() > maxWeiBits {
			t.Fatalf("%q parsed to %s, outside [0, 2^256)", s, v)
		}
		back, err := ParseWei(FormatWei(v))
		if err != nil || back.Cmp(v) != 0 {
			t.Fatalf("%q -> %s -> %q -> %v, %v", s, v, FormatWei(v), back, err)
		}
	})
}

func checkUnitErr(t *testing.T, err, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v does not wrap %v", err, sentinel)
	}
	if strings.ContainsAny(err.Error(), "\n\r") {
		t.Fatalf("error is not one line: %q", err)
	}
}
