package storage

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
)

// FuzzImportCAR feeds arbitrary bytes to ImportCAR: it must never panic,
// and whatever it accepts must verify clean.
func FuzzImportCAR(f *testing.F) {
	ctx := context.Background()
	src, err := Open(ctx, filepath.Join(f.TempDir(), "src"), &Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	c, _ := src.AddBytes(ctx, randBytes(ChunkSize+10, 1))
	var car bytes.Buffer
	if err := src.ExportCAR(ctx, c, &car); err != nil {
		f.Fatal(err)
	}
	src.Close()
	f.Add(car.Bytes())
	f.Add(car.Bytes()[:len(car.Bytes())/2])
	f.Add([]byte{})
	f.Add([]byte("\x0a\xa1\x67version\x01"))
	s, err := Open(ctx, filepath.Join(f.TempDir(), "dst"), &Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := s.ImportCAR(ctx, bytes.NewReader(data)); err != nil {
			return
		}
		rep, err := s.Verify(ctx)
		if err != nil || len(rep.Bad) != 0 {
			t.Fatalf("accepted CAR left a bad repo: %+v %v", rep, err)
		}
	})
}
