package market

import (
	"context"
	"io"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/market/wire"
)

// This file declares what the market needs from the other parts, as small
// interfaces (STYLE.md: declare the interfaces you need in your own
// package). node wires the real parts in; the tests use the real parts too.

// Handler answers one sealed message that arrived on the market stream
// protocol. Its reply (may be nil) is sent back on the same stream; an error
// is sent back as a one-line refusal.
type Handler func(ctx context.Context, from peer.ID, msg wire.Message) ([]byte, error)

// Network is the libp2p side of the market: direct request/response on
// wire.MarketProtocol and gossip topics. NewHostNetwork adapts a libp2p
// host and a gossipsub router; node may adapt its p2p.Node instead.
type Network interface {
	// ID is this node's peer ID (its secp256k1 key signs what it seals).
	ID() peer.ID
	// Handle routes sealed messages of type t that peers send to us.
	// Messages are opened (size, signature, expiry, author) before fn sees them.
	Handle(t wire.Type, fn Handler)
	// Request sends a sealed message to p and returns the reply.
	Request(ctx context.Context, p peer.ID, sealed []byte) ([]byte, error)
	// Publish gossips a sealed message on topic.
	Publish(ctx context.Context, topic string, sealed []byte) error
	// Subscribe calls fn with every valid message on topic until ctx ends.
	Subscribe(ctx context.Context, topic string, fn func(from peer.ID, msg wire.Message)) error
}

// Sealer signs messages with the node's key (wire.Seal with the private key).
type Sealer func(msg wire.Message) ([]byte, error)

// Content is the IPFS side: code, inputs and outputs by CID.
type Content interface {
	// Cat returns the bytes of a UnixFS file, fetching it from peers when
	// it is not local. It refuses files larger than max bytes.
	Cat(ctx context.Context, cid string, max int64) ([]byte, error)
	// Fetch writes the UnixFS file or directory cid to the host path dst
	// (a file, or a directory tree), fetching from peers as needed.
	Fetch(ctx context.Context, cid string, dst string) error
	// AddDir adds a host directory as one UnixFS directory, pins it and
	// returns its CID.
	AddDir(ctx context.Context, dir string) (string, error)
}

// Sizer is an optional Content extension: the size of a UnixFS file without
// fetching it all. Providers use it to refuse oversized modules before bidding.
type Sizer interface {
	Size(ctx context.Context, cid string) (int64, error)
}

// Runner is the sandbox (*executor.Executor).
type Runner interface {
	Run(ctx context.Context, spec executor.Spec) (*executor.Result, error)
	Capacity() executor.Capacity
}

// Settlement is the chain side (*contracts.Client): escrow deals, payment
// channels, balances.
type Settlement interface {
	Address() common.Address
	Backend() contracts.Backend
	// ChainID and Contract bind voucher signatures; a provider checks a
	// voucher's signature locally with them (contracts.VerifyVoucher).
	ChainID() *big.Int
	Contract() common.Address

	OpenDeal(ctx context.Context, p contracts.DealParams, providerSig []byte) (common.Hash, *types.Receipt, error)
	DealID(p contracts.DealParams) common.Hash
	SubmitResult(ctx context.Context, p contracts.DealParams, resultHash common.Hash) (*types.Receipt, error)
	Accept(ctx context.Context, p contracts.DealParams) (*types.Receipt, error)
	Claim(ctx context.Context, p contracts.DealParams) (*types.Receipt, error)
	Refund(ctx context.Context, p contracts.DealParams) (*types.Receipt, error)
	Dispute(ctx context.Context, p contracts.DealParams) (*types.Receipt, error)
	Deal(ctx context.Context, id common.Hash) (contracts.DealState, error)
	FilterDealsOpened(ctx context.Context, from uint64, clients, providers []common.Address) ([]*contracts.MarketplaceDealOpened, error)

	OpenChannel(ctx context.Context, provider common.Address, salt common.Hash, deposit *big.Int) (contracts.ChannelKey, *types.Receipt, error)
	TopUp(ctx context.Context, k contracts.ChannelKey, amount *big.Int) (*types.Receipt, error)
	SignVoucher(k contracts.ChannelKey, cumulative *big.Int) (contracts.Voucher, error)
	VerifyVoucher(ctx context.Context, v contracts.Voucher) error
	Channel(ctx context.Context, id common.Hash) (contracts.Channel, error)
	FilterChannelsOpened(ctx context.Context, from uint64, clients, providers []common.Address) ([]*contracts.MarketplaceChannelOpened, error)
	RedeemMany(ctx context.Context, vs []contracts.Voucher) (*types.Receipt, error)

	Credits(ctx context.Context, account common.Address) (*big.Int, error)
	Balance(ctx context.Context, account common.Address) (*big.Int, error)
}

var _ Settlement = (*contracts.Client)(nil)
var _ Runner = (*executor.Executor)(nil)

// discard is used where an io.Writer is optional.
var _ io.Writer = io.Discard
