package ledger

import (
	"context"
	"errors"
	"math/big"
	"sync"
	"testing"
)

func TestAdvance(t *testing.T) {
	l, _ := openTest(t)
	ctx := context.Background()
	if _, err := l.PutJob(ctx, Job{ID: "p", Role: RoleProvider, State: JobAwarded}); err != nil {
		t.Fatal(err)
	}
	var j Job
	err := l.Update(ctx, func(tx *Tx) (err error) {
		j, err = tx.Advance("p", JobCommitted, func(j *Job) error { j.ResultCID = "bafy"; return nil })
		return
	})
	if err != nil || j.State != JobCommitted || j.ResultCID != "bafy" {
		t.Fatalf("advance: %+v %v", j, err)
	}
	// One event per edge: awarded > payment_verified > running > result_stored > committed.
	if h, _ := l.History(ctx, "p"); len(h) != 5 {
		t.Errorf("history %d events, want 5", len(h))
	}
	// Behind: fields only, state kept.
	err = l.Update(ctx, func(tx *Tx) (err error) {
		j, err = tx.Advance("p", JobRunning, func(j *Job) error { j.Error = "late"; return nil })
		return
	})
	if err != nil || j.State != JobCommitted || j.Error != "late" {
		t.Fatalf("stale advance: %+v %v", j, err)
	}
	// Terminal: nowhere else.
	_ = l.Update(ctx, func(tx *Tx) error { _, err := tx.Advance("p", JobPaid, nil); return err })
	err = l.Update(ctx, func(tx *Tx) error { _, err := tx.Advance("p", JobVoucherHeld, nil); return err })
	if !errors.Is(err, ErrBadTransition) {
		t.Errorf("paid -> voucher_held: %v, want ErrBadTransition", err)
	}
}

// TestChannelCredit: out-of-order awards, a credit, the next voucher
// reusing it, and redemption of only what was charged.
func TestChannelCredit(t *testing.T) {
	l, _ := openTest(t)
	ctx := context.Background()
	ch := hash(1)
	p := big.NewInt(100)
	mustPut := func(role Role, id [32]byte) {
		if _, err := l.PutChannel(ctx, Channel{ID: id, Role: role, State: ChannelOpen, Client: addr(1), Provider: addr(2), Deposit: big.NewInt(1000)}); err != nil {
			t.Fatal(err)
		}
	}
	mustPut(RoleProvider, ch)
	pay := func(cum int64, job string) error {
		return l.Update(ctx, func(tx *Tx) error {
			_, err := tx.AcceptPayment(Voucher{ChannelID: ch, Cumulative: big.NewInt(cum), Signature: []byte{byte(cum)}}, job, p)
			return err
		})
	}
	// The award for 200 overtakes the one for 100: both are covered.
	if err := pay(200, "j2"); err != nil {
		t.Fatal(err)
	}
	if err := pay(100, "j1"); err != nil {
		t.Fatalf("overtaken award: %v", err)
	}
	if err := pay(200, "j3"); !errors.Is(err, ErrVoucherNotHigher) {
		t.Fatalf("a third job on the same voucher: %v, want ErrVoucherNotHigher", err)
	}
	if err := pay(300, "j1"); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("paying j1 twice: %v, want ErrDuplicate", err)
	}
	// j2 was stopped: credit it (twice: idempotent).
	for range 2 {
		if err := l.Update(ctx, func(tx *Tx) error { _, err := tx.CreditJob(ch, "j2", p); return err }); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := l.Channel(ctx, ch)
	if c.Charged().Int64() != 100 || c.Promised.Int64() != 200 || c.Unredeemed().Int64() != 100 {
		t.Fatalf("after credit: charged %s promised %s unredeemed %s", c.Charged(), c.Promised, c.Unredeemed())
	}
	var v Voucher
	var ok bool
	_ = l.View(ctx, func(tx *Tx) (err error) { v, ok, err = tx.Redeemable(ch); return })
	if !ok || v.Cumulative.Int64() != 100 {
		t.Fatalf("redeemable %+v %v, want the voucher for 100", v, ok)
	}
	// The next job is paid by the credit: the same cumulative 200.
	if err := pay(200, "j4"); err != nil {
		t.Fatalf("credit not reused: %v", err)
	}
	if c, _ = l.Channel(ctx, ch); c.Charged().Int64() != 200 || c.Credit != nil {
		t.Errorf("charged %s credit %v", c.Charged(), c.Credit)
	}

	// Client side: IssueVoucher signs Charged()+amount after a credit.
	cc := hash(2)
	mustPut(RoleClient, cc)
	issue := func(job string) *big.Int {
		v, err := l.IssueVoucher(ctx, cc, job, p, func(*big.Int) ([]byte, error) { return []byte{1}, nil })
		if err != nil {
			t.Fatal(err)
		}
		return v.Cumulative
	}
	issue("a")
	if err := l.Update(ctx, func(tx *Tx) error { _, err := tx.CreditJob(cc, "a", p); return err }); err != nil {
		t.Fatal(err)
	}
	if got := issue("b"); got.Int64() != 100 {
		t.Errorf("voucher after a credit: %s, want 100", got)
	}
}

// TestGroupCommit: concurrent writers, one of which fails, all get their
// own result and the others' writes all land.
func TestGroupCommit(t *testing.T) {
	l, _ := openTest(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Go(func() {
			errs[i] = l.Update(ctx, func(tx *Tx) error {
				if i == 7 {
					return errors.New("boom")
				}
				_, err := tx.PutJob(Job{ID: string(rune('a'+i%26)) + string(rune('0'+i/26)), Role: RoleClient, State: JobRequested})
				return err
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 7) != (err != nil) {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	js, err := l.Jobs(ctx, JobFilter{})
	if err != nil || len(js) != 39 {
		t.Errorf("%d jobs (%v), want 39", len(js), err)
	}
}

// TestChannelCreditAfterRedeem: a provider that redeemed a job's voucher
// right after the award can still credit that job in full, so both
// ledgers agree on Charged and the client's next voucher (the same
// cumulative amount) pays the next job.
func TestChannelCreditAfterRedeem(t *testing.T) {
	l, _ := openTest(t)
	ctx := context.Background()
	ch := hash(3)
	p := big.NewInt(100)
	if _, err := l.PutChannel(ctx, Channel{ID: ch, Role: RoleProvider, State: ChannelOpen, Client: addr(1), Provider: addr(2), Deposit: big.NewInt(1000)}); err != nil {
		t.Fatal(err)
	}
	pay := func(cum int64, job string) error {
		return l.Update(ctx, func(tx *Tx) error {
			_, err := tx.AcceptPayment(Voucher{ChannelID: ch, Cumulative: big.NewInt(cum), Signature: []byte{byte(cum)}}, job, p)
			return err
		})
	}
	if err := pay(100, "j1"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.UpdateChannel(ctx, ch, func(c *Channel) error { c.Redeemed = big.NewInt(100); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := l.Update(ctx, func(tx *Tx) error { _, err := tx.CreditJob(ch, "j1", p); return err }); err != nil {
		t.Fatal(err)
	}
	c, _ := l.Channel(ctx, ch)
	if c.Charged().Sign() != 0 || c.Unredeemed().Sign() != 0 {
		t.Fatalf("after crediting a redeemed job: charged %s unredeemed %s, want 0 and 0", c.Charged(), c.Unredeemed())
	}
	var ok bool
	_ = l.View(ctx, func(tx *Tx) (err error) { _, ok, err = tx.Redeemable(ch); return })
	if ok {
		t.Fatal("a voucher is redeemable although everything charged was redeemed")
	}
	// The client's next voucher reuses the credit: the same cumulative 100.
	if err := pay(100, "j2"); err != nil {
		t.Fatalf("next job on the credited amount: %v", err)
	}
	if c, _ = l.Channel(ctx, ch); c.Charged().Int64() != 100 || c.Unredeemed().Sign() != 0 {
		t.Errorf("after the next job: charged %s unredeemed %s, want 100 and 0", c.Charged(), c.Unredeemed())
	}
}
