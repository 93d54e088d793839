package ledger

import (
	"bufio"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Fault injection: a child process (this test binary, re-executed with
// crashChildEnv set) performs transitions in a loop and prints each one to
// stdout only after the call returned; the parent SIGKILLs it at a random
// point. After every kill the file must open cleanly, pass bbolt's check,
// hold only records in states reachable by legal moves, and keep every
// acknowledged transition (the record is in the acked state or one
// reachable from it). Modeled on etcd-io/bbolt/tests/failpoint.

const (
	crashChildEnv = "CLOUDLESS_LEDGER_CRASH_CHILD" // ledger path
	crashRoundEnv = "CLOUDLESS_LEDGER_CRASH_ROUND"
	crashChannel  = 424242
	childMaxOps   = 20000 // a child whose parent died stops by itself
)

// crashChild is the child's main. Output lines:
//
//	J <id> <role> <state>   job transition/creation acknowledged
//	D <id> <deal hash>      job+deal written atomically
//	V <cumulative>          voucher accepted on the crash channel
func crashChild() {
	path := os.Getenv(crashChildEnv)
	round, _ := strconv.Atoi(os.Getenv(crashRoundEnv))
	l, err := Open(path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	out := bufio.NewWriterSize(os.Stdout, 0) // unbuffered: print == acknowledged
	ack := func(format string, a ...any) {
		if _, err := fmt.Fprintf(out, format+"\n", a...); err != nil {
			os.Exit(3)
		}
		_ = out.Flush()
	}
	rng := rand.New(rand.NewPCG(uint64(round), 7))
	ch := hash(crashChannel)
	if _, err := l.PutChannel(ctxb, Channel{ID: ch, Role: RoleProvider, State: ChannelOpen, Deposit: new(big.Int).Lsh(big.NewInt(1), 100)}); err != nil && !errors.Is(err, ErrExists) {
		fmt.Fprintln(os.Stderr, "child channel:", err)
		os.Exit(2)
	}
	for op := 0; op < childMaxOps; op++ {
		role := RoleClient
		if rng.IntN(2) == 0 {
			role = RoleProvider
		}
		m, _ := jobMachine(role)
		id := fmt.Sprintf("r%d-j%d", round, op)
		j, err := l.PutJob(ctxb, Job{ID: id, Role: role, State: m.initial[rng.IntN(len(m.initial))], Extra: make([]byte, rng.IntN(3000))})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child put:", err)
			os.Exit(2)
		}
		ack("J %s %s %s", id, role, j.State)
		for !j.Terminal() {
			next := m.edges[j.State][rng.IntN(len(m.edges[j.State]))]
			if role == RoleClient && next == JobPaying {
				// Job and deal in one transaction.
				deal := hash(1_000_000 + round*childMaxOps + op)
				err = l.Update(ctxb, func(tx *Tx) error {
					var err error
					j, err = tx.Transition(id, next, func(j *Job) error { j.DealID = deal; return nil })
					if err != nil {
						return err
					}
					_, err = tx.PutDeal(Deal{ID: deal, Role: RoleClient, State: DealOpening, JobID: id, Price: big.NewInt(int64(op + 1))})
					return err
				})
				if err == nil {
					ack("D %s %s", id, deal.Hex())
				}
			} else {
				j, err = l.Transition(ctxb, id, next, func(j *Job) error { j.Note = fmt.Sprintf("op %d", op); return nil })
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "child transition:", err)
				os.Exit(2)
			}
			ack("J %s %s %s", id, role, j.State)
		}
		if rng.IntN(3) == 0 {
			c, err := l.Channel(ctxb, ch)
			if err != nil {
				os.Exit(2)
			}
			cum := new(big.Int).Add(c.Promised, big.NewInt(int64(1+rng.IntN(1000))))
			if _, err := l.AcceptVoucher(ctxb, Voucher{ChannelID: ch, Cumulative: cum, Signature: []byte{1}, JobID: id}); err != nil {
				fmt.Fprintln(os.Stderr, "child voucher:", err)
				os.Exit(2)
			}
			ack("V %s", cum)
		}
	}
	_ = l.Close()
	os.Exit(0)
}

func TestCrashRecovery(t *testing.T) {
	rounds := 12
	if testing.Short() {
		rounds = 4
	}
	if s := os.Getenv("LEDGER_CRASH_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	path := filepath.Join(t.TempDir(), FileName)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	type acked struct {
		role  Role
		state JobState
	}
	jobs := map[string]acked{}
	dealsOf := map[string]string{}
	voucher := new(big.Int)
	killed := 0
	for round := 0; round < rounds; round++ {
		killAfter := 1 + rng.IntN(150)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path, crashRoundEnv+"="+strconv.Itoa(round))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		n := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 4 && f[0] == "J":
				jobs[f[1]] = acked{Role(f[2]), JobState(f[3])}
			case len(f) == 3 && f[0] == "D":
				dealsOf[f[1]] = f[2]
			case len(f) == 2 && f[0] == "V":
				voucher.SetString(f[1], 10)
			default:
				t.Fatalf("child said %q", sc.Text())
			}
			n++
			if n == killAfter {
				_ = cmd.Process.Kill() // SIGKILL; lines already in the pipe were acknowledged
			}
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == -1 {
			killed++
		} else if err != nil {
			t.Fatalf("round %d: child failed: %v\n%s", round, err, stderr.String())
		}

		// Reopen as the restarted node would.
		l, err := Open(path, nil)
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		if err := checkInvariants(l); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for id, a := range jobs {
			j, err := l.Job(ctxb, id)
			if err != nil {
				t.Fatalf("round %d: acknowledged job %s lost: %v", round, id, err)
			}
			m, _ := jobMachine(a.role)
			if j.State != a.state && !m.reachable(a.state, j.State) {
				t.Fatalf("round %d: job %s acked in %s, now %s", round, id, a.state, j.State)
			}
		}
		for id, dh := range dealsOf {
			j, _ := l.Job(ctxb, id)
			if j.DealID.Hex() != dh {
				t.Fatalf("job %s lost its deal", id)
			}
		}
		// Atomicity: every job with a deal has the deal, and vice versa.
		err = l.View(ctxb, func(tx *Tx) error {
			return tx.eachJob(func(j Job) error {
				if j.DealID != (common.Hash{}) {
					if _, err := tx.Deal(j.DealID); err != nil {
						return fmt.Errorf("job %s: deal %s missing: %w", j.ID, j.DealID, err)
					}
				}
				return nil
			})
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		ds, _ := l.Deals(ctxb, RoleClient)
		for _, d := range ds {
			if j, err := l.Job(ctxb, d.JobID); err != nil || j.DealID != d.ID {
				t.Fatalf("round %d: deal %s without its job update", round, d.ID)
			}
		}
		if c, err := l.Channel(ctxb, hash(crashChannel)); err == nil && c.Promised.Cmp(voucher) < 0 {
			t.Fatalf("round %d: acknowledged voucher %s lost (have %s)", round, voucher, c.Promised)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d rounds, %d children killed mid-run, %d jobs acknowledged", rounds, killed, len(jobs))
	if killed == 0 {
		t.Fatal("no child was killed: the test proved nothing")
	}
}
