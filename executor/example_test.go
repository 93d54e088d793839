package executor_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cloudless-network/cloudless/executor"
)

// Run a WASI module with arguments and stdin, deterministically.
func ExampleExecutor_Run() {
	ctx := context.Background()
	ex, err := executor.New(executor.WithMaxConcurrent(2))
	if err != nil {
		panic(err)
	}
	defer ex.Close(ctx)

	module, _ := os.ReadFile("testdata/tool.wasm")
	out, _ := os.MkdirTemp("", "example-out-*")
	defer os.RemoveAll(out)
	res, err := ex.Run(ctx, executor.Spec{
		Module:        module,
		Args:          []string{"cat"},
		Stdin:         strings.NewReader("hello from stdin\n"),
		OutDir:        out,
		Deterministic: true,
		Seed:          []byte("job-42"),
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("exit %d: %s", res.ExitCode, res.Stdout)
	// Output: exit 0: hello from stdin
}

// A sandbox stop is an error whose message names the cause and the limit.
func ExampleLimitError() {
	ctx := context.Background()
	ex, _ := executor.New()
	defer ex.Close(ctx)
	module, _ := os.ReadFile("testdata/loop.wasm")
	out, _ := os.MkdirTemp("", "example-out-*")
	defer os.RemoveAll(out)
	_, err := ex.Run(ctx, executor.Spec{Module: module, OutDir: out, Limits: executor.Limits{Timeout: 100 * time.Millisecond}})
	fmt.Println(err, errors.Is(err, executor.ErrDeadline))
	// Output: deadline of 100ms exceeded true
}
