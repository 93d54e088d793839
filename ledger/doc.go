// Package ledger is a cloudless node's durable record of its jobs, bids,
// escrow deals, payment channels, vouchers, payments and provider
// reputation, kept in one bbolt file (the repo's ledger.db) with fsync on.
//
// Every record has a state and may only move along the edges of its state
// machine (states.go; DESIGN.md "A job's life"). A transition is validated,
// written together with an entry in the append-only history, and fsynced
// before the call returns: callers act on the network (send a message,
// submit a transaction) only after that, so a node killed at any point
// restarts into a state its peers and the chain can agree with. Replays are
// harmless: the same transition with the same data is a no-op, a
// transition the record has already passed fails with ErrStale, a voucher
// that is not higher fails with ErrVoucherNotHigher and an award seen
// before with ErrDuplicate.
//
//	l, err := ledger.Open(filepath.Join(repo, ledger.FileName), nil)
//	if err != nil { return err }
//	defer l.Close()
//	j, err := l.PutJob(ctx, ledger.Job{ID: id.String(), Role: ledger.RoleClient, State: ledger.JobRequested})
//	j, err = l.Transition(ctx, j.ID, ledger.JobBidding, nil)
//	// only now publish the request
//
// Several records change atomically in one Update:
//
//	err = l.Update(ctx, func(tx *ledger.Tx) error {
//		if _, err := tx.Transition(jobID, ledger.JobPaying, func(j *ledger.Job) error { j.DealID = dealID; return nil }); err != nil {
//			return err
//		}
//		_, err := tx.PutDeal(ledger.Deal{ID: dealID, Role: ledger.RoleClient, State: ledger.DealOpening, ...})
//		return err
//	})
//	// only now send the OpenDeal transaction
//
// On start a node calls Reconcile with a ChainView over the contract
// (ledger/chainview adapts contracts.Client), then
// finishes what Unfinished, Undelivered, DealsToClaim, DealsToRefund and
// VouchersToRedeem return.
//
// IDs: jobs are keyed by an opaque string (client: wire.JobID hex;
// provider: JobKey(client, jobID)); deals and channels by their on-chain
// 32-byte IDs (common.Hash). Records are stored as strict, canonical CBOR
// (amounts are *big.Int wei: CBOR integers, bignums above 2^64); values
// written as JSON by older builds are still read. See
// docs/rationale/ledger.md for the choices.
package ledger
