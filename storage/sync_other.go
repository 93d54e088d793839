//go:build !linux

package storage

import "os"

// syncDir fsyncs the directory itself; elsewhere than Linux there is no
// syncfs, and block files are fsynced only by the OS's own writeback.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
