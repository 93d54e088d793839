package wasmbin

import (
	"errors"
	"testing"
)

func TestReaderLEB(t *testing.T) {
	for _, tt := range []struct {
		in   string
		bits uint
		want uint64
		ok   bool
	}{
		{"\x00", 32, 0, true},
		{"\x7f", 32, 127, true},
		{"\xe5\x8e\x26", 32, 624485, true},
		{"\xff\xff\xff\xff\x0f", 32, 1<<32 - 1, true},
		{"\xff\xff\xff\xff\x1f", 32, 0, false},     // overflows 32 bits
		{"\x80\x80\x80\x80\x80\x00", 32, 0, false}, // too long
		{"\x80", 32, 0, false},                     // truncated
		{"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 64, 1<<64 - 1, true},
		{"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 64, 0, false}, // overflows 64 bits
	} {
		r := &Reader{B: []byte(tt.in)}
		v, err := r.ULEB(tt.bits)
		if tt.ok != (err == nil) || (err == nil && (v != tt.want || r.Len() != 0)) {
			t.Errorf("ULEB(% x, %d) = %d, %v", tt.in, tt.bits, v, err)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("ULEB(% x): %v is not ErrMalformed", tt.in, err)
		}
	}
	for _, tt := range []struct {
		in   string
		bits uint
		want int64
		ok   bool
	}{
		{"\x7f", 32, -1, true},
		{"\x40", 33, -64, true},
		{"\x3f", 32, 63, true},
		{"\x80\x7f", 32, -128, true},
		{"\x80\x80\x80\x80\x80\x00", 32, 0, false},
		{"\x80", 64, 0, false},
	} {
		r := &Reader{B: []byte(tt.in)}
		v, err := r.SLEB(tt.bits)
		if tt.ok != (err == nil) || (err == nil && v != tt.want) {
			t.Errorf("SLEB(% x, %d) = %d, %v", tt.in, tt.bits, v, err)
		}
	}
}

func TestReaderBytesNameLimits(t *testing.T) {
	r := &Reader{B: []byte("\x03abc\x05\x01\x02\x03\x04")}
	if s, err := r.Name(); s != "abc" || err != nil {
		t.Fatal(s, err)
	}
	b, err := r.Bytes(2)
	if err != nil || string(b) != "\x05\x01" || cap(b) != 2 {
		t.Fatal(b, err)
	}
	if _, err := r.Bytes(4); !errors.Is(err, ErrMalformed) {
		t.Fatal("overrun accepted")
	}
	if _, err := r.Bytes(-1); !errors.Is(err, ErrMalformed) {
		t.Fatal("negative length accepted")
	}
	for in, want := range map[string]uint64{"\x00\x02": 2, "\x01\x02\x03": 2, "\x05\x80\x01\xff\x01": 128} {
		r := &Reader{B: []byte(in)}
		if min, err := r.Limits(); err != nil || min != want || r.Len() != 0 {
			t.Errorf("Limits(% x) = %d, %v", in, min, err)
		}
	}
	if _, err := (&Reader{B: []byte("\x08\x00")}).Limits(); !errors.Is(err, ErrMalformed) {
		t.Error("bad limits flags accepted")
	}
	if _, err := (&Reader{B: []byte("\x05abc")}).Name(); !errors.Is(err, ErrMalformed) {
		t.Error("name overrun accepted")
	}
}

func TestSections(t *testing.T) {
	bin := []byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x00\x02\x01x")
	secs, err := Sections(bin)
	if err != nil || len(secs) != 2 {
		t.Fatal(secs, err)
	}
	if s := secs[0]; s.ID != 1 || s.Start != 8 || s.End != 14 || string(s.Payload) != "\x01\x60\x00\x00" {
		t.Errorf("%+v", s)
	}
	if s := secs[1]; s.ID != 0 || s.Start != 14 || s.End != len(bin) || string(s.Payload) != "\x01x" {
		t.Errorf("%+v", s)
	}
	for _, bad := range []string{"\x00asm", "\x00asm\x01\x00\x00\x00\x01\x05\x00", "\x00asm\x01\x00\x00\x00\x01"} {
		if _, err := Sections([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("% x: %v", bad, err)
		}
	}
}
