package ledger

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"sort"

	"github.com/ethereum/go-ethereum/common"
)

func validKind(k PaymentKind) bool {
	switch k {
	case PaymentLocked, PaymentPaid, PaymentRefunded, PaymentEarned, PaymentGas, PaymentWithdrawn, PaymentStaked:
		return true
	}
	return false
}

// paymentID is the idempotency key of p.
func paymentID(p Payment) string {
	if p.ID != "" {
		return p.ID
	}
	return fmt.Sprintf("%s/%s/%s/%s", p.Kind, p.Tx.Hex(), p.Ref.Hex(), p.JobID)
}

// RecordPayment: see Ledger.RecordPayment. The first record of an ID wins;
// recording it again is a no-op.
//
// # Errors
//
// ErrInvalid: unknown kind, nil or negative amount, or neither ID nor Tx set
// (without either a replay could not be told from a new event).
func (tx *Tx) RecordPayment(p Payment) error {
	switch {
	case !validKind(p.Kind):
		return fmt.Errorf("%w: payment kind %q", ErrInvalid, p.Kind)
	case p.Amount == nil || p.Amount.Sign() < 0:
		return fmt.Errorf("%w: payment amount", ErrInvalid)
	case p.ID == "" && p.Tx == (common.Hash{}):
		return fmt.Errorf("%w: payment needs an ID or a Tx hash", ErrInvalid)
	}
	p.ID = paymentID(p)
	if len(p.ID) > maxID {
		return fmt.Errorf("%w: payment ID too long", ErrInvalid)
	}
	ids, err := tx.bucket(bucketPaymentIDs)
	if err != nil {
		return err
	}
	if ids.Get([]byte(p.ID)) != nil {
		return nil
	}
	b, err := tx.bucket(bucketPayments)
	if err != nil {
		return err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	if p.At.IsZero() {
		p.At = tx.now
	}
	p.At = utc(p.At)
	p.Amount = new(big.Int).Set(p.Amount)
	raw, err := encode(p)
	if err != nil {
		return err
	}
	k := binary.BigEndian.AppendUint64(nil, seq)
	if err := b.Put(k, raw); err != nil {
		return err
	}
	return ids.Put([]byte(p.ID), k)
}

func (tx *Tx) eachPayment(fn func(Payment)) error {
	b, err := tx.bucket(bucketPayments)
	if err != nil {
		return err
	}
	return b.ForEach(func(k, v []byte) error {
		p, err := decodePayment(v)
		if err != nil {
			return tx.corrupt(fmt.Sprintf("payment %x", k), err)
		}
		fn(p)
		return nil
	})
}

// Payments: see Ledger.Payments.
func (tx *Tx) Payments(limit int, kinds ...PaymentKind) ([]Payment, error) {
	var out []Payment
	err := tx.eachPayment(func(p Payment) {
		if len(kinds) == 0 || containsState(kinds, p.Kind) {
			out = append(out, p)
		}
	})
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, err
}

// Totals: see Ledger.Totals.
func (tx *Tx) Totals() (Totals, error) {
	t := Totals{Locked: new(big.Int), Paid: new(big.Int), Refunded: new(big.Int), Earned: new(big.Int),
		Gas: new(big.Int), Withdrawn: new(big.Int), Staked: new(big.Int)}
	err := tx.eachPayment(func(p Payment) {
		var sum *big.Int
		switch p.Kind {
		case PaymentLocked:
			sum = t.Locked
		case PaymentPaid:
			sum = t.Paid
		case PaymentRefunded:
			sum = t.Refunded
		case PaymentEarned:
			sum = t.Earned
		case PaymentGas:
			sum = t.Gas
		case PaymentWithdrawn:
			sum = t.Withdrawn
		case PaymentStaked:
			sum = t.Staked
		}
		sum.Add(sum, p.Amount)
		t.Count++
	})
	return t, err
}

// ---- reputation ----

func validOutcome(o Outcome) bool {
	return o == OutcomeSuccess || o == OutcomeFailure || o == OutcomeDisagreement
}

func (r *Rep) add(o Outcome, d int) {
	inc := func(x *uint64) {
		if d > 0 {
			*x++
		} else if *x > 0 {
			*x--
		}
	}
	switch o {
	case OutcomeSuccess:
		inc(&r.Successes)
	case OutcomeFailure:
		inc(&r.Failures)
	case OutcomeDisagreement:
		inc(&r.Disagreements)
	}
}

// RecordOutcome: see Ledger.RecordOutcome.
func (tx *Tx) RecordOutcome(provider common.Address, jobID string, o Outcome) (Rep, error) {
	if !validOutcome(o) {
		return Rep{}, fmt.Errorf("%w: outcome %q", ErrInvalid, o)
	}
	if err := checkID(jobID); err != nil {
		return Rep{}, err
	}
	r, err := tx.Reputation(provider)
	if err != nil {
		return Rep{}, err
	}
	jobs, err := tx.bucket(bucketRepJobs)
	if err != nil {
		return Rep{}, err
	}
	jk := append(provider.Bytes(), jobID...)
	prev := Outcome(jobs.Get(jk))
	if prev == o {
		return r, nil
	}
	if prev != "" {
		r.add(prev, -1)
	}
	r.add(o, +1)
	r.Provider, r.Updated = provider, tx.now
	raw, err := encode(r)
	if err != nil {
		return Rep{}, err
	}
	b, err := tx.bucket(bucketRep)
	if err != nil {
		return Rep{}, err
	}
	if err := b.Put(provider.Bytes(), raw); err != nil {
		return Rep{}, err
	}
	return r, jobs.Put(jk, []byte(o))
}

// Reputation: see Ledger.Reputation.
func (tx *Tx) Reputation(provider common.Address) (Rep, error) {
	b, err := tx.bucket(bucketRep)
	if err != nil {
		return Rep{}, err
	}
	raw := b.Get(provider.Bytes())
	if raw == nil {
		return Rep{Provider: provider}, nil
	}
	r, err := decodeRep(raw)
	if err != nil {
		return Rep{}, tx.corrupt("reputation "+provider.Hex(), err)
	}
	return r, nil
}

// Reputations lists every provider this node has a record of, best first.
func (tx *Tx) Reputations() ([]Rep, error) {
	b, err := tx.bucket(bucketRep)
	if err != nil {
		return nil, err
	}
	var out []Rep
	err = b.ForEach(func(k, v []byte) error {
		r, err := decodeRep(v)
		if err != nil {
			return tx.corrupt(fmt.Sprintf("reputation %x", k), err)
		}
		out = append(out, r)
		return nil
	})
	sort.SliceStable(out, func(a, b int) bool { return out[a].Score() > out[b].Score() })
	return out, err
}
