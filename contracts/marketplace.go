package contracts

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// DealStatus is the on-chain state of an escrow deal.
type DealStatus uint8

// Deal states, as in Marketplace.sol.
const (
	DealNone DealStatus = iota
	DealOpen
	DealSubmitted
	DealDisputed
	DealClosed
)

func (s DealStatus) String() string {
	switch s {
	case DealNone:
		return "none"
	case DealOpen:
		return "open"
	case DealSubmitted:
		return "submitted"
	case DealDisputed:
		return "disputed"
	case DealClosed:
		return "closed"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// DealState is what the chain stores about a deal.
type DealState struct {
	Status DealStatus
	At     uint64 // unix seconds of the result submission, or of the dispute once disputed
}

// Channel is a payment channel's on-chain state. The parties are in its
// key (ChannelKey), which the ChannelOpened event carries.
type Channel struct {
	ID       common.Hash
	Deposit  *big.Int
	Redeemed *big.Int
	ExitAt   uint64 // 0: no exit started
	Finished bool   // exit finished: the client was paid the remainder
}

// Remaining is deposit - redeemed.
func (ch Channel) Remaining() *big.Int { return new(big.Int).Sub(ch.Deposit, ch.Redeemed) }

// StakeInfo is a provider's collateral.
type StakeInfo struct {
	Amount   *big.Int // bonded, including locked
	Locked   *big.Int // collateral of open deals
	Pending  *big.Int // requested for unstake
	UnlockAt uint64   // when Pending may be taken
}

// Voucher is a client's signed promise: the provider may redeem up to
// Cumulative on the channel.
type Voucher struct {
	Key        ChannelKey
	Cumulative *big.Int
	Signature  []byte
}

const finishedExit = 1<<40 - 1

func u96(x *big.Int) (*big.Int, error) {
	if x == nil || x.Sign() < 0 || x.BitLen() > 96 {
		return nil, fmt.Errorf("%w: %v", ErrAmountOverflow, x)
	}
	return x, nil
}

// ---- staking

// Stake adds amount wei to the sender's collateral.
func (c *Client) Stake(ctx context.Context, amount *big.Int) (*types.Receipt, error) {
	return c.transact(ctx, c.binding.PackStake(), amount)
}

// RequestUnstake moves amount of free stake to pending; it can be taken by
// Unstake after the contract's unstake delay.
func (c *Client) RequestUnstake(ctx context.Context, amount *big.Int) (*types.Receipt, error) {
	a, err := u96(amount)
	if err != nil {
		return nil, err
	}
	return c.transact(ctx, c.binding.PackRequestUnstake(a), nil)
}

// Unstake credits the pending unstake after the delay (then Withdraw).
func (c *Client) Unstake(ctx context.Context) (*types.Receipt, error) {
	return c.transact(ctx, c.binding.PackUnstake(), nil)
}

// Withdraw sends the sender's credits to it.
func (c *Client) Withdraw(ctx context.Context) (*types.Receipt, error) {
	return c.transact(ctx, c.binding.PackWithdraw(), nil)
}

// ---- deals

// DealID is the id the contract gives p (EIP-712 hash, computed locally).
func (c *Client) DealID(p DealParams) common.Hash { return DealID(c.chainID, c.contract, p) }

// SignDeal signs p with the client's key (the provider's consent to a collateral lock).
func (c *Client) SignDeal(p DealParams) ([]byte, error) {
	return SignDeal(c.key, c.chainID, c.contract, p)
}

// OpenDeal opens an escrow deal, sending price + mediator fee. p.Client must
// be the sender. providerSig is needed when p.Collateral > 0 (see SignDeal).
//
// # Errors
//
// ErrNotClient, ErrBadParams (deadline passed, mediator is a party, fee
// without mediator, zero price), ErrDealExists, ErrBadSignature,
// ErrInsufficientStake, ErrAmountOverflow.
func (c *Client) OpenDeal(ctx context.Context, p DealParams, providerSig []byte) (common.Hash, *types.Receipt, error) {
	for _, x := range []*big.Int{p.Price, p.MediatorFee, p.Collateral} {
		if x != nil {
			if _, err := u96(x); err != nil {
				return common.Hash{}, nil, err
			}
		}
	}
	r, err := c.transact(ctx, c.binding.PackOpenDeal(p.binding(), providerSig), p.Value())
	return c.DealID(p), r, err
}

// SubmitResult commits the provider to a result hash before the deadline.
func (c *Client) SubmitResult(ctx context.Context, p DealParams, resultHash common.Hash) (*types.Receipt, error) {
	return c.transact(ctx, c.binding.PackSubmitResult(p.binding(), resultHash), nil)
}

// Accept (client) pays the provider for a submitted result.
func (c *Client) Accept(ctx context.Context, p DealParams) (*types.Receipt, error) {
	return c.transact(ctx, c.binding.PackAccept(p.binding()), nil)
}

// Claim (provider) takes the price after the challenge window. ErrTooEarly inside it.
func (c *Client) Claim(ctx context.Context, p DealParams) (*types.Receipt, error) {
	return c.transact(ctx, c.binding.PackClaim(p.binding()), nil)
}

// Refund (client) takes back price, fee and the collateral after the
// deadline when no result came. ErrTooEarly before, ErrBadDealState after a result.
func (c *Client) Refund(ctx context.Context, p DealParams) (*types.Receipt, error) {
	return c.transact(ctx, c.binding.PackRefund(p.binding()), nil)
}

// Dispute (client) sends a submitted result to the mediator inside the challenge window.
func (c *Client) Dispute(ctx context.Context, p DealParams) (*types.Receipt, error) {
	return c.transact(ctx, c.binding.PackDispute(p.binding()), nil)
}

// Resolve (mediator) decides a dispute for the provider or for the client.
func (c *Client) Resolve(ctx context.Context, p DealParams, forProvider bool) (*types.Receipt, error) {
	return c.transact(ctx, c.binding.PackResolve(p.binding(), forProvider), nil)
}

// ExpireDispute (client or provider) ends a dispute the mediator left
// unresolved past the mediation timeout: the client is refunded, the
// collateral unlocked.
func (c *Client) ExpireDispute(ctx context.Context, p DealParams) (*types.Receipt, error) {
	return c.transact(ctx, c.binding.PackExpireDispute(p.binding()), nil)
}

// Deal reads a deal's state.
func (c *Client) Deal(ctx context.Context, id common.Hash) (DealState, error) {
	out, err := call(ctx, c, c.binding.PackDealState(id), c.binding.UnpackDealState)
	if err != nil {
		return DealState{}, err
	}
	return DealState{Status: DealStatus(out.Status), At: out.At.Uint64()}, nil
}

// DealIDOnChain asks the contract for p's id (tests compare it with DealID).
func (c *Client) DealIDOnChain(ctx context.Context, p DealParams) (common.Hash, error) {
	id, err := call(ctx, c, c.binding.PackDealId(p.binding()), c.binding.UnpackDealId)
	return common.Hash(id), err
}

// ---- channels

// ChannelKey names a channel; the contract stores only the hash (ID) and
// every channel call passes the key again.
type ChannelKey struct {
	Client   common.Address
	Provider common.Address
	Salt     common.Hash
}

// ID is keccak256(abi.encode(client, provider, salt)), the channel id the
// vouchers bind.
func (k ChannelKey) ID() common.Hash { return ChannelID(k.Client, k.Provider, k.Salt) }

func (k ChannelKey) binding() MarketplaceChannelKey {
	return MarketplaceChannelKey{Client: k.Client, Provider: k.Provider, Salt: k.Salt}
}

// ChannelKey is the key of the channel from this client to provider with salt.
func (c *Client) ChannelKey(provider common.Address, salt common.Hash) ChannelKey {
	return ChannelKey{Client: c.from, Provider: provider, Salt: salt}
}

// OpenChannel opens a channel to provider with deposit wei. The salt makes
// the id unique; use a fresh one for every channel to the same provider.
//
// # Errors
//
// ErrZeroAmount, ErrBadParams (provider zero or self), ErrChannelExists, ErrAmountOverflow.
func (c *Client) OpenChannel(ctx context.Context, provider common.Address, salt common.Hash, deposit *big.Int) (ChannelKey, *types.Receipt, error) {
	k := c.ChannelKey(provider, salt)
	if _, err := u96(deposit); err != nil {
		return k, nil, err
	}
	r, err := c.transact(ctx, c.binding.PackOpenChannel(provider, salt), deposit)
	return k, r, err
}

// TopUp adds amount wei to a channel's deposit (anyone; not once an exit started).
func (c *Client) TopUp(ctx context.Context, k ChannelKey, amount *big.Int) (*types.Receipt, error) {
	return c.transact(ctx, c.binding.PackTopUp(k.binding()), amount)
}

// SignVoucher signs a voucher for the cumulative amount with the client's key.
func (c *Client) SignVoucher(k ChannelKey, cumulative *big.Int) (Voucher, error) {
	sig, err := SignVoucher(c.key, c.chainID, c.contract, k.ID(), cumulative)
	if err != nil {
		return Voucher{}, err
	}
	return Voucher{Key: k, Cumulative: new(big.Int).Set(cumulative), Signature: sig}, nil
}

// VerifyVoucher checks that v is signed by its channel's client for this
// chain and contract, and that the channel exists on chain. A provider
// calls it before running a job paid by v.
//
// # Errors
//
// ErrInvalidSignature (malformed), ErrBadSignature (signed by someone else,
// or for another channel, chain or contract), ErrUnknownChannel.
func (c *Client) VerifyVoucher(ctx context.Context, v Voucher) error {
	signer, err := VerifyVoucher(c.chainID, c.contract, v.Key.ID(), v.Cumulative, v.Signature)
	if err != nil {
		return err
	}
	if signer != v.Key.Client {
		return fmt.Errorf("%w: voucher signed by %s, channel client is %s", ErrBadSignature, signer, v.Key.Client)
	}
	_, err = c.Channel(ctx, v.Key.ID())
	return err
}

// Redeem (provider) redeems a voucher; the channel stays open.
//
// # Errors
//
// ErrVoucherTooLow (replayed or lowered amount), ErrBadSignature (wrong
// signer, channel, chain or contract), ErrNotProvider, ErrTooLate (exit
// timeout passed), ErrChannelFinished, ErrUnknownChannel.
func (c *Client) Redeem(ctx context.Context, v Voucher) (*types.Receipt, error) {
	return c.transact(ctx, c.binding.PackRedeem(v.Key.binding(), orZero(v.Cumulative), v.Signature), nil)
}

// RedeemMany redeems vouchers of several channels in one transaction
// (≈ 19k gas per voucher: keep batches within the client's gas cap, about
// 45 vouchers at DefaultGasCap). It fails as a whole if any voucher fails.
func (c *Client) RedeemMany(ctx context.Context, vs []Voucher) (*types.Receipt, error) {
	if len(vs) == 0 {
		return nil, errors.New("contracts: no vouchers")
	}
	in := make([]MarketplaceSignedVoucher, len(vs))
	for i, v := range vs {
		in[i] = MarketplaceSignedVoucher{Key: v.Key.binding(), CumulativeAmount: orZero(v.Cumulative), Signature: v.Signature}
	}
	return c.transact(ctx, c.binding.PackRedeemMany(in), nil)
}

// StartExit (client) starts the exit timeout of a channel.
func (c *Client) StartExit(ctx context.Context, k ChannelKey) (*types.Receipt, error) {
	return c.transact(ctx, c.binding.PackStartExit(k.binding()), nil)
}

// FinishExit (client) credits the unredeemed deposit after the exit timeout.
func (c *Client) FinishExit(ctx context.Context, k ChannelKey) (*types.Receipt, error) {
	return c.transact(ctx, c.binding.PackFinishExit(k.binding()), nil)
}

// Channel reads a channel by id. ErrUnknownChannel if it does not exist.
func (c *Client) Channel(ctx context.Context, id common.Hash) (Channel, error) {
	ch, err := call(ctx, c, c.binding.PackChannel(id), c.binding.UnpackChannel)
	if err != nil {
		return Channel{}, err
	}
	if ch.Deposit.Sign() == 0 {
		return Channel{}, fmt.Errorf("%w: %s", ErrUnknownChannel, id)
	}
	out := Channel{ID: id, Deposit: ch.Deposit, Redeemed: ch.Redeemed, ExitAt: ch.ExitAt.Uint64()}
	if out.ExitAt == finishedExit {
		out.ExitAt, out.Finished = 0, true
	}
	return out, nil
}

// VoucherDigestOnChain asks the contract for a voucher digest (tests compare it with VoucherDigest).
func (c *Client) VoucherDigestOnChain(ctx context.Context, id common.Hash, cumulative *big.Int) (common.Hash, error) {
	d, err := call(ctx, c, c.binding.PackVoucherDigest(id, cumulative), c.binding.UnpackVoucherDigest)
	return common.Hash(d), err
}

// ---- balances

// Credits is what account may withdraw.
func (c *Client) Credits(ctx context.Context, account common.Address) (*big.Int, error) {
	return call(ctx, c, c.binding.PackCredits(account), c.binding.UnpackCredits)
}

// StakeOf reads a provider's collateral.
func (c *Client) StakeOf(ctx context.Context, provider common.Address) (StakeInfo, error) {
	s, err := call(ctx, c, c.binding.PackStakes(provider), c.binding.UnpackStakes)
	if err != nil {
		return StakeInfo{}, err
	}
	p, err := call(ctx, c, c.binding.PackPendingUnstake(provider), c.binding.UnpackPendingUnstake)
	if err != nil {
		return StakeInfo{}, err
	}
	return StakeInfo{Amount: s.Amount, Locked: s.Locked, Pending: p, UnlockAt: s.UnlockAt.Uint64()}, nil
}

// Balance is the ether balance of account.
func (c *Client) Balance(ctx context.Context, account common.Address) (*big.Int, error) {
	return c.backend.BalanceAt(ctx, account, nil)
}

func bigU(x uint64) *big.Int { return new(big.Int).SetUint64(x) }
