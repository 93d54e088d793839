package ledger

import (
	"context"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/prometheus/client_golang/prometheus"
)

func TestPutJobIdempotent(t *testing.T) {
	l, _ := openTest(t)
	j := Job{ID: "a", Role: RoleClient, State: JobRequested, Price: big.NewInt(10), Deadline: time.Now()}
	got, err := l.PutJob(ctxb, j)
	if err != nil {
		t.Fatal(err)
	}
	again, err := l.PutJob(ctxb, j)
	if err != nil || !again.Created.Equal(got.Created) {
		t.Fatalf("re-put: %v %v", again.Created, err)
	}
	j.Price = big.NewInt(11)
	if _, err := l.PutJob(ctxb, j); !errors.Is(err, ErrExists) {
		t.Fatalf("different re-put: %v", err)
	}
	if h, _ := l.History(ctxb, "a"); len(h) != 1 || h[0].From != "" || h[0].To != "requested" {
		t.Fatalf("history %+v", h)
	}
}

func TestPutJobInvalid(t *testing.T) {
	l, _ := openTest(t)
	for _, j := range []Job{
		{ID: "", Role: RoleClient, State: JobRequested},
		{ID: string(make([]byte, maxID+1)), Role: RoleClient, State: JobRequested},
		{ID: "x", Role: "boss", State: JobRequested},
		{ID: "x", Role: RoleClient, State: JobRunning},   // not initial
		{ID: "x", Role: RoleProvider, State: JobBidding}, // client state
	} {
		if _, err := l.PutJob(ctxb, j); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q/%s/%s: %v", j.ID, j.Role, j.State, err)
		}
	}
	if _, err := l.Job(ctxb, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if _, err := l.Transition(ctxb, "nope", JobBidding, nil); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
}

// A replayed message or re-sent transaction changes nothing.
func TestTransitionReplay(t *testing.T) {
	l, clk := openTest(t)
	if _, err := l.PutJob(ctxb, Job{ID: "p", Role: RoleProvider, State: JobBidSent}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []JobState{JobAwarded, JobPaymentVerified, JobRunning} {
		if _, err := l.Transition(ctxb, "p", s, nil); err != nil {
			t.Fatal(err)
		}
	}
	setRes := func(cid string) func(*Job) error {
		return func(j *Job) error {
			j.ResultCID = cid
			j.Result = []byte("envelope-" + cid)
			return nil
		}
	}
	first, err := l.Transition(ctxb, "p", JobResultStored, setRes("bafyA"))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	again, err := l.Transition(ctxb, "p", JobResultStored, setRes("bafyA"))
	if err != nil || !again.Updated.Equal(first.Updated) {
		t.Fatalf("replay not a no-op: %v, updated %v vs %v", err, again.Updated, first.Updated)
	}
	if _, err := l.Transition(ctxb, "p", JobResultStored, setRes("bafyB")); !errors.Is(err, ErrConflict) {
		t.Fatalf("different data: %v", err)
	}
	// Replay of an earlier step once the job moved on: stale, no change.
	_, err = l.Transition(ctxb, "p", JobAwarded, nil)
	if !errors.Is(err, ErrStale) || !errors.Is(err, ErrBadTransition) {
		t.Fatalf("stale replay: %v", err)
	}
	j, _ := l.Job(ctxb, "p")
	if j.State != JobResultStored || j.ResultCID != "bafyA" {
		t.Fatalf("record %s %s", j.State, j.ResultCID)
	}
	h, _ := l.History(ctxb, "p")
	if len(h) != 5 {
		t.Fatalf("%d events, want 5", len(h))
	}
}

func TestTransitionGuards(t *testing.T) {
	l, _ := openTest(t)
	if _, err := l.PutJob(ctxb, Job{ID: "c", Role: RoleClient, State: JobRequested}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	for name, tc := range map[string]struct {
		to     JobState
		mutate func(*Job) error
		want   error
	}{
		"mutate error":   {JobBidding, func(*Job) error { return boom }, boom},
		"change id":      {JobBidding, func(j *Job) error { j.ID = "d"; return nil }, ErrInvalid},
		"change role":    {JobBidding, func(j *Job) error { j.Role = RoleProvider; return nil }, ErrInvalid},
		"provider state": {JobBidSent, nil, ErrInvalid},
		"unknown state":  {"nap", nil, ErrInvalid},
	} {
		if _, err := l.Transition(ctxb, "c", tc.to, tc.mutate); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	if _, err := l.Transition(ctxb, "c", JobBidding, func(*Job) error { panic("caller bug") }); err == nil || errors.Is(err, ErrCorrupt) {
		t.Errorf("mutate panic: %v", err)
	}
	// mutate may not scribble on the stored record through shared pointers.
	if _, err := l.UpdateJob(ctxb, "c", func(j *Job) error { j.Price = big.NewInt(5); return nil }); err != nil {
		t.Fatal(err)
	}
	_, _ = l.Transition(ctxb, "c", JobBidding, func(j *Job) error { j.Price.SetInt64(99); return boom })
	if j, _ := l.Job(ctxb, "c"); j.State != JobRequested || j.Price.Int64() != 5 {
		t.Fatalf("failed mutate leaked: %s %s", j.State, j.Price)
	}
	if _, err := l.UpdateJob(ctxb, "c", func(j *Job) error { j.State = JobBidding; return nil }); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
}

func TestUpdateAtomic(t *testing.T) {
	l, _ := openTest(t)
	if _, err := l.PutJob(ctxb, Job{ID: "c", Role: RoleClient, State: JobBidding}); err != nil {
		t.Fatal(err)
	}
	deal := Deal{ID: hash(1), Role: RoleClient, State: DealOpening, JobID: "c", Price: big.NewInt(7), Deadline: 100}
	boom := errors.New("tx not sent")
	err := l.Update(ctxb, func(tx *Tx) error {
		if _, err := tx.Transition("c", JobPaying, func(j *Job) error { j.DealID = deal.ID; return nil }); err != nil {
			return err
		}
		if _, err := tx.PutDeal(deal); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if j, _ := l.Job(ctxb, "c"); j.State != JobBidding {
		t.Fatalf("rolled back job is %s", j.State)
	}
	if _, err := l.Deal(ctxb, deal.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rolled back deal: %v", err)
	}
	if h, _ := l.History(ctxb, "c"); len(h) != 1 {
		t.Fatalf("rolled back history: %d events", len(h))
	}
	err = l.Update(ctxb, func(tx *Tx) error {
		if _, err := tx.Transition("c", JobPaying, func(j *Job) error { j.DealID = deal.ID; return nil }); err != nil {
			return err
		}
		_, err := tx.PutDeal(deal)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := l.History(ctxb, "c"); len(h) != 3 || h[2].Kind != "deal" {
		t.Fatalf("history %+v", h)
	}
	// Writes fail in a View.
	if err := l.View(ctxb, func(tx *Tx) error {
		_, err := tx.Transition("c", JobAwarded, nil)
		return err
	}); err == nil {
		t.Fatal("write in a view")
	}
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	l, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.PutJob(ctxb, Job{ID: "j", Role: RoleProvider, State: JobBidSent, Price: new(big.Int).Lsh(big.NewInt(1), 200)}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Transition(ctxb, "j", JobAwarded, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.PutChannel(ctxb, Channel{ID: hash(1), Role: RoleProvider, State: ChannelOpen, Deposit: big.NewInt(100)}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AcceptVoucher(ctxb, Voucher{ChannelID: hash(1), Cumulative: big.NewInt(30), Signature: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordAward(ctxb, "j", "n1"); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordPayment(ctxb, Payment{ID: "p1", Kind: PaymentEarned, Amount: big.NewInt(30)}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal("second close:", err)
	}
	if _, err := l.Job(ctxb, "j"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}

	l, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	j, err := l.Job(ctxb, "j")
	if err != nil || j.State != JobAwarded || j.Price.BitLen() != 201 {
		t.Fatalf("job after reopen: %+v %v", j, err)
	}
	c, _ := l.Channel(ctxb, hash(1))
	if c.Promised.Int64() != 30 {
		t.Fatalf("channel after reopen: %+v", c)
	}
	if err := l.RecordAward(ctxb, "j", "n1"); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("award after reopen: %v", err)
	}
	if tot, _ := l.Totals(ctxb); tot.Earned.Int64() != 30 {
		t.Fatalf("totals %+v", tot)
	}
	if err := checkInvariants(l); err != nil {
		t.Fatal(err)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	l, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = Open(path, &Options{Timeout: 10 * time.Millisecond})
	if err == nil || errors.Is(err, ErrCorrupt) {
		t.Fatalf("second open: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing-dir", FileName), nil); err == nil || errors.Is(err, ErrCorrupt) {
		t.Fatalf("open in a missing dir: %v", err)
	}
}

func TestCancelledContext(t *testing.T) {
	l, _ := openTest(t)
	ctx, cancel := context.WithCancel(ctxb)
	cancel()
	if _, err := l.PutJob(ctx, Job{ID: "a", Role: RoleClient, State: JobRequested}); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

func TestAwardsAndSeen(t *testing.T) {
	l, _ := openTest(t)
	if err := l.RecordAward(ctxb, "job", "nonce-1"); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordAward(ctxb, "job", "nonce-1"); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("same award twice: %v", err)
	}
	if err := l.RecordAward(ctxb, "job", "nonce-2"); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordAward(ctxb, "job2", "nonce-1"); err != nil {
		t.Fatal("same nonce for another job:", err)
	}
	if ok, _ := l.Seen(ctxb, "award/job", "nonce-1"); !ok {
		t.Fatal("not seen")
	}
	if ok, _ := l.Seen(ctxb, "award/job", "nonce-3"); ok {
		t.Fatal("seen")
	}
	if err := l.MarkSeen(ctxb, "", "k"); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	// Award accepted atomically with the job's transition: a replayed award
	// fails as a whole and leaves the job alone.
	if _, err := l.PutJob(ctxb, Job{ID: "p", Role: RoleProvider, State: JobBidSent}); err != nil {
		t.Fatal(err)
	}
	accept := func() error {
		return l.Update(ctxb, func(tx *Tx) error {
			if err := tx.RecordAward("p", "n"); err != nil {
				return err
			}
			_, err := tx.Transition("p", JobAwarded, nil)
			return err
		})
	}
	if err := accept(); err != nil {
		t.Fatal(err)
	}
	if err := accept(); !errors.Is(err, ErrDuplicate) {
		t.Fatal(err)
	}
}

func TestVouchersProvider(t *testing.T) {
	l, clk := openTest(t)
	ch := hash(1)
	if _, err := l.AcceptVoucher(ctxb, Voucher{ChannelID: ch, Cumulative: big.NewInt(1), Signature: []byte{1}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown channel: %v", err)
	}
	if _, err := l.PutChannel(ctxb, Channel{ID: ch, Role: RoleProvider, State: ChannelOpen, Deposit: big.NewInt(100), Client: addr(1)}); err != nil {
		t.Fatal(err)
	}
	v := func(cum int64, job string) Voucher {
		return Voucher{ChannelID: ch, Cumulative: big.NewInt(cum), Signature: []byte{byte(cum)}, JobID: job}
	}
	for i, tc := range []struct {
		v    Voucher
		want error
	}{
		{v(10, "j1"), nil},
		{v(10, "j1"), ErrVoucherNotHigher}, // replay
		{v(5, "j0"), ErrVoucherNotHigher},  // lower
		{v(25, "j2"), nil},
		{v(25, "j3"), ErrVoucherNotHigher}, // equal, other job
		{v(101, "j4"), ErrInsufficientDeposit},
		{v(100, "j4"), nil},
		{Voucher{ChannelID: ch, Cumulative: big.NewInt(200)}, ErrInvalid}, // no signature
		{Voucher{ChannelID: ch, Cumulative: big.NewInt(-1), Signature: []byte{1}}, ErrInvalid}, // negative
		{Voucher{ChannelID: ch, Signature: []byte{1}}, ErrInvalid},                             // nil
	} {
		clk.Advance(time.Minute)
		_, err := l.AcceptVoucher(ctxb, tc.v)
		if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("%d: %v, want %v", i, err, tc.want)
		}
	}
	c, _ := l.Channel(ctxb, ch)
	if c.Promised.Int64() != 100 || c.Latest.JobID != "j4" || c.Unredeemed().Int64() != 100 {
		t.Fatalf("channel %+v", c)
	}
	vs, _ := l.Vouchers(ctxb, ch)
	if len(vs) != 3 || vs[0].Cumulative.Int64() != 10 || vs[1].Amount.Int64() != 15 {
		t.Fatalf("vouchers %+v", vs)
	}
	// A client channel refuses provider-side acceptance.
	if _, err := l.PutChannel(ctxb, Channel{ID: hash(2), Role: RoleClient, State: ChannelOpen, Deposit: big.NewInt(100)}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AcceptVoucher(ctxb, Voucher{ChannelID: hash(2), Cumulative: big.NewInt(1), Signature: []byte{1}}); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	// Not open: refused.
	if _, err := l.TransitionChannel(ctxb, ch, ChannelExiting, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AcceptVoucher(ctxb, v(150, "j5")); !errors.Is(err, ErrBadTransition) {
		t.Fatal(err)
	}
}

func TestVouchersClient(t *testing.T) {
	l, _ := openTest(t)
	ch := hash(1)
	if _, err := l.PutChannel(ctxb, Channel{ID: ch, Role: RoleClient, State: ChannelOpen, Deposit: big.NewInt(50)}); err != nil {
		t.Fatal(err)
	}
	signs := 0
	sign := func(cum *big.Int) ([]byte, error) { signs++; return []byte("sig" + cum.String()), nil }
	v1, err := l.IssueVoucher(ctxb, ch, "j1", big.NewInt(20), sign)
	if err != nil || v1.Cumulative.Int64() != 20 || string(v1.Signature) != "sig20" {
		t.Fatalf("%+v %v", v1, err)
	}
	again, err := l.IssueVoucher(ctxb, ch, "j1", big.NewInt(20), sign)
	if err != nil || again.Cumulative.Int64() != 20 || signs != 1 {
		t.Fatalf("re-issue for the same job charged again: %+v %v signs=%d", again, err, signs)
	}
	if _, err := l.IssueVoucher(ctxb, ch, "j1", big.NewInt(21), sign); !errors.Is(err, ErrConflict) {
		t.Fatalf("re-issue with another amount: %v", err)
	}
	if _, err := l.IssueVoucher(ctxb, ch, "jp", big.NewInt(1), func(*big.Int) ([]byte, error) { panic("signer bug") }); err == nil || errors.Is(err, ErrCorrupt) {
		t.Fatalf("panicking signer: %v", err)
	}
	v2, err := l.IssueVoucher(ctxb, ch, "j2", big.NewInt(30), sign)
	if err != nil || v2.Cumulative.Int64() != 50 {
		t.Fatalf("%+v %v", v2, err)
	}
	if _, err := l.IssueVoucher(ctxb, ch, "j3", big.NewInt(1), sign); !errors.Is(err, ErrInsufficientDeposit) {
		t.Fatal(err)
	}
	boom := errors.New("no key")
	if _, err := l.UpdateChannel(ctxb, ch, func(c *Channel) error { c.Deposit = big.NewInt(80); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := l.IssueVoucher(ctxb, ch, "j3", big.NewInt(1), func(*big.Int) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if c, _ := l.Channel(ctxb, ch); c.Promised.Int64() != 50 {
		t.Fatalf("failed signing reserved money: %s", c.Promised)
	}
	for _, amt := range []*big.Int{nil, big.NewInt(0), big.NewInt(-3)} {
		if _, err := l.IssueVoucher(ctxb, ch, "j4", amt, sign); !errors.Is(err, ErrInvalid) {
			t.Fatal(err)
		}
	}
	if h, _ := l.History(ctxb, "j2"); len(h) != 1 || h[0].Kind != "voucher" || h[0].To != "50" {
		t.Fatalf("history %+v", h)
	}
}

func TestRecordRedeemed(t *testing.T) {
	l, clk := openTest(t)
	ch := hash(1)
	if _, err := l.PutChannel(ctxb, Channel{ID: ch, Role: RoleProvider, State: ChannelOpen, Deposit: big.NewInt(100)}); err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	for i, cum := range []int64{10, 20, 30} {
		id := JobKey("client", string(rune('a'+i)))
		if _, err := l.PutJob(ctxb, Job{ID: id, Role: RoleProvider, State: JobAwarded, ChannelID: ch, Voucher: big.NewInt(cum)}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		if _, err := l.AcceptVoucher(ctxb, Voucher{ChannelID: ch, Cumulative: big.NewInt(cum), Signature: []byte{1}, JobID: id}); err != nil {
			t.Fatal(err)
		}
		for _, s := range []JobState{JobPaymentVerified, JobRunning, JobResultStored, JobResultSent, JobVoucherHeld} {
			if _, err := l.Transition(ctxb, id, s, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Due by amount, by age, by nothing.
	due := func(min *big.Int, age time.Duration, now time.Time) int {
		cs, err := l.VouchersToRedeem(ctxb, min, age, now)
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)
	}
	if due(big.NewInt(31), 0, start) != 0 || due(big.NewInt(30), 0, start) != 1 || due(nil, 0, start) != 1 {
		t.Fatal("by amount")
	}
	if due(big.NewInt(1000), time.Hour, start.Add(30*time.Minute)) != 0 || due(big.NewInt(1000), time.Hour, start.Add(2*time.Hour)) != 1 {
		t.Fatal("by age")
	}
	c, err := l.RecordRedeemed(ctxb, ch, big.NewInt(20), hash(99))
	if err != nil || c.Redeemed.Int64() != 20 || c.Unredeemed().Int64() != 10 {
		t.Fatalf("%+v %v", c, err)
	}
	// The oldest unredeemed voucher is now the third one (~3 minutes in).
	if !c.UnredeemedSince.After(start.Add(2 * time.Minute)) {
		t.Fatalf("unredeemed since %v (start %v)", c.UnredeemedSince, start)
	}
	jobs, _ := l.Jobs(ctxb, JobFilter{Role: RoleProvider, States: []JobState{JobRedeemed}})
	if len(jobs) != 2 {
		t.Fatalf("%d jobs redeemed, want 2", len(jobs))
	}
	// Older fact: no change.
	if c, _ := l.RecordRedeemed(ctxb, ch, big.NewInt(10), common.Hash{}); c.Redeemed.Int64() != 20 {
		t.Fatal("redeemed went backwards")
	}
	if c, _ := l.RecordRedeemed(ctxb, ch, big.NewInt(30), common.Hash{}); !c.UnredeemedSince.IsZero() || c.Unredeemed().Sign() != 0 {
		t.Fatalf("%+v", c)
	}
	if due(nil, 0, start) != 0 {
		t.Fatal("fully redeemed channel still due")
	}
	if un, _ := l.Unfinished(ctxb); len(un) != 0 {
		t.Fatalf("%d unfinished", len(un))
	}
}

func TestJobsQuery(t *testing.T) {
	l, clk := openTest(t)
	mid := time.Time{}
	for i := 0; i < 10; i++ {
		role, st := RoleClient, JobRequested
		if i%2 == 1 {
			role, st = RoleProvider, JobBidSent
		}
		if i == 5 {
			mid = clk.Now()
		}
		if _, err := l.PutJob(ctxb, Job{ID: string(rune('a' + i)), Role: role, State: st}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Transition(ctxb, "a", JobCancelled, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Transition(ctxb, "b", JobFailed, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    JobFilter
		want string
	}{
		{JobFilter{}, "jihgfedcba"},
		{JobFilter{Role: RoleClient}, "igeca"},
		{JobFilter{Role: RoleProvider, States: []JobState{JobBidSent}}, "jhfd"},
		{JobFilter{Since: mid}, "jihgf"},
		{JobFilter{Limit: 3}, "jih"},
		{JobFilter{States: []JobState{JobCancelled, JobFailed}}, "ba"},
	} {
		got, err := l.Jobs(ctxb, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		s := ""
		for _, j := range got {
			s += j.ID
		}
		if s != tc.want {
			t.Errorf("%+v: %s, want %s", tc.f, s, tc.want)
		}
	}
	un, _ := l.Unfinished(ctxb)
	if len(un) != 8 || un[0].ID != "c" {
		t.Fatalf("unfinished %d, first %s", len(un), un[0].ID)
	}
	// Undelivered: provider results stored, not sent.
	if _, err := l.PutJob(ctxb, Job{ID: "u", Role: RoleProvider, State: JobAwarded}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []JobState{JobPaymentVerified, JobRunning, JobResultStored} {
		if _, err := l.Transition(ctxb, "u", s, func(j *Job) error { j.Result = []byte("env"); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if u, _ := l.Undelivered(ctxb); len(u) != 1 || string(u[0].Result) != "env" {
		t.Fatalf("undelivered %+v", u)
	}
}

func TestDealQueries(t *testing.T) {
	l, _ := openTest(t)
	now := time.Unix(1_000_000, 0)
	mk := func(i int, role Role, st DealState, f func(*Deal)) {
		d := Deal{ID: hash(i), Role: role, State: DealOpening, Price: big.NewInt(1)}
		if _, err := l.PutDeal(ctxb, d); err != nil {
			t.Fatal(err)
		}
		if _, err := l.TransitionDeal(ctxb, d.ID, DealOpened, nil); err != nil {
			t.Fatal(err)
		}
		if st == DealSubmitted {
			if _, err := l.TransitionDeal(ctxb, d.ID, st, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := l.UpdateDeal(ctxb, d.ID, func(d *Deal) error { f(d); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	mk(1, RoleProvider, DealSubmitted, func(d *Deal) { d.SubmittedAt, d.ChallengeWindow = 999_000, 999 })  // window ends 999_999 < now: claim
	mk(2, RoleProvider, DealSubmitted, func(d *Deal) { d.SubmittedAt, d.ChallengeWindow = 999_000, 1000 }) // ends exactly now: not yet
	mk(3, RoleClient, DealOpened, func(d *Deal) { d.Deadline = 999_999 })                                  // refund
	mk(4, RoleClient, DealOpened, func(d *Deal) { d.Deadline = 1_000_000 })                                // not yet
	mk(5, RoleProvider, DealOpened, func(d *Deal) { d.Deadline = 1 })                                      // not ours to refund
	c, _ := l.DealsToClaim(ctxb, now)
	r, _ := l.DealsToRefund(ctxb, now)
	if len(c) != 1 || c[0].ID != hash(1) || len(r) != 1 || r[0].ID != hash(3) {
		t.Fatalf("claim %v refund %v", c, r)
	}
	if _, err := l.UpdateDeal(ctxb, hash(1), func(d *Deal) error { d.State = DealClaimed; return nil }); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	all, _ := l.Deals(ctxb, RoleProvider)
	if len(all) != 3 {
		t.Fatal(len(all))
	}
	if _, err := l.PutDeal(ctxb, Deal{ID: hash(1), Role: RoleProvider, State: DealOpening, Price: big.NewInt(2)}); !errors.Is(err, ErrExists) {
		t.Fatal(err)
	}
	if _, err := l.PutDeal(ctxb, Deal{ID: hash(9), Role: RoleProvider, State: DealOpening}); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
}

func TestPaymentsAndTotals(t *testing.T) {
	l, _ := openTest(t)
	for _, p := range []Payment{
		{Kind: PaymentLocked, Amount: big.NewInt(100), Tx: hash(1)},
		{Kind: PaymentLocked, Amount: big.NewInt(100), Tx: hash(1)}, // re-sent: same tx
		{Kind: PaymentPaid, Amount: big.NewInt(60), Tx: hash(2), JobID: "j"},
		{Kind: PaymentRefunded, Amount: big.NewInt(40), Tx: hash(3)},
		{Kind: PaymentGas, Amount: big.NewInt(7), Tx: hash(1)},
		{Kind: PaymentGas, Amount: big.NewInt(5), Tx: hash(2)},
		{ID: "earn-1", Kind: PaymentEarned, Amount: big.NewInt(60)},
		{ID: "earn-1", Kind: PaymentEarned, Amount: big.NewInt(60)},
		{Kind: PaymentWithdrawn, Amount: big.NewInt(60), Tx: hash(4)},
	} {
		if err := l.RecordPayment(ctxb, p); err != nil {
			t.Fatal(err)
		}
	}
	tot, err := l.Totals(ctxb)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Locked.Int64() != 100 || tot.Paid.Int64() != 60 || tot.Refunded.Int64() != 40 || tot.Gas.Int64() != 12 ||
		tot.Earned.Int64() != 60 || tot.Withdrawn.Int64() != 60 || tot.Staked.Sign() != 0 || tot.Count != 7 {
		t.Fatalf("%+v", tot)
	}
	gas, _ := l.Payments(ctxb, 0, PaymentGas)
	last, _ := l.Payments(ctxb, 2)
	if len(gas) != 2 || len(last) != 2 || last[1].Kind != PaymentWithdrawn {
		t.Fatalf("gas %d last %+v", len(gas), last)
	}
	for _, p := range []Payment{
		{Kind: "bribe", Amount: big.NewInt(1), Tx: hash(9)},
		{Kind: PaymentGas, Tx: hash(9)},
		{Kind: PaymentGas, Amount: big.NewInt(-1), Tx: hash(9)},
		{Kind: PaymentGas, Amount: big.NewInt(1)}, // neither ID nor Tx
	} {
		if err := l.RecordPayment(ctxb, p); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", p, err)
		}
	}
}

func TestReputation(t *testing.T) {
	l, _ := openTest(t)
	p := addr(1)
	r, _ := l.Reputation(ctxb, p)
	if r.Score() != 0.5 || r.Provider != p {
		t.Fatalf("unknown: %+v %v", r, r.Score())
	}
	for i, o := range []Outcome{OutcomeSuccess, OutcomeSuccess, OutcomeSuccess, OutcomeFailure} {
		if _, err := l.RecordOutcome(ctxb, p, string(rune('a'+i)), o); err != nil {
			t.Fatal(err)
		}
	}
	r, _ = l.RecordOutcome(ctxb, p, "a", OutcomeSuccess) // replay
	if r.Successes != 3 || r.Failures != 1 {
		t.Fatalf("%+v", r)
	}
	r, _ = l.RecordOutcome(ctxb, p, "a", OutcomeDisagreement) // revised
	if r.Successes != 2 || r.Disagreements != 1 {
		t.Fatalf("%+v", r)
	}
	if got, want := r.Score(), 3.0/(2+1+3+2); got != want {
		t.Fatalf("score %v want %v", got, want)
	}
	good := addr(2)
	for i := 0; i < 5; i++ {
		_, _ = l.RecordOutcome(ctxb, good, string(rune('a'+i)), OutcomeSuccess)
	}
	reps, _ := l.Reputations(ctxb)
	if len(reps) != 2 || reps[0].Provider != good {
		t.Fatalf("%+v", reps)
	}
	if _, err := l.RecordOutcome(ctxb, p, "z", "meh"); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	// Score stays in [0,1] at the extremes.
	for _, r := range []Rep{{}, {Successes: 1 << 40}, {Failures: 1 << 40}, {Disagreements: 1 << 40}} {
		if s := r.Score(); s < 0 || s > 1 {
			t.Fatalf("%+v: %v", r, s)
		}
	}
}

func TestHistoryPrefixIsolation(t *testing.T) {
	l, _ := openTest(t)
	// "a" must not see the events of "ab" (keys share a prefix).
	if _, err := l.PutJob(ctxb, Job{ID: "a\x00b", Role: RoleClient, State: JobRequested}); !errors.Is(err, ErrInvalid) {
		t.Fatal("NUL in an ID:", err)
	}
	for _, id := range []string{"a", "ab", "a\x01"} {
		if _, err := l.PutJob(ctxb, Job{ID: id, Role: RoleClient, State: JobRequested}); err != nil {
			t.Fatal(err)
		}
	}
	if h, _ := l.History(ctxb, "a"); len(h) != 1 || h[0].ID != "a" {
		t.Fatalf("%+v", h)
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		return
	}
	os.Exit(m.Run())
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	l, err := Open(filepath.Join(t.TempDir(), FileName), &Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.PutJob(ctxb, Job{ID: "a", Role: RoleClient, State: JobRequested}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Transition(ctxb, "a", JobBidding, nil); err != nil {
		t.Fatal(err)
	}
	_ = l.Update(ctxb, func(tx *Tx) error { // rolled back: not counted
		_, _ = tx.Transition("a", JobPaying, nil)
		return errors.New("abort")
	})
	rawPut(t, l, bucketJobs, []byte("bad"), []byte("{"))
	_, _ = l.Job(ctxb, "bad")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, lp := range m.GetLabel() {
				key += "," + lp.GetName() + "=" + lp.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				got[key] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				got[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	want := map[string]float64{
		"cloudless_ledger_transitions_total,kind=job,to=requested": 1,
		"cloudless_ledger_transitions_total,kind=job,to=bidding":   1,
		"cloudless_ledger_corrupt_errors_total":                    1,
		"cloudless_ledger_commit_duration_seconds":                 2, // the aborted Update and rawPut are not counted
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("series %v", got)
	}
	if _, err := Open(filepath.Join(t.TempDir(), FileName), &Options{Registerer: reg}); err == nil {
		t.Fatal("double registration accepted")
	}
}
