package market

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// A mediator writes its ruling before the resolve transaction and the fee
// after its receipt. Killed in between, its ledger lacked the fee the
// chain credited until a party brought the case again (and none does
// once the deal is closed). Now the ruling's transaction is preceded, in
// the same ledger write as the verdict, by an "owed" record that holds
// what the fee's payment needs (deal, job, client, fee); on start the
// service reads them back and records the fee of every one whose deal
// the chain shows closed by this mediator's DealResolved
// (docs/rationale/disputes.md "Why does a mediator reconcile its fees on
// start?").

// owedScope is the ledger seen-scope of rulings whose fee is recorded
// once their resolve lands; each key is an owedKey.
const owedScope = "mediate-owed"

// owed is one ruling's fee, as written before its resolve transaction.
type owed struct {
	deal   common.Hash
	job    string
	client common.Address
	fee    *big.Int
}

func (o owed) key() string {
	return strings.Join([]string{o.deal.Hex(), o.job, o.client.Hex(), o.fee.String()}, "|")
}

func parseOwed(k string) (owed, error) {
	f := strings.Split(k, "|")
	if len(f) != 4 || !common.IsHexAddress(f[2]) || len(f[0]) != 66 {
		return owed{}, fmt.Errorf("market: bad ruling record %q", k)
	}
	if _, err := wire.ParseJobID(f[1]); err != nil {
		return owed{}, fmt.Errorf("market: bad ruling record %q: %w", k, err)
	}
	fee, ok := new(big.Int).SetString(f[3], 10)
	if !ok || fee.Sign() < 0 {
		return owed{}, fmt.Errorf("market: bad ruling record %q: fee", k)
	}
	return owed{deal: common.HexToHash(f[0]), job: f[1], client: common.HexToAddress(f[2]), fee: fee}, nil
}

// writeRuling records, in one ledger transaction, the ruling of c's deal
// (its verdict seen-key, unless one is there) and the fee it will earn
// (an owed record), before the resolve transaction goes out.
func (s *MediatorService) writeRuling(ctx context.Context, dp *contracts.DealParams, c *wire.MediationCase, forProvider bool) error {
	o := owed{deal: c.DealID, job: c.JobID.String(), client: dp.Client, fee: orZero(dp.MediatorFee)}
	return s.d.Ledger.Update(ctx, func(tx *ledger.Tx) error {
		for _, sk := range [][2]string{{verdictScope(c.DealID), sideName(forProvider)}, {owedScope, o.key()}} {
			if err := tx.MarkSeen(sk[0], sk[1]); err != nil && !errors.Is(err, ledger.ErrDuplicate) {
				return err
			}
		}
		return nil
	})
}

// ReconcileFees records the fee of every ruling in the ledger whose
// resolve landed on chain (the deal closed by this mediator's
// DealResolved) but whose fee was not recorded: the mediator was killed
// between the transaction and the write. Idempotent (one payment per
// deal). A ruling whose deal is still disputed is left to the case being
// brought again; one that closed otherwise (an expiry) earned nothing.
// It reports how many fees it recorded. NewMediatorService runs it once
// in the background.
//
// # Errors
//
// Ledger errors; a chain error stops the pass (the next start tries again).
func (s *MediatorService) ReconcileFees(ctx context.Context) (int, error) {
	keys, err := s.d.Ledger.SeenKeys(ctx, owedScope)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		o, err := parseOwed(k)
		if err != nil {
			s.log.Warn("ledger", "err", err)
			continue
		}
		if has, err := s.d.Ledger.HasPayment(ctx, MediatorFeeID(o.deal)); err != nil {
			return n, err
		} else if has {
			continue
		}
		cl, ok, err := closingOf(ctx, s.d.Settle, s.cfg.FromBlock, o.deal)
		if err != nil {
			return n, fmt.Errorf("market: closing of deal %s: %w", o.deal, err)
		}
		if !ok || cl.Event != "DealResolved" || cl.Mediator != s.addr {
			continue
		}
		if err := s.recordFee(ctx, o.fee, o.client, o.deal, o.job, cl.ForProvider, cl.Log.TxHash); err != nil {
			return n, err
		}
		s.log.Info("fee of a ruling recorded at start (the mediator stopped after its resolve)", "deal", o.deal, "fee", o.fee)
		n++
	}
	return n, nil
}

func (s *MediatorService) reconcileOnStart() {
	if _, err := s.ReconcileFees(s.ctx); err != nil && s.ctx.Err() == nil {
		s.log.Warn("reconcile fees", "err", err)
	}
}
