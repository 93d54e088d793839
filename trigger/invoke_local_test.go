package trigger

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/market/wire"
)

func TestLocalInvoker(t *testing.T) {
	store := openStore(t)
	ex, err := executor.New(executor.WithMaxConcurrent(2), executor.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close(context.Background()) })
	inv := NewLocalInvoker(ex, store)
	fn := localFn("echo", store.publish(t, "echo"), "/echo", 5*time.Second, 1<<20)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// A watch-style invocation: the new file mounted read-only by CID.
	fileCID, err := store.AddBytes(ctx, []byte("file contents\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := inv.Invoke(ctx, fn, Invocation{Trigger: KindWatch, Env: map[string]string{"QUERY_STRING": "cat=/in/new.txt"},
		Inputs: []wire.Input{{CID: fileCID, Path: "/in/new.txt"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(out.Stdout), "\r\n\r\nfile contents\n") || out.Provider != LocalProvider || len(out.JobID) != 64 || out.ExitCode != 0 {
		t.Errorf("input: %+v %q", out, out.Stdout)
	}

	// Stdin from IPFS (a topic message already stored).
	stdinCID, err := store.AddBytes(ctx, []byte("from ipfs"))
	if err != nil {
		t.Fatal(err)
	}
	out, err = inv.Invoke(ctx, fn, Invocation{Trigger: KindTopic, Env: map[string]string{"REQUEST_METHOD": "POST"}, StdinCID: stdinCID})
	if err != nil || !strings.HasSuffix(string(out.Stdout), "POST ?\nfrom ipfs") {
		t.Errorf("stdin CID: %v %q", err, out.Stdout)
	}

	// A module the store does not have: a one-line error, no run.
	mh, err := multihash.Sum([]byte("never stored"), multihash.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	missing := *fn
	missing.Module = cid.NewCidV1(cid.Raw, mh).String()
	mctx, mcancel := context.WithTimeout(ctx, 3*time.Second)
	defer mcancel()
	if _, err := inv.Invoke(mctx, &missing, Invocation{}); err == nil || !strings.Contains(err.Error(), "read module "+missing.Module) {
		t.Errorf("missing module: %v", err)
	}

	// Sandbox stops are typed.
	loop := localFn("loop", store.publish(t, "loop"), "/loop", 100*time.Millisecond, 1<<20)
	if _, err := inv.Invoke(ctx, loop, Invocation{}); !errors.Is(err, ErrDeadline) || err.Error() != "function loop ran past its deadline of 100ms" {
		t.Errorf("loop: %v", err)
	}
	flood := localFn("flood", store.publish(t, "flood"), "/flood", 5*time.Second, 64<<10)
	if _, err := inv.Invoke(ctx, flood, Invocation{}); !errors.Is(err, ErrStopped) || !strings.Contains(err.Error(), "output limit of 64 KiB exceeded") {
		t.Errorf("flood: %v", err)
	}
	bad := localFn("bad", store.publish(t, "loop"), "/bad", 5*time.Second, 1<<20)
	bad.Resources.Memory = 1 // below the module's one page
	if _, err := inv.Invoke(ctx, bad, Invocation{}); !errors.Is(err, ErrStopped) || !strings.Contains(err.Error(), "memory limit") {
		t.Errorf("memory: %v", err)
	}
}

// mergeEnv hands over the one non-empty side itself (the gateway's CGI
// map, a function's env) instead of copying it, and merges two into a new
// map with the invocation's variables winning; neither input changes.
func TestMergeEnv(t *testing.T) {
	fnEnv := map[string]string{"MODE": "fast", "QUERY_STRING": "fn"}
	req := map[string]string{"QUERY_STRING": "a=1", "REQUEST_METHOD": "GET"}
	if got := mergeEnv(nil, nil); got != nil {
		t.Errorf("both empty: %v", got)
	}
	if got := mergeEnv(nil, req); !sameMap(got, req) {
		t.Error("no function env: the request's map was copied")
	}
	if got := mergeEnv(fnEnv, map[string]string{}); !sameMap(got, fnEnv) {
		t.Error("no request env: the function's map was copied")
	}
	got := mergeEnv(fnEnv, req)
	if sameMap(got, fnEnv) || sameMap(got, req) || len(got) != 3 || got["QUERY_STRING"] != "a=1" || got["MODE"] != "fast" {
		t.Errorf("merged: %v", got)
	}
	if fnEnv["QUERY_STRING"] != "fn" || len(fnEnv) != 2 || len(req) != 2 {
		t.Errorf("inputs changed: %v %v", fnEnv, req)
	}
}

// sameMap reports whether a and b are the same map (not equal contents).
func sameMap(a, b map[string]string) bool {
	return a != nil && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
