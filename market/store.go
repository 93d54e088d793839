package market

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// The market keeps no store of its own: every job, deal, channel, voucher,
// payment and reputation record lives in the node's ledger (ledger.db).
// A job is one ledger.Job whose typed fields and state the ledger
// validates; what only the market reads (the job spec, usage, inline
// output, per-provider details) rides in Job.Extra as the JSON of the
// market's ProviderJob or Job, written in the same transaction. Deals and
// channels are the ledger's typed records; vouchers go through
// IssueVoucher and AcceptPayment. See docs/rationale/market.md.

// providerKey is the ledger ID of a provider job.
func providerKey(client peer.ID, id wire.JobID) string {
	return ledger.JobKey(client.String(), id.String())
}

// providerState is the ledger state a provider job's market state maps to.
func providerState(r *ProviderJob) ledger.JobState {
	switch r.State {
	case StateAwarded:
		return ledger.JobPaymentVerified
	case StateRunning:
		return ledger.JobRunning
	case StateDone:
		return ledger.JobResultStored
	case StateSubmitted:
		if r.PayMode == wire.PayEscrow {
			return ledger.JobCommitted
		}
		if r.Delivered {
			return ledger.JobResultSent
		}
		return ledger.JobResultStored
	case StatePaid:
		if r.PayMode == wire.PayEscrow {
			return ledger.JobPaid
		}
		return ledger.JobVoucherHeld
	case StateRefunded:
		return ledger.JobRefunded
	case StateCancelled:
		return ledger.JobCancelled
	}
	return ledger.JobFailed
}

func encodeExtra(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("market: encode record: %w", err)
	}
	return b, nil
}

// putProviderJob writes r (creating it on first sight) in tx. The ledger
// refuses a move its state machine does not allow.
func putProviderJob(tx *ledger.Tx, r *ProviderJob) error {
	key := providerKey(r.Client, r.ID)
	cp := *r
	cp.Result = nil // stored once, in the typed field
	extra, err := encodeExtra(&cp)
	if err != nil {
		return err
	}
	// HasJob, not Job: Advance below reads and checks the record anyway.
	if ok, err := tx.HasJob(key); err != nil {
		return err
	} else if !ok {
		if _, err := tx.PutJob(ledger.Job{ID: key, Role: ledger.RoleProvider, State: ledger.JobAwarded,
			Client: r.Client.String(), ClientAddr: r.ClientAddr}); err != nil {
			return err
		}
	}
	fill := func(j *ledger.Job) error {
		j.Module, j.PayMode, j.Price = r.Spec.Module, string(r.PayMode), r.Price
		j.DealID, j.ChannelID, j.Voucher = r.DealID, r.Channel, r.Cumulative
		j.ResultCID, j.OutputHash, j.ExitCode = r.ResultCID, common.Hash(r.OutputHash), int(r.ExitCode)
		j.Result, j.Error, j.Extra = r.Result, r.Error, extra
		if !r.Created.IsZero() {
			j.Deadline = r.Created.Add(r.Spec.Resources.Timeout.D())
		}
		return nil
	}
	if _, err := tx.Advance(key, providerState(r), fill); err != nil {
		return err
	}
	if r.PayMode == wire.PayEscrow && r.Deal != nil {
		if err := putProviderDeal(tx, r, key); err != nil {
			return err
		}
	}
	if r.State == StatePaid && r.Price != nil {
		return tx.RecordPayment(ledger.Payment{ID: "earned/" + key, Kind: ledger.PaymentEarned, Amount: r.Price,
			JobID: key, Ref: refOf(r.DealID, r.Channel), Peer: r.ClientAddr})
	}
	return nil
}

func refOf(deal, ch common.Hash) common.Hash {
	if deal != (common.Hash{}) {
		return deal
	}
	return ch
}

func putProviderDeal(tx *ledger.Tx, r *ProviderJob, key string) error {
	if _, err := tx.Deal(r.DealID); errors.Is(err, ledger.ErrNotFound) {
		if _, err := tx.PutDeal(dealRecord(r.DealID, ledger.RoleProvider, ledger.DealOpened, key, r.Deal)); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	to := ledger.DealOpened
	switch {
	case r.State == StateRefunded:
		// Refunded to the client without our result on chain.
		if d, err := tx.Deal(r.DealID); err == nil && d.State == ledger.DealOpened {
			to = ledger.DealRefunded
		} else if err == nil {
			to = d.State
		}
	case r.State == StateSubmitted:
		to = ledger.DealSubmitted
	case r.State == StatePaid && r.Claimed:
		to = ledger.DealClaimed
	case r.State == StatePaid:
		to = ledger.DealAccepted
	}
	_, err := tx.AdvanceDeal(r.DealID, to, func(d *ledger.Deal) error {
		if to == ledger.DealSubmitted {
			d.ResultHash = common.Hash(r.OutputHash)
			if r.ClaimAfter > r.Deal.ChallengeWindow {
				d.SubmittedAt = r.ClaimAfter - r.Deal.ChallengeWindow
			}
		}
		return nil
	})
	return err
}

func dealRecord(id common.Hash, role ledger.Role, st ledger.DealState, jobKey string, dp *contracts.DealParams) ledger.Deal {
	return ledger.Deal{ID: id, Role: role, State: st, JobID: jobKey, Client: dp.Client, Provider: dp.Provider,
		Mediator: dp.Mediator, Price: orZero(dp.Price), MediatorFee: dp.MediatorFee, Collateral: dp.Collateral,
		Deadline: dp.Deadline, ChallengeWindow: dp.ChallengeWindow, JobHash: dp.JobHash}
}

// providerJobOf decodes a provider job from its ledger record.
func providerJobOf(j ledger.Job) (*ProviderJob, error) {
	var r ProviderJob
	if len(j.Extra) == 0 {
		return nil, fmt.Errorf("market: ledger job %s has no market record", j.ID)
	}
	if err := json.Unmarshal(j.Extra, &r); err != nil {
		return nil, fmt.Errorf("market: decode ledger job %s: %w", j.ID, err)
	}
	r.Result = j.Result
	// The ledger's state wins over a stale market record (a write of an
	// older copy keeps the ledger state but not the record's).
	switch j.State {
	case ledger.JobPaid, ledger.JobVoucherHeld, ledger.JobRedeemed:
		r.State = StatePaid
	case ledger.JobRefunded:
		r.State = StateRefunded
	}
	return &r, nil
}

// clientState is the ledger state a client job maps to. A job the market
// calls failed while an escrow deal of it still holds money stays where
// it is in the ledger (non-terminal) until Settle refunds or pays it.
func clientState(j *Job) (ledger.JobState, bool) {
	switch j.State {
	case StateRequested:
		return ledger.JobRequested, true
	case StateBidding:
		return ledger.JobBidding, true
	case StatePaying:
		return ledger.JobPaying, true
	case StateAwarded:
		return ledger.JobAwarded, true
	case StateVerifying, StateSubmitted, StateVerified: // verified: see escrow_accept.go
		return ledger.JobResultReceived, true
	case StatePaid:
		if outstanding(j) {
			// Paid, but another provider's escrow (a retry's silent one)
			// still waits for its refund: not terminal yet.
			return ledger.JobVerified, true
		}
		return ledger.JobAccepted, true
	case StateRefunded:
		return ledger.JobRefunded, true
	case StateDisputed:
		return ledger.JobDisputed, true
	}
	for _, a := range j.Assigned {
		if a.State == StateDisputed {
			return ledger.JobDisputed, true
		}
	}
	if outstanding(j) {
		return "", false
	}
	if j.State == StateCancelled {
		return ledger.JobCancelled, true
	}
	return ledger.JobFailed, true
}

// outstanding: an escrow deal of j may still hold money, or a channel
// voucher of j is neither paid nor credited yet.
func outstanding(j *Job) bool {
	return slices.ContainsFunc(j.Assigned, func(a Assignment) bool {
		return a.Deal != nil && a.DealOpen && a.State != StatePaid && a.State != StateRefunded && a.State != StateCancelled ||
			openVoucher(a) // a channel provider given up on, not yet paid or credited (client_giveup.go)
	})
}

// putClientJob writes the client's record of j in tx, with its deals and
// payments.
func putClientJob(tx *ledger.Tx, j *Job) error {
	key := j.ID.String()
	extra, err := encodeExtra(j)
	if err != nil {
		return err
	}
	if _, err := tx.Job(key); errors.Is(err, ledger.ErrNotFound) {
		if _, err := tx.PutJob(ledger.Job{ID: key, Role: ledger.RoleClient, State: ledger.JobRequested}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	fill := func(lj *ledger.Job) error {
		lj.Module, lj.PayMode, lj.MaxPrice = j.Spec.Module, string(j.PayMode), j.Spec.Price.Max
		lj.ResultCID, lj.OutputHash, lj.ExitCode, lj.Error = j.ResultCID, common.Hash(j.OutputHash), int(j.ExitCode), j.Error
		lj.Attempts, lj.Extra = j.Attempts, extra
		lj.Providers = lj.Providers[:0]
		for _, a := range j.Assigned {
			la := ledger.Assignment{Provider: a.Provider.String(), Payout: a.Addr, Price: a.Price, DealID: a.DealID,
				ChannelID: a.Channel, Voucher: a.Cumulative, ResultCID: a.ResultCID, OutputHash: common.Hash(a.OutputHash),
				ExitCode: int(a.ExitCode)}
			switch {
			case a.State == StatePaid || a.State == StateVerified:
				la.Verdict = "agree"
			case a.State == StateDisputed || a.State == StateFailed && a.ResultCID != "":
				la.Verdict = "disagree"
			case a.State == StateAwarded || a.State == StateRefunded:
				la.Verdict = "missing"
			}
			lj.Providers = append(lj.Providers, la)
		}
		if len(lj.Providers) == 0 {
			lj.Providers = nil
		}
		if n := len(j.Assigned); n > 0 {
			a := j.Assigned[n-1]
			lj.Provider, lj.Payout, lj.Price, lj.DealID, lj.ChannelID, lj.Voucher = a.Provider.String(), a.Addr, a.Price, a.DealID, a.Channel, a.Cumulative
		}
		return nil
	}
	if to, ok := clientState(j); ok {
		_, err = tx.Advance(key, to, fill)
	} else {
		_, err = tx.UpdateJob(key, fill)
	}
	if err != nil {
		return err
	}
	for i := range j.Assigned {
		a := &j.Assigned[i]
		if err := putClientAssignment(tx, j, key, a); err != nil {
			return err
		}
	}
	return nil
}

func putClientAssignment(tx *ledger.Tx, j *Job, key string, a *Assignment) error {
	payID := "paid/" + key + "/" + a.Provider.String()
	if (a.State == StatePaid || voucherSpent(a)) && a.Price != nil { // voucherSpent: client_giveup.go
		if err := tx.RecordPayment(ledger.Payment{ID: payID, Kind: ledger.PaymentPaid, Amount: a.Price, JobID: key,
			Ref: refOf(a.DealID, a.Channel), Peer: a.Addr}); err != nil {
			return err
		}
	}
	if a.Deal == nil {
		return nil
	}
	if _, err := tx.Deal(a.DealID); errors.Is(err, ledger.ErrNotFound) {
		if _, err := tx.PutDeal(dealRecord(a.DealID, ledger.RoleClient, ledger.DealOpening, key, a.Deal)); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	to := ledger.DealOpening
	switch {
	case !a.DealOpen && a.State == StateCancelled:
		to = ledger.DealAbandoned
	case !a.DealOpen:
	case a.State == StatePaid:
		to = ledger.DealAccepted
	case a.State == StateRefunded:
		to = ledger.DealRefunded
	case a.State == StateDisputed:
		to = ledger.DealDisputed
	case a.State == StateSubmitted:
		// A result received is not a commitment on chain (the provider
		// delivers while its submitResult is mined): the deal stays
		// opened until the chain shows it submitted (syncCommitted,
		// escrow_chain.go), so the ledger is never ahead of the chain.
		to = ledger.DealOpened
	default:
		to = ledger.DealOpened
	}
	if _, err := tx.AdvanceDeal(a.DealID, to, nil); err != nil {
		return err
	}
	if a.DealOpen {
		if err := tx.RecordPayment(ledger.Payment{ID: "locked/" + a.DealID.Hex(), Kind: ledger.PaymentLocked, Amount: a.Price,
			JobID: key, Ref: a.DealID, Peer: a.Addr}); err != nil {
			return err
		}
	}
	if a.State == StateRefunded {
		return tx.RecordPayment(ledger.Payment{ID: "refunded/" + a.DealID.Hex(), Kind: ledger.PaymentRefunded, Amount: a.Price,
			JobID: key, Ref: a.DealID, Peer: a.Addr})
	}
	return nil
}

// clientJobOf decodes a client job from its ledger record.
func clientJobOf(lj ledger.Job) (*Job, error) {
	var j Job
	if len(lj.Extra) == 0 {
		return nil, fmt.Errorf("market: ledger job %s has no market record", lj.ID)
	}
	if err := json.Unmarshal(lj.Extra, &j); err != nil {
		return nil, fmt.Errorf("market: decode ledger job %s: %w", lj.ID, err)
	}
	return &j, nil
}

// update runs fn in one fsynced ledger transaction.
func update(l *ledger.Ledger, fn func(tx *ledger.Tx) error) error {
	return l.Update(context.Background(), fn)
}

// scoreOf turns a provider's ledger record into the client's choice
// weight in [0,1]: the Laplace-smoothed success rate, quartered by every
// wrong answer (a disagreement), so one lie costs more than many
// timeouts. 0.5 for an unknown provider.
func scoreOf(r ledger.Rep) float64 {
	s, f := float64(r.Successes), float64(r.Failures)
	sc := (s + 1) / (s + f + 2)
	for i := uint64(0); i < min(r.Disagreements, 8); i++ {
		sc *= 0.25
	}
	return sc
}

// paidOrZero is x or 0.
func cloneBig(x *big.Int) *big.Int {
	if x == nil {
		return nil
	}
	return new(big.Int).Set(x)
}

// recordDisputeFee records, in the client's ledger, the mediator fee of
// a disputed deal that ended (the contract took price + fee when the deal
// opened; the ledger's "locked/<deal>" has the price only): the fee as
// locked, and, when the mediator ruled (DealResolved), as paid to it.
// An expired dispute refunds the fee with the price (the "refunded/<deal>"
// payment). Nothing is written for a deal without a fee.
func recordDisputeFee(tx *ledger.Tx, jobKey string, id common.Hash, dp *contracts.DealParams, e disputeEnd, closeTx common.Hash) error {
	fee := orZero(dp.MediatorFee)
	if !e.disputed || fee.Sign() == 0 {
		return nil
	}
	if err := tx.RecordPayment(ledger.Payment{ID: "locked-fee/" + id.Hex(), Kind: ledger.PaymentLocked, Amount: fee,
		JobID: jobKey, Ref: id, Peer: dp.Mediator, Note: "mediator fee locked with the deal"}); err != nil {
		return err
	}
	if e.deal != ledger.DealResolved {
		return nil
	}
	return tx.RecordPayment(ledger.Payment{ID: MediatorFeeID(id), Kind: ledger.PaymentPaid, Amount: fee,
		JobID: jobKey, Ref: id, Tx: closeTx, Peer: dp.Mediator, Note: "mediator fee: the mediator ruled"})
}
