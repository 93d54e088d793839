package market

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
)

// A client with many jobs in flight on one channel tops the channel up
// ahead of them, in the background, one top-up at a time (see
// docs/rationale/market.md, "Why top up a channel ahead of its
// jobs, one top-up at a time?").
//
// Each voucher being issued reserves its price here before its ledger
// transaction and releases it after; the room a job may use is the
// ledger's deposit minus its charges minus these reservations. Reading
// the ledger and reserving happen under one lock, and a reservation is
// released only after its voucher was written (or failed), so the room
// is never overstated: a voucher written and not yet released is counted
// twice, never zero times.

const (
	// topUpLowJobs: a top-up starts when the room left after a
	// reservation is below this many jobs at the current price (or below
	// what is in flight, if more).
	topUpLowJobs = 16
	// topUpJobs: a top-up leaves room for at least this many jobs at the
	// current price beyond what is in flight (and at least twice what is
	// in flight).
	topUpJobs = 50
	// topUpTimeout bounds one top-up: its transaction and receipt.
	topUpTimeout = 2 * time.Minute
)

// chanFunds is one channel's vouchers in flight and its top-up.
type chanFunds struct {
	ch       common.Hash
	reserved *big.Int   // prices of vouchers admitted, not yet written or failed
	waiting  *big.Int   // prices of jobs waiting for the top-up under way
	topup    *topUpCall // the one top-up under way; nil: none
	users    int        // reservations, waiters and the top-up holding this entry
}

// topUpCall is a top-up under way; done is closed when it ended.
type topUpCall struct {
	done chan struct{}
	add  *big.Int
	err  error
}

// channelFunds holds the clients' per-channel state; the zero value is
// ready (a field of Client).
type channelFunds struct {
	mu      sync.Mutex
	byID    map[common.Hash]*chanFunds
	topUps  int // top-up transactions sent (tests)
	waiters int // jobs that waited for a top-up (tests)
}

// entry returns ch's state, creating it, and counts one user (mu held).
func (cf *channelFunds) entry(ch ledger.Channel) *chanFunds {
	if cf.byID == nil {
		cf.byID = map[common.Hash]*chanFunds{}
	}
	f := cf.byID[ch.ID]
	if f == nil {
		f = &chanFunds{ch: ch.ID, reserved: new(big.Int), waiting: new(big.Int)}
		cf.byID[ch.ID] = f
	}
	f.users++
	return f
}

// drop forgets f once nothing holds it (mu held).
func (cf *channelFunds) drop(f *chanFunds) {
	f.users--
	if f.users == 0 && f.topup == nil {
		delete(cf.byID, f.ch)
	}
}

// ChannelTopUps reports how many channel top-up transactions this client
// sent and how many jobs waited for one since it started.
func (c *Client) ChannelTopUps() (topUps, waited int) {
	c.funds.mu.Lock()
	defer c.funds.mu.Unlock()
	return c.funds.topUps, c.funds.waiters
}

// WaitTopUps waits until no channel top-up of this client is under way
// (the ledger then has every deposit the chain confirmed).
func (c *Client) WaitTopUps(ctx context.Context) error {
	for {
		c.funds.mu.Lock()
		var call *topUpCall
		for _, f := range c.funds.byID {
			if f.topup != nil {
				call = f.topup
				break
			}
		}
		c.funds.mu.Unlock()
		if call == nil {
			return nil
		}
		select {
		case <-call.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// reserveVoucher returns the open channel to addr (opening it if needed)
// with room for price reserved, and the func that releases the
// reservation: call it once the voucher is written or failed. A job that
// finds the channel short waits for the top-up under way (starting it if
// there is none) instead of failing; a reservation that leaves the room
// below the watermark starts a top-up in the background.
func (c *Client) reserveVoucher(ctx context.Context, p peer.ID, addr common.Address, price *big.Int) (ledger.Channel, func(), error) {
	c.chanMu.Lock()
	ch, err := c.channelTo(ctx, p, addr, price)
	c.chanMu.Unlock()
	if err != nil {
		return ledger.Channel{}, nil, err
	}
	cf := &c.funds
	for {
		cf.mu.Lock()
		f := cf.entry(ch)
		// Read under mu: every reservation released before this point
		// has its voucher in the ledger's charges.
		cur, err := c.d.Ledger.Channel(ctx, ch.ID)
		if err != nil {
			cf.drop(f)
			cf.mu.Unlock()
			return ledger.Channel{}, nil, err
		}
		ch = cur
		if ch.State != ledger.ChannelOpen {
			cf.drop(f)
			cf.mu.Unlock()
			return ledger.Channel{}, nil, fmt.Errorf("channel to %s is %s: %w", addr, ch.State, ledger.ErrInsufficientDeposit)
		}
		room := new(big.Int).Sub(ch.Deposit, ch.Charged())
		room.Sub(room, f.reserved)
		if room.Cmp(price) >= 0 {
			f.reserved.Add(f.reserved, price)
			left := room.Sub(room, price)
			inflight := new(big.Int).Add(f.reserved, f.waiting)
			low := new(big.Int).Mul(price, big.NewInt(topUpLowJobs))
			if inflight.Cmp(low) > 0 {
				low = inflight
			}
			if left.Cmp(low) < 0 && f.topup == nil {
				c.startTopUp(f, ch, price)
			}
			cf.mu.Unlock()
			var once sync.Once
			return ch, func() {
				once.Do(func() {
					cf.mu.Lock()
					f.reserved.Sub(f.reserved, price)
					cf.drop(f)
					cf.mu.Unlock()
				})
			}, nil
		}
		// Short: wait for the top-up under way, or start one.
		f.waiting.Add(f.waiting, price)
		call := f.topup
		if call == nil {
			call = c.startTopUp(f, ch, price)
		}
		cf.waiters++
		cf.mu.Unlock()
		select {
		case <-call.done:
		case <-ctx.Done():
		}
		cf.mu.Lock()
		f.waiting.Sub(f.waiting, price)
		cf.drop(f)
		cf.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return ledger.Channel{}, nil, err
		}
		if call.err != nil {
			return ledger.Channel{}, nil, call.err
		}
	}
}

// startTopUp starts f's one top-up (cf.mu held, f.topup nil): enough for
// what is charged and in flight, plus room for the larger of topUpJobs
// jobs at price and twice what is in flight. It does not run on the
// job's context (the jobs waiting for it outlive the one that started
// it), nor stop at the client's Close (which waits for it): a
// transaction sent is seen through to its receipt and recorded, within
// topUpTimeout, so the ledger's deposit is the chain's.
func (c *Client) startTopUp(f *chanFunds, ch ledger.Channel, price *big.Int) *topUpCall {
	inflight := new(big.Int).Add(f.reserved, f.waiting)
	ahead := new(big.Int).Mul(price, big.NewInt(topUpJobs))
	if twice := new(big.Int).Lsh(inflight, 1); twice.Cmp(ahead) > 0 {
		ahead = twice
	}
	add := new(big.Int).Add(ch.Charged(), inflight)
	add.Add(add, ahead)
	add.Sub(add, ch.Deposit)
	call := &topUpCall{done: make(chan struct{}), add: add}
	if add.Sign() <= 0 || c.ctx.Err() != nil {
		// Nothing to add (a waiter loops and finds its room), or the
		// client is closed: no new transaction.
		if add.Sign() > 0 {
			call.err = fmt.Errorf("top up channel to %s: client closed: %w", ch.Provider, c.ctx.Err())
		}
		close(call.done)
		return call
	}
	f.topup = call
	f.users++
	c.funds.topUps++
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), topUpTimeout)
		defer cancel()
		call.err = c.topUp(ctx, ch, add)
		c.funds.mu.Lock()
		f.topup = nil
		c.funds.drop(f)
		c.funds.mu.Unlock()
		close(call.done)
	}()
	return call
}

// topUp adds add to ch's deposit on chain, then records the new deposit
// and the locked payment in the ledger, as an open or a top-up always
// was: the ledger's deposit is what the chain confirmed.
func (c *Client) topUp(ctx context.Context, ch ledger.Channel, add *big.Int) error {
	key := contracts.ChannelKey{Client: ch.Client, Provider: ch.Provider, Salt: ch.Salt}
	rc, err := c.d.Settle.TopUp(ctx, key, add)
	if err != nil {
		c.log.Warn("channel top-up", "channel", ch.ID, "provider", ch.Provider, "err", err)
		return fmt.Errorf("top up channel to %s: %w", ch.Provider, err)
	}
	// The chain has the deposit: record it even if ctx ended meanwhile.
	wctx := context.WithoutCancel(ctx)
	if _, err := c.d.Ledger.UpdateChannel(wctx, ch.ID, func(x *ledger.Channel) error {
		x.Deposit = new(big.Int).Add(x.Deposit, add)
		return nil
	}); err != nil {
		return err
	}
	_ = c.d.Ledger.RecordPayment(wctx, ledger.Payment{Kind: ledger.PaymentLocked, Amount: add, Ref: ch.ID, Tx: rc.TxHash, Peer: ch.Provider, Note: "channel top-up"})
	c.m.Paid("channel_deposit", add)
	return nil
}
