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
	specCBOR, err := wire.Marshal(&spec)
	if err != nil {
		return false, err
	}
	if jobHash(id, specCBOR) != deal.JobHash {
		return false, fmt.Errorf("%w: job does not match the deal's job hash", ErrBadResult)
	}
	if !spec.Deterministic {
		return false, fmt.Errorf("%w: only deterministic jobs can be mediated", ErrBadResult)
	}
	st, err := m.Settle.Deal(ctx, dealID)
	if err != nil {
		return false, err
	}
	if st.Status != contracts.DealDisputed {
		return false, fmt.Errorf("%w: deal %s is %s, not disputed", ErrBadResult, dealID, st.Status)
	}
	subs, err := m.Settle.FilterResultsSubmitted(ctx, 0, []common.Hash{dealID})
	if err != nil {
		return false, fmt.Errorf("market: result commitment of deal %s: %w", dealID, err)
	}
	// Only the deal's provider can submit (the contract checks), and only
	// once; take its commitment, not any log that names the deal.
	var claimed [32]byte
	found := false
	for _, s := range subs {
		if common.Hash(s.DealId) == dealID && s.Provider == deal.Provider {
			claimed, found = s.ResultHash, true
		}
	}
	if !found {
		return false, fmt.Errorf("%w: no result commitment by the provider for deal %s", ErrBadResult, dealID)
	}
	dir := m.WorkDir
	if dir == "" {
		dir = os.TempDir()
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
	x, err := execJob(ctx, m.Content, m.Runner, work, maxMod, id, &spec)
	if err != nil {
		return false, err
	}
	forProvider = x.hash == claimed
	if _, err := m.Settle.Resolve(ctx, deal, forProvider); err != nil {
		return false, fmt.Errorf("market: resolve deal %s: %w", dealID, err)
	}
	return forProvider, nil
}
