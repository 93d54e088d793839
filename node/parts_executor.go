package node

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/cloudless-network/cloudless/executor"
)

// startExecutor opens the wazero sandbox with the provider limits of the
// config and the compilation cache in the repo.
func (n *Node) startExecutor(ctx context.Context) error {
	lim := executor.DefaultLimits()
	lim.Timeout = n.cfg.Provide.MaxJobDuration.Std()
	ex, err := executor.New(
		executor.WithCacheDir(filepath.Join(n.repo, WasmCacheDir)),
		executor.WithMaxConcurrent(n.cfg.Provide.MaxConcurrent),
		executor.WithMaxMemory(uint64(n.cfg.Provide.Memory)),
		executor.WithDefaultLimits(lim),
		executor.WithLogger(n.log.With("part", "executor")),
		executor.WithRegisterer(n.reg),
	)
	if err != nil {
		return fmt.Errorf("executor: %w", err)
	}
	n.exec = ex
	n.onClose("executor", ex.Close)
	n.setPart("executor", true, "")
	return nil
}
