package storage

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncDir makes everything written under dir durable with one syncfs(2)
// on its file system: flatfs runs with per-file fsync off (as kubo does),
// and the store pays for durability once per add instead of per block.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}
