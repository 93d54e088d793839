package market

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/market/wire"
)

// MediatorSettlement is what a mediator needs from the chain (*contracts.Client).
type MediatorSettlement interface {
	Address() common.Address
	Deal(ctx context.Context, id common.Hash) (contracts.DealState, error)
	FilterResultsSubmitted(ctx context.Context, from uint64, deals []common.Hash) ([]*contracts.MarketplaceResultSubmitted, error)
	Resolve(ctx context.Context, p contracts.DealParams, forProvider bool) (*types.Receipt, error)
}

var _ MediatorSettlement = (*contracts.Client)(nil)

// Mediator settles disputed escrow deals that name it: it re-runs the
// deterministic job and compares the output hash with the commitment the
// provider posted on chain. Equal: the provider is paid; different: the
// client is refunded and the collateral forfeited. It must rule within
// the contract's mediation timeout; after that either party expires the
// dispute (Client.SettleDisputes, Provider.SettleDisputes) and the client
// gets price and fee back. See docs/rationale/disputes.md.
type Mediator struct {
	Settle  MediatorSettlement
	Content Content
	Runner  Runner
	// WorkDir for re-runs (default os.TempDir()).
	WorkDir string
	// MaxModuleSize (default 64 MiB).
	MaxModuleSize int64
	Logger        *slog.Logger
}

// Resolve decides one disputed deal. The client hands over the job (ID and
// spec); the deal's job hash proves they are the ones paid for.
//
// # Errors
//
// ErrBadResult when the spec does not match the deal's job hash or the
// deal is not disputed; chain errors.
func (m *Mediator) Resolve(ctx context.Context, deal contracts.DealParams, dealID common.Hash, id wire.JobID, spec wire.JobSpec) (forProvider bool, err error) {
	claimed, err := m.check(ctx, deal, dealID, id, &spec)
	if err != nil {
		return false, err
	}
	forProvider, err = m.judge(ctx, id, &spec, claimed)
	if err != nil {
		return false, err
	}
	if _, err := m.Settle.Resolve(ctx, deal, forProvider); err != nil {
		return false, fmt.Errorf("market: resolve deal %s: %w", dealID, err)
	}
	return forProvider, nil
}

// checkJob: spec is the job the deal paid for, and it can be re-run
// to the same output (no chain access).
func checkJob(deal *contracts.DealParams, id wire.JobID, spec *wire.JobSpec) error {
	specCBOR, err := wire.Marshal(spec)
	if err != nil {
		return err
	}
	if jobHash(id, specCBOR) != deal.JobHash {
		return fmt.Errorf("%w: job does not match the deal's job hash", ErrBadResult)
	}
	if !spec.Deterministic {
		return fmt.Errorf("%w: only deterministic jobs can be mediated", ErrBadResult)
	}
	return nil
}

// check verifies a case before the re-run: the job is the deal's and
// deterministic, the deal is disputed on chain, and the provider
// committed a result hash; it returns that commitment.
func (m *Mediator) check(ctx context.Context, deal contracts.DealParams, dealID common.Hash, id wire.JobID, spec *wire.JobSpec) (claimed [32]byte, err error) {
	if err := checkJob(&deal, id, spec); err != nil {
		return claimed, err
	}
	st, err := m.Settle.Deal(ctx, dealID)
	if err != nil {
		return claimed, err
	}
	if st.Status != contracts.DealDisputed {
		return claimed, fmt.Errorf("%w: deal %s is %s, not disputed", ErrBadResult, dealID, st.Status)
	}
	subs, err := m.Settle.FilterResultsSubmitted(ctx, 0, []common.Hash{dealID})
	if err != nil {
		return claimed, fmt.Errorf("market: result commitment of deal %s: %w", dealID, err)
	}
	// Only the deal's provider can submit (the contract checks), and only
	// once; take its commitment, not any log that names the deal.
	for _, s := range subs {
		if common.Hash(s.DealId) == dealID && s.Provider == deal.Provider {
			return s.ResultHash, nil
		}
	}
	return claimed, fmt.Errorf("%w: no result commitment by the provider for deal %s", ErrBadResult, dealID)
}

// judge re-runs the job and compares its output hash with the provider's
// commitment: equal rules for the provider.
func (m *Mediator) judge(ctx context.Context, id wire.JobID, spec *wire.JobSpec, claimed [32]byte) (forProvider bool, err error) {
	dir := m.WorkDir
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	work, err := os.MkdirTemp(dir, "cloudless-mediate-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(work)
	maxMod := m.MaxModuleSize
	if maxMod == 0 {
		maxMod = 64 << 20
	}
	x, err := execJob(ctx, m.Content, m.Runner, work, maxMod, id, spec)
	if err != nil {
		return false, err
	}
	if x.errText != "" && !x.stopped {
		// The job did not run here (its module or an input could not
		// be fetched, the sandbox failed): that says nothing about the
		// provider's result, so no ruling.
		return false, fmt.Errorf("market: re-run of job %s did not run: %s", id, x.errText)
	}
	return x.hash == claimed, nil
}
