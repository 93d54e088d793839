package executor

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size units, binary (IEC).
const (
	KiB uint64 = 1 << 10
	MiB uint64 = 1 << 20
	GiB uint64 = 1 << 30
)

// ParseSize parses a byte size: a plain number of bytes ("4096", "4096B") or
// a number with a binary unit ("512KiB", "64MiB", "1 GiB", "1.5MiB"). The
// unit is case-insensitive and "K", "KB", "M", "MB", "G", "GB" are read as
// the binary units too, since that is what people mean for memory.
func ParseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" {
		return 0, fmt.Errorf("size %q: no number", s)
	}
	var mult uint64
	switch unit {
	case "", "b":
		mult = 1
	case "k", "kb", "kib":
		mult = KiB
	case "m", "mb", "mib":
		mult = MiB
	case "g", "gb", "gib":
		mult = GiB
	case "t", "tb", "tib":
		mult = GiB << 10
	default:
		return 0, fmt.Errorf("size %q: unknown unit %q (use B, KiB, MiB, GiB)", s, t[i:])
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("size %q: %w", s, err)
		}
		if n > math.MaxUint64/mult {
			return 0, fmt.Errorf("size %q: too large", s)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	v := f * float64(mult)
	if v >= math.MaxUint64 {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return uint64(v), nil
}

// FormatSize prints n with the largest binary unit that divides it exactly,
// else one decimal: 67108864 -> "64 MiB", 1536 -> "1.5 KiB", 100 -> "100 B".
func FormatSize(n uint64) string {
	units := []struct {
		v    uint64
		name string
	}{{GiB << 10, "TiB"}, {GiB, "GiB"}, {MiB, "MiB"}, {KiB, "KiB"}}
	for _, u := range units {
		if n >= u.v {
			if n%u.v == 0 {
				return fmt.Sprintf("%d %s", n/u.v, u.name)
			}
			return strconv.FormatFloat(float64(n)/float64(u.v), 'f', 1, 64) + " " + u.name
		}
	}
	return fmt.Sprintf("%d B", n)
}
