package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/node/client"
	"github.com/cloudless-network/cloudless/p2p"
	"github.com/cloudless-network/cloudless/storage"
)

// DefaultShutdownTimeout bounds Close when the caller's context has no
// deadline.
const DefaultShutdownTimeout = 20 * time.Second

// Options are what Start needs beyond the repo and its config.
type Options struct {
	// Passphrase unlocks the keystore.
	Passphrase string
	// Logger; nil uses slog.Default().
	Logger *slog.Logger
	// Registry collects every part's metrics and is served at /metrics;
	// nil makes a fresh one.
	Registry *prometheus.Registry
	// Version is reported by /v1/id.
	Version string
	// ChainSource says where cfg.Chain came from ("config", "env",
	// "flags"), for the dashboard; "" means config.
	ChainSource string
}

// Node is a running daemon: the parts built from the config, and the
// control API. Start builds it; Close stops it in reverse order.
type Node struct {
	repo  string
	cfg   Config
	log   *slog.Logger
	reg   *prometheus.Registry
	opts  Options
	token string

	lock    *RepoLock
	id      *p2p.Identity
	api     *API
	srv     *http.Server
	apiAddr string
	srvDone chan struct{}

	mu      sync.Mutex
	parts   []client.Part
	closers []closer // in start order; Close runs them backwards

	svc    Services
	exec   *executor.Executor
	p2p    *p2p.Node
	store  *storage.Store
	ledger *ledger.Ledger
	chain  *chainPart
	wallet *walletService

	closeOnce sync.Once
	closeErr  error
	done      chan struct{}
}

type closer struct {
	name string
	fn   func(ctx context.Context) error
}

// Start opens the repo at repoDir and starts every part cfg enables, then
// the control API, and writes the api file. On error everything started so
// far is stopped again.
//
// # Errors
//
// ErrRepoLocked when another daemon holds the repo; ErrRemoteAPI for a
// non-loopback API address without AllowRemote; errors from the parts,
// wrapped with the part's name.
func Start(ctx context.Context, repoDir string, cfg *Config, opts Options) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Registry == nil {
		opts.Registry = newRegistry()
	}
	n := &Node{
		repo: repoDir, cfg: *cfg, log: opts.Logger, reg: opts.Registry, opts: opts,
		done: make(chan struct{}),
	}
	if err := n.start(ctx); err != nil {
		cctx, cancel := context.WithTimeout(context.Background(), DefaultShutdownTimeout)
		defer cancel()
		_ = n.Close(cctx)
		return nil, err
	}
	return n, nil
}

func (n *Node) start(ctx context.Context) error {
	if _, err := os.Stat(ConfigPath(n.repo)); err != nil {
		return fmt.Errorf("%w at %s; create it with `cloudless init`", ErrNoRepo, n.repo)
	}
	lock, err := LockRepo(n.repo)
	if err != nil {
		return err
	}
	n.lock = lock
	n.onClose("repo lock", func(context.Context) error { return lock.Close() })

	if n.token, err = LoadOrCreateToken(n.repo); err != nil {
		return err
	}
	// Bind the API first: a busy port or a refused address fails fast,
	// before keys are decrypted and peers dialed.
	ln, err := ListenAPI(n.cfg.API.Addr, n.cfg.API.AllowRemote)
	if err != nil {
		return err
	}
	if !isLoopbackHost(hostOf(n.cfg.API.Addr)) {
		n.log.Warn("control API is reachable from other machines; anyone with the token controls this node and its wallet, and traffic is plain HTTP", "addr", ln.Addr().String())
	}

	if n.id, err = p2p.LoadIdentity(n.repo, n.opts.Passphrase); err != nil {
		ln.Close()
		return err
	}
	n.svc.Identity = identityService{n}
	n.wallet = &walletService{n: n}
	n.svc.Wallet = n.wallet
	n.svc.Parts = n.partList
	n.svc.Config = func() any { return n.cfg }

	for _, step := range n.steps() {
		if err := step(ctx); err != nil {
			ln.Close()
			return err
		}
	}

	if n.chain != nil {
		n.setPart("wallet", true, "")
	} else {
		n.setPart("wallet", true, "ledger totals only: no chain")
	}

	n.api = NewAPI(n.svc, n.token, APIOptions{
		Gatherer:      n.reg,
		Registerer:    n.reg,
		PublicMetrics: n.cfg.API.PublicMetrics,
		Logger:        n.log.With("part", "api"),
	})
	n.srv = &http.Server{
		Handler:           n.api,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	n.srvDone = make(chan struct{})
	go func() {
		defer close(n.srvDone)
		if err := n.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("control API stopped", "err", err)
		}
	}()
	n.apiAddr = ln.Addr().String()
	n.onClose("control API", func(ctx context.Context) error {
		err := n.srv.Shutdown(ctx)
		if err != nil {
			n.srv.Close() // streams (/v1/events) that outlive the deadline
		}
		<-n.srvDone
		return nil
	})
	if err := writeFileAtomic(filepath.Join(n.repo, APIFile), []byte(n.apiAddr+"\n"), 0o600); err != nil {
		return fmt.Errorf("write api file: %w", err)
	}
	n.onClose("api file", func(context.Context) error {
		if err := os.Remove(filepath.Join(n.repo, APIFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	})
	n.setPart("api", true, "")
	n.log.Info("control API listening", "addr", n.apiAddr, "dashboard", "run `cloudless ui` for a signed-in link")
	return nil
}

// steps are the parts in start order; node_parts.go lists them.
func (n *Node) steps() []func(context.Context) error { return n.partSteps() }

func hostOf(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}

// onClose registers a stop function; Close runs them in reverse order.
func (n *Node) onClose(name string, fn func(ctx context.Context) error) {
	n.mu.Lock()
	n.closers = append(n.closers, closer{name, fn})
	n.mu.Unlock()
}

func (n *Node) setPart(name string, running bool, note string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := range n.parts {
		if n.parts[i].Name == name {
			n.parts[i].Running, n.parts[i].Note = running, note
			return
		}
	}
	n.parts = append(n.parts, client.Part{Name: name, Running: running, Note: note})
}

func (n *Node) partList() []client.Part {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]client.Part(nil), n.parts...)
}

// APIAddr is the HOST:PORT the control API is bound to.
func (n *Node) APIAddr() string { return n.apiAddr }

// Token is the control API's bearer token.
func (n *Node) Token() string { return n.token }

// Registry is the node's metrics registry.
func (n *Node) Registry() *prometheus.Registry { return n.reg }

// Done is closed when Close has finished.
func (n *Node) Done() <-chan struct{} { return n.done }

// Close stops the node. A provider first stops taking new jobs and waits
// for the jobs it runs to finish and be delivered (drainProvider, bounded
// by ctx less a reserve). Then the api file goes (so no new CLI call finds
// it), then the API, then each part in reverse start order, then the repo
// lock. It gives up waiting when ctx ends (a context without deadline gets
// DefaultShutdownTimeout) and reports what did not stop. Safe to call
// twice.
func (n *Node) Close(ctx context.Context) error {
	n.closeOnce.Do(func() {
		defer close(n.done)
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, DefaultShutdownTimeout)
			defer cancel()
		}
		// A provider first finishes what it was paid for (see
		// drainProvider), with every part still up.
		n.drainProvider(ctx)
		n.mu.Lock()
		cs := n.closers
		n.closers = nil
		n.mu.Unlock()
		var errs []error
		for i := len(cs) - 1; i >= 0; i-- {
			c := cs[i]
			if c.name == "repo lock" && ctx.Err() != nil {
				// Parts may still be writing: keep the lock (the process
				// exit drops it) rather than let a new daemon in.
				errs = append(errs, fmt.Errorf("shutdown deadline passed; keeping the repo lock until exit"))
				continue
			}
			start := time.Now()
			errc := make(chan error, 1)
			go func() { errc <- c.fn(ctx) }()
			select {
			case err := <-errc:
				if err != nil {
					errs = append(errs, fmt.Errorf("stop %s: %w", c.name, err))
				}
				n.log.Debug("stopped", "part", c.name, "took", time.Since(start))
			case <-ctx.Done():
				errs = append(errs, fmt.Errorf("stop %s: %w", c.name, ctx.Err()))
				n.log.Warn("part did not stop before the shutdown deadline", "part", c.name)
			}
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// identityService answers /v1/id from the node's identity and live
// addresses.
type identityService struct{ n *Node }

func (s identityService) ID(ctx context.Context) (client.ID, error) {
	n := s.n
	id := client.ID{
		PeerID:   n.id.PeerID.String(),
		Address:  n.id.Address.Hex(),
		Provider: n.cfg.Provide.Enabled,
		Version:  n.opts.Version,
		Repo:     n.repo,
		Running:  true,
		Addrs:    n.listenAddrs(),
	}
	if id.Addrs == nil {
		id.Addrs = []string{}
	}
	return id, nil
}
