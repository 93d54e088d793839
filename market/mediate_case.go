package market

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/market/wire"
)

// Bringing a case: both parties of a disputed deal send its case to the
// deal's mediator from their settle ticks (Client.SettleDisputes,
// Provider.SettleDisputes) until the deal closes. The mediator de-dups,
// so a case brought twice costs it a signature check and a chain read.

const (
	// caseRecheck: after the mediator accepted (or ruled), bring the case
	// again this much later, in case it restarted and lost the re-run.
	caseRecheck = 30 * time.Second
	// caseBackoffMin/Max bound the wait after a refusal or a network
	// error (doubling from Min).
	caseBackoffMin = 2 * time.Second
	caseBackoffMax = 5 * time.Minute
	// caseTimeout bounds one exchange, so an unreachable mediator does
	// not hold up a settle tick for long.
	caseTimeout = 15 * time.Second
	// caseExpiry is a sealed case's lifetime (replays after it are refused).
	caseExpiry = 2 * time.Minute
)

type caseKey struct {
	from peer.ID
	deal common.Hash
}

type caseState struct {
	next  time.Time
	fails int
}

// caseTimes remembers, per sender and deal, when to bring the case
// again. Deal IDs are unique per chain and contract, and the sender is in
// the key, so one table serves every client and provider in the process
// (as expiries does).
var caseTimes = struct {
	mu sync.Mutex
	m  map[caseKey]caseState
}{m: map[caseKey]caseState{}}

// forgetCase drops a closed deal's entry.
func forgetCase(from peer.ID, deal common.Hash) {
	caseTimes.mu.Lock()
	delete(caseTimes.m, caseKey{from, deal})
	caseTimes.mu.Unlock()
}

// mediatorPeerFor returns the peer among ps whose address is addr.
func mediatorPeerFor(addr common.Address, ps ...peer.ID) (peer.ID, bool) {
	for _, p := range ps {
		if p == "" {
			continue
		}
		if a, err := AddressOf(p); err == nil && a == addr {
			return p, true
		}
	}
	return "", false
}

// caseSender is what bringing a case needs of a client or provider.
type caseSender struct {
	net  Network
	seal Sealer
	log  *slog.Logger
}

// bring sends the case of disputed deal dealID (job id, spec) to the
// mediator mp, unless it was brought recently. It returns the mediator's
// answer (empty when nothing was sent).
//
// # Errors
//
// ErrRefused (the mediator refused: the reason is in the text), network
// and sealing errors; the next try then waits longer.
func (cs caseSender) bring(ctx context.Context, mp peer.ID, dp *contracts.DealParams, dealID common.Hash, id wire.JobID, spec *wire.JobSpec) (*wire.MediationReply, error) {
	mn, ok := cs.net.(MediationNetwork)
	if !ok {
		return nil, nil
	}
	key := caseKey{cs.net.ID(), dealID}
	now := time.Now()
	caseTimes.mu.Lock()
	st := caseTimes.m[key]
	caseTimes.mu.Unlock()
	if now.Before(st.next) {
		return nil, nil
	}
	r, err := cs.send(ctx, mn, mp, dp, dealID, id, spec)
	if err == nil && r.Status == wire.MediationRefused {
		err = fmt.Errorf("%w by mediator %s: %s", ErrRefused, mp, r.Reason)
	}
	if err != nil {
		st.fails++
		wait := caseBackoffMin << min(st.fails-1, 16)
		st.next = now.Add(min(wait, caseBackoffMax))
	} else {
		st = caseState{next: now.Add(caseRecheck)}
	}
	caseTimes.mu.Lock()
	caseTimes.m[key] = st
	caseTimes.mu.Unlock()
	return r, err
}

func (cs caseSender) send(ctx context.Context, mn MediationNetwork, mp peer.ID, dp *contracts.DealParams, dealID common.Hash, id wire.JobID, spec *wire.JobSpec) (*wire.MediationReply, error) {
	var nb [8]byte
	_, _ = rand.Read(nb[:]) // crypto/rand.Read never fails (Go 1.24+)
	c := &wire.MediationCase{Sender: cs.net.ID(), Deal: dealTermsOf(dp), DealID: dealID, JobID: id, Spec: *spec,
		Expiry: wire.TimestampOf(time.Now().Add(caseExpiry)), Nonce: binary.BigEndian.Uint64(nb[:])}
	sealed, err := cs.seal(c)
	if err != nil {
		return nil, fmt.Errorf("market: seal case of deal %s: %w", dealID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, caseTimeout)
	defer cancel()
	raw, err := mn.RequestMediation(ctx, mp, sealed)
	if err != nil {
		return nil, err
	}
	msg, signer, err := wire.Open(raw, wire.MaxMessageSize)
	if err != nil {
		return nil, fmt.Errorf("market: mediation reply from %s: %w", mp, err)
	}
	r, ok := msg.(*wire.MediationReply)
	if !ok || signer != mp || r.DealID != dealID || r.Nonce != c.Nonce {
		return nil, fmt.Errorf("market: mediation reply from %s does not answer the case of deal %s", mp, dealID)
	}
	return r, nil
}

// logCase logs a case's outcome once per answer.
func logCase(log *slog.Logger, job wire.JobID, dealID common.Hash, r *wire.MediationReply, err error) {
	switch {
	case err != nil:
		log.Info("mediation case not taken", "job", job, "deal", dealID, "err", err)
	case r == nil:
	case r.Status == wire.MediationRuled:
		log.Info("mediator has ruled", "job", job, "deal", dealID, "for_provider", r.ForProvider, "tx", r.Tx)
	default:
		log.Info("mediator took the case", "job", job, "deal", dealID)
	}
}
