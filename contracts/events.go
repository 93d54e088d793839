package contracts

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/event"
)

// Event is one decoded Marketplace log, for reconciliation.
type Event struct {
	Name string    // event name, e.g. "DealOpened"
	Log  types.Log // the raw log (block, tx, index)
	Data any       // *MarketplaceDealOpened, *MarketplaceVoucherRedeemed, ...
}

// Events returns every Marketplace event in blocks [from, to] (to nil: up to
// the head), decoded, in chain order.
func (c *Client) Events(ctx context.Context, from uint64, to *uint64) ([]Event, error) {
	q := ethereum.FilterQuery{FromBlock: bigU(from), Addresses: []common.Address{c.contract}}
	if to != nil {
		q.ToBlock = bigU(*to)
	}
	logs, err := c.backend.FilterLogs(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("contracts: filter logs: %w", err)
	}
	out := make([]Event, 0, len(logs))
	for _, l := range logs {
		ev, err := c.decodeLog(l)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

func (c *Client) decodeLog(l types.Log) (Event, error) {
	if len(l.Topics) == 0 {
		return Event{}, fmt.Errorf("contracts: anonymous log in tx %s", l.TxHash)
	}
	e, err := c.abi.EventByID(l.Topics[0])
	if err != nil {
		return Event{}, fmt.Errorf("contracts: unknown event %s: %w", l.Topics[0], err)
	}
	b := c.binding
	var data any
	switch e.Name {
	case "Staked":
		data, err = b.UnpackStakedEvent(&l)
	case "UnstakeRequested":
		data, err = b.UnpackUnstakeRequestedEvent(&l)
	case "Unstaked":
		data, err = b.UnpackUnstakedEvent(&l)
	case "Withdrawn":
		data, err = b.UnpackWithdrawnEvent(&l)
	case "DealOpened":
		data, err = b.UnpackDealOpenedEvent(&l)
	case "ResultSubmitted":
		data, err = b.UnpackResultSubmittedEvent(&l)
	case "DealAccepted":
		data, err = b.UnpackDealAcceptedEvent(&l)
	case "DealClaimed":
		data, err = b.UnpackDealClaimedEvent(&l)
	case "DealRefunded":
		data, err = b.UnpackDealRefundedEvent(&l)
	case "DealDisputed":
		data, err = b.UnpackDealDisputedEvent(&l)
	case "DealResolved":
		data, err = b.UnpackDealResolvedEvent(&l)
	case "DisputeExpired":
		data, err = b.UnpackDisputeExpiredEvent(&l)
	case "ChannelOpened":
		data, err = b.UnpackChannelOpenedEvent(&l)
	case "ChannelToppedUp":
		data, err = b.UnpackChannelToppedUpEvent(&l)
	case "VoucherRedeemed":
		data, err = b.UnpackVoucherRedeemedEvent(&l)
	case "ChannelExitStarted":
		data, err = b.UnpackChannelExitStartedEvent(&l)
	case "ChannelClosed":
		data, err = b.UnpackChannelClosedEvent(&l)
	case "EIP712DomainChanged":
		data, err = b.UnpackEIP712DomainChangedEvent(&l)
	}
	if err != nil {
		return Event{}, fmt.Errorf("contracts: decode %s: %w", e.Name, err)
	}
	return Event{Name: e.Name, Log: l, Data: data}, nil
}

func addrTopics(as []common.Address) []any {
	if len(as) == 0 {
		return nil
	}
	out := make([]any, len(as))
	for i, a := range as {
		out[i] = a
	}
	return out
}

func hashTopics(hs []common.Hash) []any {
	if len(hs) == 0 {
		return nil
	}
	out := make([]any, len(hs))
	for i, h := range hs {
		out[i] = h
	}
	return out
}

func collect[T any](it *bind.EventIterator[T], err error) ([]*T, error) {
	if err != nil {
		return nil, fmt.Errorf("contracts: filter: %w", err)
	}
	defer it.Close()
	var out []*T
	for it.Next() {
		out = append(out, it.Value())
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("contracts: filter: %w", err)
	}
	return out, nil
}

// FilterDealsOpened lists DealOpened events from block from on, optionally
// restricted to some clients and/or providers (nil: any).
func (c *Client) FilterDealsOpened(ctx context.Context, from uint64, clients, providers []common.Address) ([]*MarketplaceDealOpened, error) {
	return collect(bind.FilterEvents(c.bound, &bind.FilterOpts{Start: from, Context: ctx}, c.binding.UnpackDealOpenedEvent,
		nil, addrTopics(clients), addrTopics(providers)))
}

// FilterResultsSubmitted lists ResultSubmitted events for some deals (nil: any).
func (c *Client) FilterResultsSubmitted(ctx context.Context, from uint64, deals []common.Hash) ([]*MarketplaceResultSubmitted, error) {
	return collect(bind.FilterEvents(c.bound, &bind.FilterOpts{Start: from, Context: ctx}, c.binding.UnpackResultSubmittedEvent,
		hashTopics(deals)))
}

// FilterChannelsOpened lists ChannelOpened events by client and/or provider (nil: any).
func (c *Client) FilterChannelsOpened(ctx context.Context, from uint64, clients, providers []common.Address) ([]*MarketplaceChannelOpened, error) {
	return collect(bind.FilterEvents(c.bound, &bind.FilterOpts{Start: from, Context: ctx}, c.binding.UnpackChannelOpenedEvent,
		nil, addrTopics(clients), addrTopics(providers)))
}

// FilterVouchersRedeemed lists VoucherRedeemed events of some channels (nil: any).
func (c *Client) FilterVouchersRedeemed(ctx context.Context, from uint64, channels []common.Hash) ([]*MarketplaceVoucherRedeemed, error) {
	return collect(bind.FilterEvents(c.bound, &bind.FilterOpts{Start: from, Context: ctx}, c.binding.UnpackVoucherRedeemedEvent,
		hashTopics(channels)))
}

// WatchDealsOpened streams new DealOpened events into sink until ctx ends
// or the subscription fails. It needs a backend with subscriptions (the
// in-process dev chain, or a WebSocket/IPC endpoint; plain HTTP has none).
func (c *Client) WatchDealsOpened(ctx context.Context, sink chan<- *MarketplaceDealOpened, clients, providers []common.Address) (event.Subscription, error) {
	return bind.WatchEvents(c.bound, &bind.WatchOpts{Context: ctx}, c.binding.UnpackDealOpenedEvent, sink,
		nil, addrTopics(clients), addrTopics(providers))
}

// DealClosing is how an escrow deal ended on chain, from its closing
// event. The contract keeps only "closed"; the event says who got the
// money:
//
//	DealAccepted, DealClaimed: the provider was paid the price.
//	DealRefunded:   deadline passed with no result; the client got
//	                Amount (price + mediator fee + Slashed collateral).
//	DealResolved:   the mediator ruled; ForProvider: the provider was
//	                paid, else the client got the price and the
//	                collateral. The mediator earned the fee either way.
//	DisputeExpired: the mediator stayed silent past the mediation
//	                timeout; the client got price + fee back, the
//	                provider's collateral was unlocked (not slashed).
type DealClosing struct {
	DealID      common.Hash
	Event       string         // one of the names above
	ForProvider bool           // DealResolved only
	Mediator    common.Address // DealResolved only
	Amount      *big.Int       // DealRefunded only: credited to the client
	Slashed     *big.Int       // DealRefunded only: collateral forfeited
	Log         types.Log
}

// dealClosingEvents are the events that close a deal.
var dealClosingEvents = []string{"DealAccepted", "DealClaimed", "DealRefunded", "DealResolved", "DisputeExpired"}

// FilterDealClosings returns the closing events of some deals (nil: any)
// in blocks from on, in chain order. A deal closes once, so each deal
// appears at most once.
func (c *Client) FilterDealClosings(ctx context.Context, from uint64, deals []common.Hash) ([]DealClosing, error) {
	sigs := make([]common.Hash, 0, len(dealClosingEvents))
	for _, n := range dealClosingEvents {
		sigs = append(sigs, c.abi.Events[n].ID)
	}
	q := ethereum.FilterQuery{FromBlock: bigU(from), Addresses: []common.Address{c.contract}, Topics: [][]common.Hash{sigs, deals}}
	logs, err := c.backend.FilterLogs(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("contracts: filter deal closings: %w", err)
	}
	out := make([]DealClosing, 0, len(logs))
	for _, l := range logs {
		ev, err := c.decodeLog(l)
		if err != nil {
			return nil, err
		}
		dc, ok := ClosingOf(ev)
		if !ok {
			return nil, fmt.Errorf("contracts: log %s in tx %s is not a deal closing", ev.Name, l.TxHash)
		}
		out = append(out, dc)
	}
	return out, nil
}

// ClosingOf reports whether e closes a deal, and how.
func ClosingOf(e Event) (DealClosing, bool) {
	dc := DealClosing{Event: e.Name, Log: e.Log}
	switch d := e.Data.(type) {
	case *MarketplaceDealAccepted:
		dc.DealID = d.DealId
	case *MarketplaceDealClaimed:
		dc.DealID = d.DealId
	case *MarketplaceDealRefunded:
		dc.DealID, dc.Amount, dc.Slashed = d.DealId, d.Amount, d.Slashed
	case *MarketplaceDealResolved:
		dc.DealID, dc.Mediator, dc.ForProvider = d.DealId, d.Mediator, d.ForProvider
	case *MarketplaceDisputeExpired:
		dc.DealID = d.DealId
	default:
		return DealClosing{}, false
	}
	return dc, true
}
