package client

import (
	"archive/tar"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzUntar feeds arbitrary bytes to Untar, the decoder of `publish -r`
// uploads (daemon side) and of `get` directory streams (CLI side).
func FuzzUntar(f *testing.F) {
	for _, s := range untarSeeds {
		f.Add(buildTar(f, s), uint16(64))
	}
	f.Add([]byte("not a tar"), uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, max uint16) {
		checkUntar(t, data, int64(max)+1)
	})
}

// FuzzUntarEntries builds a well-formed tar from a small script, one entry
// per line "TYPE NAME [LINK|SIZE]" (TYPE f=file d=dir l=symlink h=hardlink
// c=char device), so the fuzzer explores names and links rather than
// checksums. Every run checks the same properties as FuzzUntar.
func FuzzUntarEntries(f *testing.F) {
	for _, s := range untarSeeds {
		f.Add(s, uint16(64))
	}
	f.Fuzz(func(t *testing.T, script string, max uint16) {
		checkUntar(t, buildTar(t, script), int64(max)+1)
	})
}

var untarSeeds = []string{
	"d a\nf a/b 5\nl a/c b\nf top 3",
	"f ../escape 4",
	"f /abs 4",
	"f ./ok 1\nf ./ok 1",
	"l out ..\nf out/x 3",
	"l out /tmp\nf out/x 3",
	"l a ../outside\nf a/canary 3",
	"l lnk ../outside/canary\nf lnk 2",
	"d x\nl x/y ../../outside\nd x/y/z",
	"h hard ../outside/canary",
	"c dev 0",
	"f big 1000",
	"f a 40\nf b 40",
	"d .\nd ./\nf .hidden 1",
}

// buildTar turns a script into tar bytes (see FuzzUntarEntries).
func buildTar(tb testing.TB, script string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for line := range strings.Lines(script) {
		fl := strings.Fields(line)
		if len(fl) < 2 || len(fl[0]) != 1 {
			continue
		}
		h := &tar.Header{Name: fl[1], Mode: 0o644}
		arg := ""
		if len(fl) > 2 {
			arg = fl[2]
		}
		switch fl[0] {
		case "f":
			h.Typeflag = tar.TypeReg
			n, _ := strconv.Atoi(arg)
			h.Size = int64(min(max(n, 0), 1<<12))
		case "d":
			h.Typeflag = tar.TypeDir
		case "l":
			h.Typeflag, h.Linkname = tar.TypeSymlink, arg
		case "h":
			h.Typeflag, h.Linkname = tar.TypeLink, arg
		case "c":
			h.Typeflag = tar.TypeChar
		default:
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			continue // names tar itself cannot encode
		}
		if h.Size > 0 {
			_, _ = tw.Write(bytes.Repeat([]byte{'x'}, int(h.Size)))
		}
	}
	_ = tw.Close()
	return buf.Bytes()
}

// checkUntar runs Untar into base/root next to base/outside (holding a
// canary file) and checks: nothing appears or changes outside root; the
// bytes reported never pass the cap by more than the one byte that detects
// it; a success reports exactly the regular-file bytes on disk and stays
// within the cap; an overflow is ErrTooLarge; errors are one line.
func checkUntar(t *testing.T, data []byte, maxSize int64) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{root, outside} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	canary := filepath.Join(outside, "canary")
	if err := os.WriteFile(canary, []byte("canary"), 0o600); err != nil {
		t.Fatal(err)
	}

	n, err := Untar(bytes.NewReader(data), root, maxSize)

	// Nothing written outside root.
	ents, rerr := os.ReadDir(base)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if len(ents) != 2 {
		t.Fatalf("entries appeared next to the root: %v", ents)
	}
	oents, _ := os.ReadDir(outside)
	if len(oents) != 1 {
		t.Fatalf("entries appeared in a sibling dir: %v", oents)
	}
	if b, _ := os.ReadFile(canary); string(b) != "canary" {
		t.Fatalf("file outside the root was overwritten: %q", b)
	}
	if n < 0 || n > maxSize+1 {
		t.Fatalf("reported %d bytes with cap %d", n, maxSize)
	}
	if err != nil {
		if n > maxSize && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("over the cap (%d > %d) but error is %v", n, maxSize, err)
		}
		if strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("error is not one line: %q", err)
		}
		return
	}
	if n > maxSize {
		t.Fatalf("success with %d bytes over cap %d", n, maxSize)
	}
	// Everything below root is a regular file, dir or symlink, and the
	// file bytes add up to what Untar reported.
	var onDisk int64
	werr := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.Type().IsRegular():
			fi, err := d.Info()
			if err != nil {
				return err
			}
			onDisk += fi.Size()
		case d.IsDir(), d.Type()&fs.ModeSymlink != 0:
		default:
			t.Errorf("unexpected file type %v at %s", d.Type(), p)
		}
		return nil
	})
	if werr != nil {
		t.Fatal(werr)
	}
	if onDisk != n {
		t.Fatalf("Untar reported %d bytes, %d on disk", n, onDisk)
	}
}
