package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
)

// Protocol names.
const (
	// DHTPrefix makes the cloudless DHT separate from the public IPFS one:
	// its protocol is /cloudless/kad/1.0.0.
	DHTPrefix = "/cloudless"
	// MDNSService is the mDNS service name nodes announce on a LAN.
	MDNSService = "_cloudless-discovery._udp"
	// RendezvousNS is the DHT rendezvous namespace every node advertises
	// under, so a node below MinPeers can find more.
	RendezvousNS = "/cloudless/peers/1"
)

// DHT modes for Config.DHTMode.
const (
	DHTAuto   = "auto"   // server when reachable (AutoNAT), else client
	DHTServer = "server" // always answer DHT queries (LAN, dev, tests)
	DHTClient = "client" // never answer DHT queries
)

// Config is the p2p part of a node's configuration. Zero values get the
// defaults listed on DefaultConfig except the booleans, which are used as
// given (DefaultConfig turns MDNS on).
type Config struct {
	// ListenAddrs are multiaddrs to listen on; port 0 picks a free port.
	ListenAddrs []string
	// Bootstrap are multiaddrs with /p2p/<id> dialed at start and whenever
	// the node is below MinPeers.
	Bootstrap []string
	// StaticRelays are relay multiaddrs with /p2p/<id>; when empty the
	// circuit relay client picks relays among known DHT peers.
	StaticRelays []string
	// MDNS turns on LAN discovery.
	MDNS bool
	// RelayService makes this node a circuit relay v2 for others.
	RelayService bool
	// DisableNAT turns off AutoNAT, UPnP port mapping, the relay client and
	// hole punching (for loopback-only simulations).
	DisableNAT bool
	// DHTMode is DHTAuto, DHTServer or DHTClient.
	DHTMode string
	// ConnLow and ConnHigh are the connection manager's water marks.
	ConnLow, ConnHigh int
	// MinPeers is the peer count the background loop keeps up.
	MinPeers int
	// PeerCheckInterval is how often the loop checks MinPeers.
	PeerCheckInterval time.Duration
	// StreamTimeout bounds each read and write on request/response streams.
	StreamTimeout time.Duration
	// HandlerTimeout bounds a request handler's work.
	HandlerTimeout time.Duration
}

// DefaultConfig returns the defaults: TCP and QUIC on all interfaces port
// 4001, mDNS on, DHT auto, connections 100/400, 8 minimum peers checked
// every 30 s, 10 s stream I/O timeout, 60 s handler timeout.
func DefaultConfig() Config {
	return Config{
		ListenAddrs:       []string{"/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1"},
		MDNS:              true,
		DHTMode:           DHTAuto,
		ConnLow:           100,
		ConnHigh:          400,
		MinPeers:          8,
		PeerCheckInterval: 30 * time.Second,
		StreamTimeout:     10 * time.Second,
		HandlerTimeout:    60 * time.Second,
	}
}

func (c *Config) fill() {
	d := DefaultConfig()
	if c.DHTMode == "" {
		c.DHTMode = d.DHTMode
	}
	if c.ConnLow <= 0 {
		c.ConnLow = d.ConnLow
	}
	if c.ConnHigh <= c.ConnLow {
		c.ConnHigh = max(d.ConnHigh, c.ConnLow*2)
	}
	if c.MinPeers < 0 {
		c.MinPeers = 0
	}
	if c.PeerCheckInterval <= 0 {
		c.PeerCheckInterval = d.PeerCheckInterval
	}
	if c.StreamTimeout <= 0 {
		c.StreamTimeout = d.StreamTimeout
	}
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = d.HandlerTimeout
	}
}

// Option configures New.
type Option func(*options) error

type options struct {
	host         host.Host
	registerer   prometheus.Registerer
	logger       *slog.Logger
	scoreInspect time.Duration
}

// WithHost builds the node on an existing host (for example a mocknet
// host) instead of creating one from the Config's transport settings. The
// node takes ownership: Close closes the host.
func WithHost(h host.Host) Option {
	return func(o *options) error { o.host = h; return nil }
}

// WithRegisterer registers the node's metrics (and libp2p's) with reg.
// Without it, no metrics are registered.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(o *options) error { o.registerer = reg; return nil }
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrConfig)
		}
		o.logger = l
		return nil
	}
}

// Node is a running libp2p node: host, DHT, gossipsub, discovery loops.
type Node struct {
	id      *Identity
	cfg     Config
	h       host.Host
	dht     *dht.IpfsDHT
	ps      *pubsub.PubSub
	disc    *drouting.RoutingDiscovery
	mdns    mdns.Service
	log     *slog.Logger
	metrics *metrics
	boot    []peer.AddrInfo
	tracer  *tracer

	appScore atomic.Pointer[func(peer.ID) float64]
	scores   atomic.Pointer[map[peer.ID]float64]

	mu     sync.Mutex
	topics map[string]*Topic

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// New starts a node with identity id. ctx bounds only the start-up; the node
// runs until Close.
//
// # Errors
//
// ErrConfig for an unparsable multiaddr or DHT mode; errors from libp2p
// when a listen address cannot be bound.
func New(ctx context.Context, id *Identity, cfg Config, opts ...Option) (*Node, error) {
	if id == nil {
		return nil, fmt.Errorf("%w: nil identity", ErrConfig)
	}
	cfg.fill()
	o := options{logger: slog.Default(), scoreInspect: time.Second}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	boot, err := parseAddrInfos(cfg.Bootstrap)
	if err != nil {
		return nil, err
	}
	relays, err := parseAddrInfos(cfg.StaticRelays)
	if err != nil {
		return nil, err
	}
	var mode dht.ModeOpt
	switch cfg.DHTMode {
	case DHTAuto:
		mode = dht.ModeAutoServer
	case DHTServer:
		mode = dht.ModeServer
	case DHTClient:
		mode = dht.ModeClient
	default:
		return nil, fmt.Errorf("%w: dht mode %q (want auto, server or client)", ErrConfig, cfg.DHTMode)
	}

	nctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		id: id, cfg: cfg, log: o.logger.With("part", "p2p"), boot: boot,
		topics: map[string]*Topic{}, ctx: nctx, cancel: cancel,
		metrics: newMetrics(o.registerer), tracer: newTracer(),
	}
	fail := func(err error) (*Node, error) {
		_ = n.Close()
		return nil, err
	}

	n.h = o.host
	if n.h == nil {
		n.h, err = n.newHost(cfg, o, relays)
		if err != nil {
			cancel()
			return nil, err
		}
	}
	n.h.Network().Notify(&network.NotifyBundle{
		ConnectedF:    func(network.Network, network.Conn) { n.metrics.peers(len(n.h.Network().Peers())) },
		DisconnectedF: func(network.Network, network.Conn) { n.metrics.peers(len(n.h.Network().Peers())) },
	})

	n.dht, err = dht.New(n.h,
		dht.ProtocolPrefix(DHTPrefix),
		dht.Mode(mode),
		dht.BootstrapPeers(boot...),
	)
	if err != nil {
		return fail(fmt.Errorf("p2p: dht: %w", err))
	}
	n.disc = drouting.NewRoutingDiscovery(n.dht)

	n.ps, err = pubsub.NewGossipSub(nctx, n.h,
		pubsub.WithMessageSigning(true),
		pubsub.WithStrictSignatureVerification(true),
		pubsub.WithPeerScore(n.scoreParams(), scoreThresholds),
		pubsub.WithPeerScoreInspect(func(m map[peer.ID]float64) { n.scores.Store(&m) }, o.scoreInspect),
		pubsub.WithPeerExchange(cfg.DHTMode != DHTClient),
		pubsub.WithValidateQueueSize(256),
		// Publish our own messages to every topic peer in good standing, not
		// only the mesh: an offer must not be lost while the mesh forms.
		pubsub.WithFloodPublish(true),
		pubsub.WithRawTracer(n.tracer),
	)
	if err != nil {
		return fail(fmt.Errorf("p2p: gossipsub: %w", err))
	}

	if cfg.MDNS {
		n.mdns = mdns.NewMdnsService(n.h, MDNSService, (*mdnsNotifee)(n))
		if err := n.mdns.Start(); err != nil {
			// No multicast (containers, some CI): carry on without it.
			n.log.Warn("mdns unavailable", "err", err)
			n.mdns = nil
		}
	}

	n.connectBootstrap(ctx)
	if err := n.dht.Bootstrap(nctx); err != nil {
		return fail(fmt.Errorf("p2p: dht bootstrap: %w", err))
	}
	n.wg.Add(1)
	go n.peerLoop()
	return n, nil
}

func (n *Node) newHost(cfg Config, o options, relays []peer.AddrInfo) (host.Host, error) {
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits.AutoScale()))
	if err != nil {
		return nil, fmt.Errorf("p2p: resource manager: %w", err)
	}
	cm, err := connmgr.NewConnManager(cfg.ConnLow, cfg.ConnHigh, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("%w: connmgr: %v", ErrConfig, err)
	}
	lopts := []libp2p.Option{
		libp2p.Identity(n.id.PrivKey),
		libp2p.ListenAddrStrings(cfg.ListenAddrs...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		libp2p.UserAgent("cloudless"),
	}
	if o.registerer != nil {
		lopts = append(lopts, libp2p.PrometheusRegisterer(o.registerer))
	} else {
		lopts = append(lopts, libp2p.DisableMetrics())
	}
	if !cfg.DisableNAT {
		lopts = append(lopts, libp2p.NATPortMap(), libp2p.EnableNATService(), libp2p.EnableHolePunching(), libp2p.EnableRelay())
		if len(relays) > 0 {
			lopts = append(lopts, libp2p.EnableAutoRelayWithStaticRelays(relays))
		} else {
			lopts = append(lopts, libp2p.EnableAutoRelayWithPeerSource(n.relayCandidates, autorelay.WithMinInterval(time.Minute)))
		}
	}
	if cfg.RelayService {
		lopts = append(lopts, libp2p.EnableRelayService())
	}
	h, err := libp2p.New(lopts...)
	if err != nil {
		_ = rm.Close()
		return nil, fmt.Errorf("p2p: host: %w", err)
	}
	return h, nil
}

// relayCandidates feeds the relay client with connected peers that speak
// circuit relay v2 (hop), then DHT routing-table peers.
func (n *Node) relayCandidates(ctx context.Context, num int) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo, num)
	defer close(out)
	if n.h == nil {
		return out
	}
	var cands []peer.ID
	cands = append(cands, n.h.Network().Peers()...)
	if d := n.dht; d != nil {
		cands = append(cands, d.RoutingTable().ListPeers()...)
	}
	seen := map[peer.ID]bool{}
	for _, p := range cands {
		if len(out) == num || ctx.Err() != nil {
			break
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		if ok, _ := n.h.Peerstore().SupportsProtocols(p, "/libp2p/circuit/relay/0.2.0/hop"); len(ok) == 0 {
			continue
		}
		out <- n.h.Peerstore().PeerInfo(p)
	}
	return out
}

func parseAddrInfos(addrs []string) ([]peer.AddrInfo, error) {
	var mas []ma.Multiaddr
	for _, s := range addrs {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: multiaddr %q: %v", ErrConfig, s, err)
		}
		mas = append(mas, m)
	}
	infos, err := peer.AddrInfosFromP2pAddrs(mas...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v (bootstrap and relay addresses need /p2p/<id>)", ErrConfig, err)
	}
	return infos, nil
}

// ID returns the node's peer ID.
func (n *Node) ID() peer.ID { return n.h.ID() }

// Identity returns the node's identity.
func (n *Node) Identity() *Identity { return n.id }

// Host returns the libp2p host (for bitswap and other protocols).
func (n *Node) Host() host.Host { return n.h }

// DHT returns the Kademlia DHT as content routing (storage's provide/find).
func (n *Node) DHT() routing.ContentRouting { return n.dht }

// Routing returns the DHT as full peer and content routing.
func (n *Node) Routing() routing.Routing { return n.dht }

// PubSub returns the gossipsub router.
func (n *Node) PubSub() *pubsub.PubSub { return n.ps }

// Addrs returns the node's listen addresses with /p2p/<id>, as dialable
// multiaddr strings (port 0 resolved to the real port).
func (n *Node) Addrs() []string {
	info := peer.AddrInfo{ID: n.h.ID(), Addrs: n.h.Addrs()}
	mas, err := peer.AddrInfoToP2pAddrs(&info)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(mas))
	for _, m := range mas {
		out = append(out, m.String())
	}
	return out
}

// Peers returns the peers the node is connected to.
func (n *Node) Peers() []peer.ID { return n.h.Network().Peers() }

// Connect dials a peer by multiaddr with /p2p/<id>.
//
// # Errors
//
// ErrConfig for a bad multiaddr; dial errors.
func (n *Node) Connect(ctx context.Context, addr string) (peer.ID, error) {
	infos, err := parseAddrInfos([]string{addr})
	if err != nil {
		return "", err
	}
	if err := n.h.Connect(ctx, infos[0]); err != nil {
		return "", fmt.Errorf("p2p: connect %s: %w", addr, err)
	}
	return infos[0].ID, nil
}

// SetAppScore installs the application-specific gossipsub score (the
// market feeds it from reputation). Positive values help a peer, negative
// ones push it toward the graylist. nil removes it.
func (n *Node) SetAppScore(f func(peer.ID) float64) {
	if f == nil {
		n.appScore.Store(nil)
		return
	}
	n.appScore.Store(&f)
}

// PeerScores returns the latest gossipsub score of each peer (refreshed
// every second).
func (n *Node) PeerScores() map[peer.ID]float64 {
	if m := n.scores.Load(); m != nil {
		return *m
	}
	return nil
}

// Close stops discovery, leaves all topics, closes the DHT and the host. It
// is safe to call more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.cancel()
		n.wg.Wait()
		var errs []error
		n.mu.Lock()
		topics := n.topics
		n.topics = map[string]*Topic{}
		n.mu.Unlock()
		for _, t := range topics {
			t.close()
		}
		if n.mdns != nil {
			errs = append(errs, n.mdns.Close())
		}
		if n.dht != nil {
			errs = append(errs, n.dht.Close())
		}
		if n.h != nil {
			errs = append(errs, n.h.Close())
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// connectBootstrap dials the bootstrap peers in parallel and waits for all.
func (n *Node) connectBootstrap(ctx context.Context) int {
	var wg sync.WaitGroup
	var ok atomic.Int32
	for _, ai := range n.boot {
		if ai.ID == n.h.ID() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, n.cfg.StreamTimeout)
			defer cancel()
			if err := n.h.Connect(cctx, ai); err != nil {
				n.log.Debug("bootstrap dial failed", "peer", ai.ID, "err", err)
				return
			}
			ok.Add(1)
		}()
	}
	wg.Wait()
	return int(ok.Load())
}

// peerLoop keeps MinPeers: it advertises the node under RendezvousNS and,
// when below MinPeers, redials bootstrap peers and connects to peers found
// in the DHT.
func (n *Node) peerLoop() {
	defer n.wg.Done()
	t := time.NewTimer(jitter(n.cfg.PeerCheckInterval / 10))
	defer t.Stop()
	var nextAdvertise time.Time
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		if n.cfg.DHTMode != DHTClient && time.Now().After(nextAdvertise) && len(n.h.Network().Peers()) > 0 {
			ctx, cancel := context.WithTimeout(n.ctx, n.cfg.PeerCheckInterval)
			ttl, err := n.disc.Advertise(ctx, RendezvousNS)
			cancel()
			if err == nil {
				nextAdvertise = time.Now().Add(ttl / 2)
			} else {
				n.log.Debug("advertise failed", "err", err)
			}
		}
		n.fillPeers()
		t.Reset(jitter(n.cfg.PeerCheckInterval))
	}
}

// fillPeers connects to more peers when below MinPeers.
func (n *Node) fillPeers() {
	have := len(n.h.Network().Peers())
	if have >= n.cfg.MinPeers {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.PeerCheckInterval)
	defer cancel()
	n.connectBootstrap(ctx)
	peers, err := n.disc.FindPeers(ctx, RendezvousNS)
	if err != nil {
		return
	}
	for ai := range peers {
		if len(n.h.Network().Peers()) >= n.cfg.MinPeers {
			return
		}
		if ai.ID == n.h.ID() || n.h.Network().Connectedness(ai.ID) == network.Connected || len(ai.Addrs) == 0 {
			continue
		}
		dctx, dcancel := context.WithTimeout(ctx, n.cfg.StreamTimeout)
		if err := n.h.Connect(dctx, ai); err != nil {
			n.log.Debug("dial discovered peer failed", "peer", ai.ID, "err", err)
		}
		dcancel()
	}
}

// jitter spreads timers by ±10% so nodes started together do not stampede.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Millisecond
	}
	return d - d/10 + rand.N(d/5+1)
}

// mdnsNotifee connects to peers found on the LAN.
type mdnsNotifee Node

func (m *mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	n := (*Node)(m)
	if ai.ID == n.h.ID() || n.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.StreamTimeout)
	defer cancel()
	if err := n.h.Connect(ctx, ai); err != nil {
		n.log.Debug("mdns dial failed", "peer", ai.ID, "err", err)
		return
	}
	n.metrics.discovered("mdns")
}
