package main

import (
	"bufio"
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

func TestFit(t *testing.T) {
	tests := []struct{ w, h, maxW, maxH, wantW, wantH int }{
		{64, 48, 16, 16, 16, 12},   // width-bound
		{48, 64, 16, 16, 12, 16},   // height-bound
		{10, 10, 128, 128, 10, 10}, // never enlarged
		{1000, 1, 10, 10, 10, 1},   // at least one pixel high
		{1, 1000, 10, 10, 1, 10},
		{300, 200, 160, 160, 160, 107}, // rounded, not truncated
	}
	for _, tc := range tests {
		if w, h := fit(tc.w, tc.h, tc.maxW, tc.maxH); w != tc.wantW || h != tc.wantH {
			t.Errorf("fit(%d,%d,%d,%d) = %d,%d, want %d,%d", tc.w, tc.h, tc.maxW, tc.maxH, w, h, tc.wantW, tc.wantH)
		}
	}
}

func TestShrinkAverages(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 4, 2))
	for x := range 4 {
		for y := range 2 {
			v := uint8(0)
			if (x+y)%2 == 0 {
				v = 200
			}
			src.SetRGBA(x, y, color.RGBA{v, v, v, 255})
		}
	}
	got := shrink(src, 2, 1)
	for x := range 2 {
		if c := got.RGBAAt(x, 0); c != (color.RGBA{100, 100, 100, 255}) {
			t.Errorf("pixel %d = %v, want the 2×2 average 100", x, c)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to the decoder (PPM is parsed here, the
// rest by the standard library): it must return an image or an error, never
// panic, and a declared size must not be trusted for allocation.
func FuzzDecode(f *testing.F) {
	var pngBuf bytes.Buffer
	_ = png.Encode(&pngBuf, image.NewGray(image.Rect(0, 0, 3, 2)))
	for _, seed := range [][]byte{
		[]byte("P6\n2 1\n255\n\x01\x02\x03\x04\x05\x06"),
		[]byte("P3\n# c\n2 1\n255\n1 2 3 4 5 6\n"),
		[]byte("P6\n2 1\n65535\n\x00\x01\x00\x02\x00\x03\x00\x04\x00\x05\x00\x06"),
		[]byte("P6\n99999 99999\n255\n"),
		[]byte("P3\n1 1\n0\n"),
		pngBuf.Bytes(),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, _, err := decode(bufio.NewReader(bytes.NewReader(b)))
		if err == nil && img.Bounds().Empty() {
			t.Fatalf("decoded an empty image without error")
		}
	})
}
