package trigger

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/cloudless-network/cloudless/storage"
)

func quietLogger() *slog.Logger {
	if os.Getenv("TRIGGER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// storeContent adapts the real IPFS store to ModuleSource, Publisher and
// market.Content, the way node does.
type storeContent struct{ st *storage.Store }

func (s storeContent) Cat(ctx context.Context, c string, max int64) ([]byte, error) {
	id, err := cid.Decode(c)
	if err != nil {
		return nil, fmt.Errorf("bad CID %q: %w", c, err)
	}
	return s.st.ReadFile(ctx, id, max)
}

func (s storeContent) Fetch(ctx context.Context, c string, dst string) error {
	id, err := cid.Decode(c)
	if err != nil {
		return fmt.Errorf("bad CID %q: %w", c, err)
	}
	return s.st.Get(ctx, id, dst, 0, nil)
}

func (s storeContent) AddDir(ctx context.Context, dir string) (string, error) {
	id, err := s.st.AddPath(ctx, dir, storage.WithHidden(true))
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

func (s storeContent) AddBytes(ctx context.Context, b []byte) (string, error) {
	id, err := s.st.AddBytes(ctx, b)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

func openStore(t testing.TB) storeContent {
	t.Helper()
	st, err := storage.Open(context.Background(), t.TempDir(), &storage.Options{NoSync: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return storeContent{st}
}

// publish adds testdata/NAME.wasm to the store and returns its CID.
func (s storeContent) publish(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".wasm")
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.AddBytes(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testDispatcher is a small Dispatcher over a real Invoker (the real
// Service is its own part): longest-prefix routing on path segments,
// method filters, and a daily cap counted in max prices.
type testDispatcher struct {
	inv Invoker

	mu    sync.Mutex
	fns   []*Function
	spent map[string]*big.Int
	calls int
}

func newTestDispatcher(inv Invoker, fns ...*Function) *testDispatcher {
	return &testDispatcher{inv: inv, fns: fns, spent: map[string]*big.Int{}}
}

func (d *testDispatcher) Route(method, path string) (*Function, string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var best *Function
	bestRoute := ""
	for _, fn := range d.fns {
		for _, tr := range fn.Triggers {
			if tr.Kind != KindHTTP || !routeMatches(tr.Route, path) {
				continue
			}
			if len(tr.Methods) > 0 && !slices.Contains(tr.Methods, method) {
				continue
			}
			if best == nil || len(tr.Route) > len(bestRoute) {
				best, bestRoute = fn, tr.Route
			}
		}
	}
	return best, bestRoute, best != nil
}

func routeMatches(route, path string) bool {
	if route == "/" {
		return true
	}
	return path == route || strings.HasPrefix(path, route+"/")
}

func (d *testDispatcher) Invoke(ctx context.Context, fn *Function, inv Invocation) (*Output, error) {
	d.mu.Lock()
	d.calls++
	if fn.DailyCap != nil && fn.MaxPrice != nil {
		s := d.spent[fn.Name]
		if s == nil {
			s = new(big.Int)
			d.spent[fn.Name] = s
		}
		if next := new(big.Int).Add(s, fn.MaxPrice); next.Cmp(fn.DailyCap) > 0 {
			d.mu.Unlock()
			return nil, fmt.Errorf("%w: function %s has spent %s of its daily cap %s today; raise price.daily or wait until 00:00 UTC",
				ErrOverBudget, fn.Name, s, fn.DailyCap)
		}
		s.Add(s, fn.MaxPrice)
	}
	d.mu.Unlock()
	return d.inv.Invoke(ctx, fn, inv)
}
