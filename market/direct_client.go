package market

import (
	"context"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// Direct awards (docs/protocol.md, "Direct awards"; docs/rationale/market.md,
// "Why award a channel job without bids?"): a channel job for one
// provider goes straight to the provider the client would pick anyway
// when the client pays it on an open channel and holds its fresh signed
// offer, whose price schedule quotes the job. The award carries the job's
// request; the provider admits it as it would for a bid, and refuses it
// with its reason (busy, price changed, module too large...) when it
// would not bid at that price. A refused direct award is credited back
// on the channel (refusedAward) and the round asks the other providers
// for bids (the ledger keeps one voucher per job and channel, and that
// one is credited).

// directAwardRoom is what an award adds around the request it carries:
// a direct award is made only when the sealed request leaves this much
// room in wire.MaxMessageSize.
const directAwardRoom = 2 << 10

// awardDirect awards j directly when directBid finds a provider for it
// (req is the job's request, sealedLen the size of its sealed form). It
// reports whether an assignment of this attempt is now awarded; if not,
// a refused award is already settled and the caller asks for bids.
func (c *Client) awardDirect(ctx context.Context, j *Job, req *wire.JobRequest, sealedLen int, specCBOR []byte, opts RunOptions, exclude map[peer.ID]bool) bool {
	if sealedLen+directAwardRoom > wire.MaxMessageSize {
		return false
	}
	b, ok := c.directBid(ctx, req, opts, exclude)
	if !ok {
		return false
	}
	c.note(j, StatePaying, "paying %s directly: its offer quotes %s", short(b.bid.Provider), wire.FormatWei(b.bid.Price))
	first := len(j.Assigned)
	j.Direct = true // written with the voucher
	err := c.payAndAward(ctx, j, []bidIn{b}, specCBOR)
	for _, a := range j.Assigned[first:] {
		if a.State == StateAwarded {
			c.m.Bid("direct")
			return true
		}
	}
	j.Direct = false // the bid round's write keeps this
	c.m.Bid("direct_refused")
	if len(j.Assigned) > first {
		// Its voucher for this job was credited: the ledger keeps one
		// voucher per job and channel, so this provider is not asked
		// again for the job (as a retry asks only providers not tried).
		exclude[b.bid.Provider] = true
	}
	c.log.Debug("direct award not taken; asking for bids", "job", j.ID, "provider", b.bid.Provider, "err", err)
	return false
}

// directBid returns the provider to award req to without bids, as a bid
// at its offer's price, when there is one: a channel job (redundancy 1)
// and, of the providers the round would ask first (RunOptions.Providers
// in order, else the cheapest fitting offer of the book that is not
// excluded and scores at least minAskScore), one to which the client has
// an open channel and whose unexpired offer in the book fits the job and
// quotes a price within its cap. Only the book's first pick is
// considered, so a channel never keeps a client from a cheaper provider.
func (c *Client) directBid(ctx context.Context, req *wire.JobRequest, opts RunOptions, exclude map[peer.ID]bool) (bidIn, bool) {
	s := &req.Spec
	if req.PayMode != wire.PayChannel || s.Redundancy != 1 || opts.NoDirect {
		return bidIn{}, false
	}
	self := c.d.Net.ID()
	var cands []peer.ID
	if len(opts.Providers) > 0 {
		for _, p := range opts.Providers {
			if !exclude[p] && p != self {
				cands = append(cands, p)
			}
		}
	} else {
		for _, q := range c.d.Book.Fitting(s, map[peer.ID]bool{self: true}) {
			if exclude[q.Offer.Provider] || c.reputation(q.Offer.Provider) < minAskScore {
				continue
			}
			cands = append(cands, q.Offer.Provider)
			break
		}
	}
	if len(cands) == 0 {
		return bidIn{}, false
	}
	chs, err := c.d.Ledger.Channels(ctx, ledger.RoleClient, ledger.ChannelOpen)
	if err != nil || len(chs) == 0 {
		return bidIn{}, false
	}
	open := make(map[common.Address]bool, len(chs))
	for _, ch := range chs {
		open[ch.Provider] = true
	}
	for _, p := range cands {
		addr, err := AddressOf(p)
		if err != nil || !open[addr] {
			continue
		}
		o, ok := c.d.Book.Get(p)
		if !ok {
			continue
		}
		price, ok := offerQuote(o, s)
		if !ok {
			continue
		}
		return bidIn{bid: &wire.Bid{JobID: req.ID, Provider: p, Price: price}, direct: req}, true
	}
	return bidIn{}, false
}

// offerQuote is the price offer o asks for a job of spec s, as the
// provider's admit computes it (a free tier still costs 1 wei), when the
// offer fits s and the price is within the job's cap.
func offerQuote(o *wire.Offer, s *wire.JobSpec) (*big.Int, bool) {
	if o.Slots == 0 || o.Memory < s.Resources.Memory || o.MaxDuration < s.Resources.Timeout {
		return nil, false
	}
	price, ok := o.PriceFor(s.Resources.Memory, s.Resources.Timeout)
	if !ok {
		return nil, false
	}
	if price.Sign() == 0 {
		price = big.NewInt(1)
	}
	if s.Price.Max != nil && price.Cmp(s.Price.Max) > 0 {
		return nil, false
	}
	return price, true
}

// awardExpiry is the expiry of a channel award of j, whose voucher and
// assignment were just written (j.Updated): no later than the earliest
// moment the client may credit the assignment as silent (Settle:
// j.Updated plus the job's timeout plus ResultMargin; the waiting
// process counts from after the award), and at most a minute. A provider
// never records an award after its expiry (Provider.recordAward), so a
// copy of the award that reaches it late cannot charge a job this
// client has credited.
func (c *Client) awardExpiry(j *Job) wire.Timestamp {
	return wire.TimestampOf(j.Updated.Add(min(time.Minute, j.Spec.Resources.Timeout.D()+c.cfg.ResultMargin)))
}
