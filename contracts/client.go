package contracts

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// Backend is what the client needs from a chain connection. *ethclient.Client
// and the client of go-ethereum's simulated backend implement it.
type Backend interface {
	bind.ContractBackend
	bind.DeployBackend
	ChainID(ctx context.Context) (*big.Int, error)
	BalanceAt(ctx context.Context, account common.Address, block *big.Int) (*big.Int, error)
}

var _ Backend = (*ethclient.Client)(nil)

// Defaults of the client's options.
const (
	DefaultGasCap         = 1_000_000
	DefaultReceiptTimeout = 2 * time.Minute
	DefaultPollInterval   = 25 * time.Millisecond
	// gasMarginPercent is added to estimates: storage refunds and warm/cold
	// slot differences between estimate and inclusion make estimates tight.
	gasMarginPercent = 20
)

type config struct {
	gasCap         uint64
	receiptTimeout time.Duration
	pollInterval   time.Duration
	logger         *slog.Logger
	closeBackend   bool
}

// Option configures a Client.
type Option func(*config) error

// WithGasCap refuses to send a transaction whose estimated gas limit
// (estimate plus margin) is above capGas. Default DefaultGasCap.
func WithGasCap(capGas uint64) Option {
	return func(c *config) error {
		if capGas < 21_000 {
			return fmt.Errorf("contracts: gas cap %d below 21000", capGas)
		}
		c.gasCap = capGas
		return nil
	}
}

// WithReceiptTimeout bounds the wait for a receipt after a send. Default DefaultReceiptTimeout.
func WithReceiptTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("contracts: receipt timeout must be positive")
		}
		c.receiptTimeout = d
		return nil
	}
}

// WithPollInterval sets how often the client asks for a receipt once the
// first fast polls (1 ms doubling) reach it; from there it doubles up to a
// second. Default DefaultPollInterval.
func WithPollInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("contracts: poll interval must be positive")
		}
		c.pollInterval = d
		return nil
	}
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// Client sends the Marketplace's transactions from one key and reads its
// state. It is safe for concurrent use: sends from one key are serialized
// through a nonce manager.
type Client struct {
	backend  Backend
	contract common.Address
	key      *ecdsa.PrivateKey
	from     common.Address
	chainID  *big.Int
	abi      *abi.ABI
	binding  *Marketplace
	bound    *bind.BoundContract
	cfg      config
	log      *slog.Logger

	mu         sync.Mutex // serializes sends; guards nonce
	nonce      uint64
	nonceValid bool

	closeOnce sync.Once
}

// Dial connects to a JSON-RPC endpoint and returns a client for the
// Marketplace at contract that sends from key. Close releases the connection.
func Dial(ctx context.Context, rpcURL string, contract common.Address, key *ecdsa.PrivateKey, opts ...Option) (*Client, error) {
	ec, err := ethclient.DialContext(ctx, rpcURL)
	if err != nil {
		return nil, fmt.Errorf("contracts: dial %s: %w", rpcURL, err)
	}
	c, err := New(ctx, ec, contract, key, append(opts, func(c *config) error { c.closeBackend = true; return nil })...)
	if err != nil {
		ec.Close()
		return nil, err
	}
	return c, nil
}

// New returns a client over an existing backend (an ethclient, or the
// simulated backend's client). It reads the chain ID and checks that code
// exists at contract.
func New(ctx context.Context, b Backend, contract common.Address, key *ecdsa.PrivateKey, opts ...Option) (*Client, error) {
	if key == nil {
		return nil, errors.New("contracts: nil key")
	}
	cfg := config{
		gasCap:         DefaultGasCap,
		receiptTimeout: DefaultReceiptTimeout,
		pollInterval:   DefaultPollInterval,
		logger:         slog.Default(),
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	chainID, err := b.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("contracts: chain id: %w", err)
	}
	code, err := b.CodeAt(ctx, contract, nil)
	if err != nil {
		return nil, fmt.Errorf("contracts: code at %s: %w", contract, err)
	}
	if len(code) == 0 {
		return nil, fmt.Errorf("contracts: no contract at %s on chain %s (deploy it, or check --contract)", contract, chainID)
	}
	parsed, err := MarketplaceMetaData.ParseABI()
	if err != nil {
		return nil, err
	}
	binding := NewMarketplace()
	return &Client{
		backend:  b,
		contract: contract,
		key:      key,
		from:     crypto.PubkeyToAddress(key.PublicKey),
		chainID:  chainID,
		abi:      parsed,
		binding:  binding,
		bound:    binding.Instance(b, contract),
		cfg:      cfg,
		log:      cfg.logger.With("part", "contracts"),
	}, nil
}

// DeployParams are the Marketplace's constructor arguments, in seconds.
type DeployParams struct {
	UnstakeDelay     uint64
	MediationTimeout uint64
	ExitTimeout      uint64
}

// DefaultDeployParams suit a public network: a week to unstake, three
// days to mediate, a day to exit a channel.
var DefaultDeployParams = DeployParams{UnstakeDelay: 7 * 86400, MediationTimeout: 3 * 86400, ExitTimeout: 86400}

// Deploy deploys a Marketplace from key and returns a client for it.
func Deploy(ctx context.Context, b Backend, key *ecdsa.PrivateKey, p DeployParams, opts ...Option) (*Client, *types.Receipt, error) {
	const max40 = 1<<40 - 1
	if p.UnstakeDelay > max40 || p.MediationTimeout > max40 || p.ExitTimeout > max40 {
		return nil, nil, fmt.Errorf("contracts: deploy params exceed uint40")
	}
	binding := NewMarketplace()
	input := binding.PackConstructor(new(big.Int).SetUint64(p.UnstakeDelay), new(big.Int).SetUint64(p.MediationTimeout), new(big.Int).SetUint64(p.ExitTimeout))
	code := common.FromHex(MarketplaceMetaData.Bin)
	// A client without a contract yet: reuse its send path with to == nil.
	parsed, err := MarketplaceMetaData.ParseABI()
	if err != nil {
		return nil, nil, err
	}
	chainID, err := b.ChainID(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("contracts: chain id: %w", err)
	}
	cfg := config{gasCap: 10_000_000, receiptTimeout: DefaultReceiptTimeout, pollInterval: DefaultPollInterval, logger: slog.Default()}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, nil, err
		}
	}
	cfg.gasCap = max(cfg.gasCap, 10_000_000)
	d := &Client{backend: b, key: key, from: crypto.PubkeyToAddress(key.PublicKey), chainID: chainID, abi: parsed, cfg: cfg, log: cfg.logger}
	rcpt, err := d.send(ctx, nil, append(code, input...), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("contracts: deploy: %w", err)
	}
	c, err := New(ctx, b, rcpt.ContractAddress, key, opts...)
	if err != nil {
		return nil, nil, err
	}
	return c, rcpt, nil
}

// Close releases the connection if Dial made it. Safe to call twice.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		if ec, ok := c.backend.(*ethclient.Client); ok && c.cfg.closeBackend {
			ec.Close()
		}
	})
}

// Address is the account the client sends from.
func (c *Client) Address() common.Address { return c.from }

// Contract is the Marketplace's address.
func (c *Client) Contract() common.Address { return c.contract }

// ChainID is the chain's ID, read once at construction.
func (c *Client) ChainID() *big.Int { return new(big.Int).Set(c.chainID) }

// Backend is the connection the client uses.
func (c *Client) Backend() Backend { return c.backend }

// send estimates, signs and sends one transaction, then waits for its
// receipt. A revert during estimation returns a *RevertError and sends
// nothing; a mined transaction that failed is replayed to decode its reason.
func (c *Client) send(ctx context.Context, to *common.Address, data []byte, value *big.Int) (*types.Receipt, error) {
	if value == nil {
		value = new(big.Int)
	}
	tx, err := c.signAndSend(ctx, to, data, value)
	if err != nil {
		return nil, err
	}
	rcpt, err := c.wait(ctx, tx.Hash())
	if err != nil {
		return nil, err
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		// Replay on the state after its block: the usual cause of a revert
		// after a good estimate is a transaction ordered before it (a second
		// accept of the same deal, say), which that state includes.
		msg := ethereum.CallMsg{From: c.from, To: to, Value: value, Data: data, Gas: tx.Gas()}
		_, cerr := c.backend.CallContract(ctx, msg, rcpt.BlockNumber)
		if cerr = decodeRevert(c.abi, cerr); cerr != nil {
			return rcpt, fmt.Errorf("tx %s: %w", tx.Hash(), cerr)
		}
		return rcpt, fmt.Errorf("tx %s: %w (gas used %d of %d)", tx.Hash(), ErrReverted, rcpt.GasUsed, tx.Gas())
	}
	return rcpt, nil
}

func (c *Client) signAndSend(ctx context.Context, to *common.Address, data []byte, value *big.Int) (*types.Transaction, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.nonceValid {
		n, err := c.backend.PendingNonceAt(ctx, c.from)
		if err != nil {
			return nil, fmt.Errorf("contracts: nonce of %s: %w", c.from, err)
		}
		c.nonce, c.nonceValid = n, true
	}
	msg := ethereum.CallMsg{From: c.from, To: to, Value: value, Data: data}
	est, err := c.backend.EstimateGas(ctx, msg)
	if err != nil {
		return nil, decodeRevert(c.abi, err)
	}
	limit := est + est*gasMarginPercent/100
	if limit > c.cfg.gasCap {
		return nil, fmt.Errorf("%w: %d > %d", ErrGasCap, limit, c.cfg.gasCap)
	}
	head, err := c.backend.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("contracts: head: %w", err)
	}
	tip, err := c.backend.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, fmt.Errorf("contracts: tip: %w", err)
	}
	feeCap := new(big.Int).Add(tip, new(big.Int).Mul(orZero(head.BaseFee), common.Big2))
	tx := types.NewTx(&types.DynamicFeeTx{
		ChainID:   c.chainID,
		Nonce:     c.nonce,
		GasTipCap: tip,
		GasFeeCap: feeCap,
		Gas:       limit,
		To:        to,
		Value:     value,
		Data:      data,
	})
	signed, err := types.SignTx(tx, types.LatestSignerForChainID(c.chainID), c.key)
	if err != nil {
		return nil, err
	}
	if err := c.backend.SendTransaction(ctx, signed); err != nil {
		// The node may know a different nonce (another process sent from
		// this key, or a tx was dropped): ask again next time.
		c.nonceValid = false
		return nil, fmt.Errorf("contracts: send: %w", err)
	}
	c.nonce++
	return signed, nil
}

// firstPoll is the first wait between receipt polls; it doubles up to
// the poll interval, then up to a second.
const firstPoll = time.Millisecond

// wait returns the receipt of hash. It asks at once, then after 1 ms,
// 2 ms, 4 ms... up to the poll interval, then doubling to a second: a dev
// chain seals a block in a few milliseconds and the receipt is seen
// within about that again, while a chain with 12 s blocks gets a handful
// of extra cheap calls per transaction. (Waiting on new-head
// subscriptions instead wedged the dev chain's in-process RPC connection
// in the 1,000-node run: docs/rationale/scale.md.)
func (c *Client) wait(ctx context.Context, hash common.Hash) (*types.Receipt, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.receiptTimeout)
	defer cancel()
	t := time.NewTimer(0)
	defer t.Stop()
	delay := min(firstPoll, c.cfg.pollInterval)
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("%w: tx %s", ErrReceiptTimeout, hash)
			}
			return nil, ctx.Err()
		case <-t.C:
		}
		r, err := c.backend.TransactionReceipt(ctx, hash)
		if err == nil && r != nil {
			// go-ethereum stores a block's receipts before it moves the
			// head to it: polled within that window, a receipt can come
			// before "latest" state includes it, and the caller's next
			// call or estimate would run on the state before it.
			if h, herr := c.backend.HeaderByNumber(ctx, nil); herr != nil || r.BlockNumber == nil || h.Number.Cmp(r.BlockNumber) >= 0 {
				return r, nil
			}
			t.Reset(firstPoll)
			continue
		}
		if err != nil && !errors.Is(err, ethereum.NotFound) && !strings.Contains(err.Error(), "not found") {
			// geth answers "transaction indexing is in progress" while it
			// catches up; anything else is worth a log line but not a stop.
			c.log.Debug("receipt poll", "tx", hash, "err", err)
		}
		t.Reset(delay)
		if delay < c.cfg.pollInterval {
			delay = min(delay*2, c.cfg.pollInterval)
		} else {
			delay = min(delay*2, max(c.cfg.pollInterval, time.Second))
		}
	}
}

// transact sends calldata to the contract.
func (c *Client) transact(ctx context.Context, data []byte, value *big.Int) (*types.Receipt, error) {
	return c.send(ctx, &c.contract, data, value)
}

// call runs a read-only call against the latest block.
func call[T any](ctx context.Context, c *Client, data []byte, unpack func([]byte) (T, error)) (T, error) {
	out, err := bind.Call(c.bound, &bind.CallOpts{Context: ctx, From: c.from}, data, unpack)
	if err != nil {
		var zero T
		return zero, decodeRevert(c.abi, err)
	}
	return out, nil
}

// Transfer sends amount wei from the client's key to a plain account.
func (c *Client) Transfer(ctx context.Context, to common.Address, amount *big.Int) (*types.Receipt, error) {
	return c.send(ctx, &to, nil, amount)
}
