// Command cloudless is the one binary of the cloudless node: every user-facing
// action (init, node, exec, publish, run, devnet, demo, ...) is a subcommand.
// It is thin on purpose: it parses flags, opens the repo or dials the daemon's
// control API, calls into the packages that do the work and formats output.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err))
}

// exitCode reports err on stderr as one line and maps it to a process exit
// code. An *ExitCodeError passes its code through silently when it carries no
// message (a job's own non-zero exit).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ec *ExitCodeError
	if errors.As(err, &ec) {
		if ec.Err != nil {
			fmt.Fprintf(os.Stderr, "cloudless: %v\n", ec.Err)
		}
		return ec.Code
	}
	fmt.Fprintf(os.Stderr, "cloudless: %v\n", err)
	return 1
}

// ExitCodeError makes the process exit with Code. Err, if set, is printed as
// the one-line reason.
type ExitCodeError struct {
	Code int
	Err  error
}

func (e *ExitCodeError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitCodeError) Unwrap() error { return e.Err }
