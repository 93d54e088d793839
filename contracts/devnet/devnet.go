package devnet

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/cloudless-network/cloudless/contracts"
)

// DevDeployParams are short timeouts for local use: a minute to unstake,
// five minutes to mediate, a minute to exit a channel.
var DevDeployParams = contracts.DeployParams{UnstakeDelay: 60, MediationTimeout: 300, ExitTimeout: 60}

// DefaultFundAmount is what every funded account gets: 1000 ether.
var DefaultFundAmount = new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))

// Config describes a dev chain. The zero value is a valid config: no HTTP,
// a block per transaction, a random faucet key, the dev deploy params.
type Config struct {
	// RPCAddr is host:port for HTTP JSON-RPC; "" serves none (in-process
	// client only); port 0 picks a free port. Use a loopback host.
	RPCAddr string
	// BlockTime is the block interval; 0 seals a block as soon as a
	// transaction arrives (blocks on demand).
	BlockTime time.Duration
	// Fund lists accounts that get FundAmount at genesis.
	Fund       []common.Address
	FundAmount *big.Int
	// FaucetKey deploys the contract and holds the rest of the money
	// (1e9 ether); nil generates one.
	FaucetKey *ecdsa.PrivateKey
	// Deploy are the contract's constructor arguments; zero value: DevDeployParams.
	Deploy *contracts.DeployParams
	Logger *slog.Logger
}

// Chain is a running dev chain with the Marketplace deployed.
type Chain struct {
	stack    *node.Node
	eth      *eth.Ethereum
	beacon   *catalyst.SimulatedBeacon
	client   *ethclient.Client
	faucet   *ecdsa.PrivateKey
	contract common.Address
	chainID  *big.Int
	rpcURL   string
	log      *slog.Logger

	mu        sync.Mutex  // serializes block sealing
	paused    atomic.Bool // automine paused (tests that need several txs in one block)
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Start runs a dev chain in process, deploys the Marketplace and funds the
// configured accounts. Close stops it; its state is in memory only.
func Start(ctx context.Context, cfg Config) (*Chain, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("part", "devnet")
	faucet := cfg.FaucetKey
	if faucet == nil {
		k, err := crypto.GenerateKey()
		if err != nil {
			return nil, err
		}
		faucet = k
	}
	amount := cfg.FundAmount
	if amount == nil {
		amount = DefaultFundAmount
	}
	deploy := DevDeployParams
	if cfg.Deploy != nil {
		deploy = *cfg.Deploy
	}
	alloc := types.GenesisAlloc{
		crypto.PubkeyToAddress(faucet.PublicKey): {Balance: new(big.Int).Mul(big.NewInt(1e9), big.NewInt(params.Ether))},
	}
	for _, a := range cfg.Fund {
		alloc[a] = types.Account{Balance: new(big.Int).Set(amount)}
	}

	nodeConf := node.DefaultConfig
	nodeConf.DataDir = ""
	nodeConf.P2P = p2p.Config{NoDiscovery: true, ListenAddr: "", MaxPeers: 0}
	nodeConf.IPCPath = ""
	nodeConf.HTTPHost = ""
	nodeConf.WSHost = ""
	nodeConf.AuthPort = 0
	if cfg.RPCAddr != "" {
		host, port, err := net.SplitHostPort(cfg.RPCAddr)
		if err != nil {
			return nil, fmt.Errorf("devnet: rpc address %q: %w (want HOST:PORT)", cfg.RPCAddr, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return nil, fmt.Errorf("devnet: rpc port %q invalid", port)
		}
		nodeConf.HTTPHost, nodeConf.HTTPPort = host, p
		nodeConf.HTTPModules = []string{"eth", "net", "web3"}
		nodeConf.HTTPVirtualHosts = []string{"localhost", "127.0.0.1", "::1", host}
	}
	ethConf := ethconfig.Defaults
	ethConf.Genesis = &core.Genesis{
		Config:   params.AllDevChainProtocolChanges,
		GasLimit: ethconfig.Defaults.Miner.GasCeil,
		Alloc:    alloc,
	}
	ethConf.SyncMode = ethconfig.FullSync
	ethConf.TxPool.NoLocals = true
	// No log index: go-ethereum's filtermaps indexer races a query at the
	// head of a chain that seals on every transaction ("failed to retrieve
	// log value pointer"), and costs CPU on every block. Without it
	// eth_getLogs scans the blocks' blooms, which on a dev chain of a few
	// thousand blocks is cheap and always consistent.
	ethConf.LogNoHistory = true

	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, fmt.Errorf("devnet: node: %w", err)
	}
	backend, err := eth.New(stack, &ethConf)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("devnet: eth: %w", err)
	}
	fs := filters.NewFilterSystem(backend.APIBackend, filters.Config{})
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(fs)}})
	if err := stack.Start(); err != nil {
		stack.Close()
		return nil, fmt.Errorf("devnet: start node (rpc %s): %w", cfg.RPCAddr, err)
	}
	period := uint64(0)
	if cfg.BlockTime > 0 {
		period = uint64(max(cfg.BlockTime/time.Second, 1))
	}
	beacon, err := catalyst.NewSimulatedBeacon(period, common.Address{}, backend)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("devnet: beacon: %w", err)
	}
	if err := beacon.Fork(backend.BlockChain().GetCanonicalHash(0)); err != nil {
		stack.Close()
		return nil, fmt.Errorf("devnet: beacon: %w", err)
	}
	c := &Chain{
		stack:   stack,
		eth:     backend,
		beacon:  beacon,
		client:  ethclient.NewClient(stack.Attach()),
		faucet:  faucet,
		chainID: backend.BlockChain().Config().ChainID,
		log:     log,
	}
	if cfg.RPCAddr != "" {
		c.rpcURL = stack.HTTPEndpoint()
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	if period > 0 {
		if err := beacon.Start(); err != nil {
			c.Close()
			return nil, err
		}
	} else {
		c.wg.Add(1)
		go c.automine(runCtx)
	}
	mc, _, err := contracts.Deploy(ctx, c.client, faucet, deploy, contracts.WithLogger(log))
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("devnet: %w", err)
	}
	c.contract = mc.Contract()
	log.Info("dev chain started", "rpc", c.rpcURL, "chain_id", c.chainID, "contract", c.contract, "block_time", cfg.BlockTime)
	return c, nil
}

// automine seals a block whenever the pool has pending transactions:
// blocks on demand. A pool event wakes it at once; a short tick catches a
// transaction whose event came before it was promoted to pending. The pool
// event feed blocks its sender until delivered, so events are drained by a
// goroutine that never waits on anything else (calling TxPool.Sync from the
// receiving goroutine would deadlock with the pool's reorg loop).
func (c *Chain) automine(ctx context.Context) {
	defer c.wg.Done()
	ch := make(chan core.NewTxsEvent, 64)
	sub := c.eth.TxPool().SubscribeTransactions(ch, true)
	defer sub.Unsubscribe()
	wake := make(chan struct{}, 1)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-sub.Err():
				return
			case <-ch:
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
		}
		for i := 0; i < 16 && c.commitIfLive(); i++ {
		}
	}
}

func (c *Chain) pending() int {
	n := 0
	for _, txs := range c.eth.TxPool().Pending(txpool.PendingFilter{}) {
		n += len(txs)
	}
	return n
}

// SetAutomine pauses (false) or resumes (true) sealing a block per
// transaction, so a test can put several transactions into one block. It
// has no effect with a BlockTime.
// Once it returns false, no automatic block is being sealed and none will be.
func (c *Chain) SetAutomine(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paused.Store(!on)
}

// commitIfLive seals a block when automine is on and transactions are
// pending, deciding under the same lock SetAutomine takes (a pause cannot
// slip between the check and the seal). It reports whether it sealed one.
func (c *Chain) commitIfLive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused.Load() || c.pending() == 0 {
		return false
	}
	c.beacon.Commit()
	return true
}

// Pending is the number of executable transactions in the pool.
func (c *Chain) Pending() int { return c.pending() }

// Commit seals a block now with the pending transactions.
func (c *Chain) Commit() common.Hash {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.beacon.Commit()
}

// AdjustTime seals an empty block d later than the head, moving chain time
// forward (tests of deadlines and timeouts).
func (c *Chain) AdjustTime(d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.eth.TxPool().Sync()
	return c.beacon.AdjustTime(d)
}

// Client is an in-process JSON-RPC client of the chain (with subscriptions).
func (c *Chain) Client() *ethclient.Client { return c.client }

// Attach opens a new in-process JSON-RPC connection to the chain, as a
// separate node would have its own: many callers on one connection
// (Client) share its single request pipe. The caller closes it.
func (c *Chain) Attach() *ethclient.Client { return ethclient.NewClient(c.stack.Attach()) }

// RPCURL is the HTTP JSON-RPC endpoint, "" when none was asked for.
func (c *Chain) RPCURL() string { return c.rpcURL }

// ChainID is the chain's ID (1337).
func (c *Chain) ChainID() *big.Int { return new(big.Int).Set(c.chainID) }

// Contract is the deployed Marketplace.
func (c *Chain) Contract() common.Address { return c.contract }

// FaucetKey holds the chain's spare ether. For local use only.
func (c *Chain) FaucetKey() *ecdsa.PrivateKey { return c.faucet }

// Faucet is the faucet's address.
func (c *Chain) Faucet() common.Address { return crypto.PubkeyToAddress(c.faucet.PublicKey) }

// Fund sends amount wei from the faucet to each account and waits for the receipts.
func (c *Chain) Fund(ctx context.Context, amount *big.Int, to ...common.Address) error {
	fc, err := contracts.New(ctx, c.client, c.contract, c.faucet)
	if err != nil {
		return err
	}
	for _, a := range to {
		if _, err := fc.Transfer(ctx, a, amount); err != nil {
			return fmt.Errorf("devnet: fund %s: %w", a, err)
		}
	}
	return nil
}

// Info is the connection info written to chain.json.
func (c *Chain) Info() Info {
	return Info{
		RPC:       c.rpcURL,
		ChainID:   c.chainID.Uint64(),
		Contract:  c.contract,
		Faucet:    c.Faucet(),
		FaucetKey: "0x" + common.Bytes2Hex(crypto.FromECDSA(c.faucet)),
	}
}

// Close stops the chain. Safe to call twice.
func (c *Chain) Close() error {
	c.closeOnce.Do(func() {
		if c.cancel != nil {
			c.cancel()
		}
		c.wg.Wait()
		c.client.Close()
		c.closeErr = errors.Join(c.beacon.Stop(), c.stack.Close())
	})
	return c.closeErr
}

// Info is what a node needs to reach a chain: the file chain.json in the
// repo (written by `cloudless devnet`, read by `cloudless node` when it has
// no --chain-rpc).
type Info struct {
	RPC       string         `json:"rpc"`
	ChainID   uint64         `json:"chain_id"`
	Contract  common.Address `json:"contract"`
	Faucet    common.Address `json:"faucet,omitempty"`
	FaucetKey string         `json:"faucet_key,omitempty"` // hex secp256k1 key of a dev faucet; never on a real chain
}

// InfoFile is the name of the connection file in a node repo.
const InfoFile = "chain.json"

// WriteInfo writes info to path (0600: it may hold the dev faucet key),
// atomically.
func WriteInfo(path string, info Info) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadInfo reads a chain.json.
func ReadInfo(path string) (Info, error) {
	var info Info
	b, err := os.ReadFile(path)
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("devnet: %s: %w", path, err)
	}
	if info.RPC == "" || info.Contract == (common.Address{}) {
		return info, fmt.Errorf("devnet: %s: missing rpc or contract", path)
	}
	return info, nil
}

// KeystoreAddress returns the address of the first go-ethereum keystore file
// in dir (a repo's keystore/), read from its "address" field without the
// passphrase.
func KeystoreAddress(dir string) (common.Address, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return common.Address{}, err
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return common.Address{}, err
		}
		var kf struct {
			Address string `json:"address"`
		}
		if json.Unmarshal(b, &kf) != nil || !common.IsHexAddress(kf.Address) {
			continue
		}
		return common.HexToAddress(kf.Address), nil
	}
	return common.Address{}, fmt.Errorf("devnet: no keystore file with an address in %s", dir)
}
