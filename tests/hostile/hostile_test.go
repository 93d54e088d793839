package hostile_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/cloudless-network/cloudless/contracts/devnet"
	"github.com/cloudless-network/cloudless/market/wire"
	"github.com/cloudless-network/cloudless/node"
	"github.com/cloudless-network/cloudless/node/client"
)

// daemon is one node started through the node package's exported API.
type daemon struct {
	n  *node.Node
	c  *client.Client
	id client.ID
	p  peer.ID
}

// market is an honest provider and client on loopback sharing a dev chain.
type market struct {
	provider, client *daemon
	module           string // CID of the published test module
}

func startMarket(t *testing.T) *market {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ch, err := devnet.Start(ctx, devnet.Config{RPCAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("devnet: %v", err)
	}
	t.Cleanup(func() { ch.Close() })
	info := ch.Info()
	start := func(provide bool) *daemon {
		repo := filepath.Join(t.TempDir(), "repo")
		cfg := node.DefaultConfig(true)
		cfg.MDNS = false
		if _, err := node.Init(repo, node.InitOptions{Dev: true, Config: &cfg}); err != nil {
			t.Fatal(err)
		}
		loaded, err := node.LoadConfig(node.ConfigPath(repo), func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		loaded.Provide.Enabled = provide
		loaded.Chain.RPC, loaded.Chain.Contract = info.RPC, info.Contract.Hex()
		id, err := node.ReadID(repo, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := ch.Fund(ctx, devnet.DefaultFundAmount, common.HexToAddress(id.Address)); err != nil {
			t.Fatalf("fund: %v", err)
		}
		n, err := node.Start(ctx, repo, loaded, node.Options{Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close(context.Background()) })
		c, err := client.DialAPI(repo)
		if err != nil {
			t.Fatal(err)
		}
		id, err = c.ID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p, err := peer.Decode(id.PeerID)
		if err != nil {
			t.Fatal(err)
		}
		return &daemon{n: n, c: c, id: id, p: p}
	}
	m := &market{provider: start(true), client: start(false)}
	if err := m.client.c.Connect(ctx, m.provider.id.Addrs[0]); err != nil {
		t.Fatalf("connect: %v", err)
	}
	module, err := os.ReadFile(filepath.Join("..", "..", "node", "testdata", "hello.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := m.client.c.Publish(ctx, bytes.NewReader(module), "hello.wasm")
	if err != nil {
		t.Fatal(err)
	}
	m.module = pub.CID
	return m
}

// runJob submits the test module to the provider and waits until the job is
// paid: the honest path that must keep working under attack.
func (m *market) runJob(t *testing.T, what string) time.Duration {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	j, err := m.client.c.Run(ctx, map[string]any{
		"spec":      map[string]any{"module": m.module, "resources": map[string]any{"timeout": "10s"}, "price": map[string]any{"max": "0.01 ether"}},
		"providers": []string{m.provider.id.PeerID},
	})
	if err != nil {
		t.Fatalf("%s: run: %v", what, err)
	}
	var last client.Job
	err = poll(ctx, func() (bool, error) {
		last, err = m.client.c.Job(ctx, j.ID)
		return last.State == "paid" || last.State == "failed" || last.State == "refunded", err
	})
	if err != nil || last.State != "paid" {
		last.Detail = nil
		t.Fatalf("%s: job %s ended %q (%+v): %v", what, j.ID, last.State, last, err)
	}
	return time.Since(start)
}

// alive fails the test if a daemon has stopped.
func (m *market) alive(t *testing.T) {
	t.Helper()
	for name, d := range map[string]*daemon{"provider": m.provider, "client": m.client} {
		select {
		case <-d.n.Done():
			t.Fatalf("%s daemon stopped during the attack", name)
		default:
		}
		if _, err := d.c.ID(t.Context()); err != nil {
			t.Fatalf("%s control API: %v", name, err)
		}
	}
}

// poll calls cond until it holds, fails or ctx ends: the nodes talk over a
// real loopback network, so there is no event to wait on.
func poll(ctx context.Context, cond func() (bool, error)) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func testLogger(t testing.TB) *slog.Logger {
	p := os.Getenv("CLOUDLESS_TEST_LOG")
	if p == "" {
		return slog.New(slog.DiscardHandler)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
}

// attacker is a real libp2p host on loopback with its own gossipsub router
// that validates nothing, and a secp256k1 key so it can sign market
// messages that pass the signature check.
type attacker struct {
	h      host.Host
	priv   crypto.PrivKey
	id     peer.ID
	addr   common.Address
	ps     *pubsub.PubSub
	topics map[string]*pubsub.Topic
}

func newAttacker(t *testing.T) *attacker {
	t.Helper()
	priv, _, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.Identity(priv), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := priv.GetPublic().Raw()
	pub, err := ethcrypto.DecompressPubkey(raw)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := pubsub.NewGossipSub(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	a := &attacker{h: h, priv: priv, id: h.ID(), addr: ethcrypto.PubkeyToAddress(*pub), ps: ps, topics: map[string]*pubsub.Topic{}}
	for _, name := range []string{wire.TopicOffers, wire.TopicJobs} {
		tp, err := ps.Join(name)
		if err != nil {
			t.Fatal(err)
		}
		a.topics[name] = tp
	}
	return a
}

func (a *attacker) connect(ctx context.Context, d *daemon) error {
	ai, err := peer.AddrInfoFromString(d.id.Addrs[0])
	if err != nil {
		return err
	}
	return a.h.Connect(ctx, *ai)
}

func (a *attacker) seal(t *testing.T, m wire.Message) []byte {
	t.Helper()
	b, err := wire.Seal(a.priv, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (a *attacker) offer(seq uint64, slots uint32, exp time.Time) *wire.Offer {
	return &wire.Offer{
		Provider: a.id, Seq: seq, CPUMillicores: 1000, Slots: slots, Memory: 1 << 30,
		MaxDuration: wire.Duration(time.Minute), Runtime: wire.Runtime,
		Price:  wire.PriceSchedule{PerJob: big.NewInt(1), Tiers: []wire.TierPrice{{MaxMemory: 1 << 30, PerSecond: big.NewInt(1)}}},
		Payout: a.addr, Stake: big.NewInt(0), MaxModuleSize: 1 << 20,
		Expiry: wire.TimestampOf(exp),
	}
}

func (a *attacker) jobRequest(t *testing.T, module string, exp time.Time) *wire.JobRequest {
	t.Helper()
	spec, err := wire.ParseJobSpec([]byte(fmt.Sprintf(`{"module":%q,"resources":{"timeout":"5s"},"price":{"max":"0.01 ether"}}`, module)))
	if err != nil {
		t.Fatal(err)
	}
	return &wire.JobRequest{ID: wire.NewJobID(), Client: a.id, ClientAddr: a.addr, Spec: spec,
		BidDeadline: wire.TimestampOf(exp), PayMode: wire.PayEscrow, Expiry: wire.TimestampOf(exp)}
}

// frame is the market protocol's request frame: a status byte, the
// payload length as a uvarint, the payload (docs/protocol.md).
func frame(payload []byte) []byte {
	b := []byte{0}
	b = binary.AppendUvarint(b, uint64(len(payload)))
	return append(b, payload...)
}

// exchange writes raw bytes on a fresh market stream to p and returns the
// reply's status byte and text, or -1 when the node reset or closed the
// stream without a reply. It fails only if the node neither answered nor
// hung up within the deadline (a stall).
func (a *attacker) exchange(ctx context.Context, p peer.ID, raw []byte) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	s, err := a.h.NewStream(ctx, p, protocol.ID(wire.MarketProtocol))
	if err != nil {
		return 0, "", fmt.Errorf("open stream: %w", err)
	}
	defer s.Reset()
	_ = s.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := s.Write(raw); err != nil {
		return -1, "", nil // the node hung up while we were still sending
	}
	_ = s.CloseWrite()
	got, err := io.ReadAll(io.LimitReader(s, 1<<20))
	if err != nil && len(got) == 0 {
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			return 0, "", fmt.Errorf("node stalled: no reply and no reset: %w", err)
		}
		return -1, "", nil
	}
	if len(got) == 0 {
		return -1, "", nil
	}
	n, k := binary.Uvarint(got[1:])
	if k <= 0 || uint64(len(got)-1-k) < n {
		return int(got[0]), "", fmt.Errorf("malformed reply %x", got)
	}
	return int(got[0]), string(got[1+k : 1+k+int(n)]), nil
}

// TestMaliciousPeer attacks an honest provider and client with everything
// a peer can send, while the client keeps running jobs on the provider.
func TestMaliciousPeer(t *testing.T) {
	flood, stalls, replays := 400, 128, 25
	if testing.Short() {
		flood, stalls, replays = 100, 32, 10
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	m := startMarket(t)
	warm := m.runJob(t, "before the attack")
	t.Logf("honest job before the attack: %s", warm)

	baseG, baseHeap := settle()
	t.Logf("baseline: %d goroutines, %d MiB heap in use", baseG, baseHeap>>20)

	a := newAttacker(t)
	closed := false
	closeAttacker := func() {
		if !closed {
			closed = true
			_ = a.h.Close()
		}
	}
	t.Cleanup(closeAttacker)
	for _, d := range []*daemon{m.provider, m.client} {
		if err := a.connect(ctx, d); err != nil {
			t.Fatalf("attacker connect: %v", err)
		}
	}
	offers := a.topics[wire.TopicOffers]
	if err := poll(ctx, func() (bool, error) {
		return len(offers.ListPeers()) >= 2 && len(a.topics[wire.TopicJobs].ListPeers()) >= 1, nil
	}); err != nil {
		t.Fatalf("attacker never saw the nodes on the gossip topics: %v", err)
	}

	// Offer propagation works for a well-behaved peer: the attacker's
	// first, valid offer reaches the client's offer book.
	if err := offers.Publish(ctx, a.seal(t, a.offer(1, 1, time.Now().Add(time.Hour)))); err != nil {
		t.Fatal(err)
	}
	if err := poll(ctx, func() (bool, error) { return countOffers(ctx, m.client.c, a.id) == 1, nil }); err != nil {
		t.Fatalf("a valid offer never reached the client's book: %v", err)
	}

	// Stalled streams: opened, a byte written, then silence. They are held
	// through the whole attack and the honest job below.
	var stalled []network.Stream
	for range stalls {
		s, err := a.h.NewStream(ctx, m.provider.p, protocol.ID(wire.MarketProtocol))
		if err != nil {
			break // the resource manager refuses more streams: fine
		}
		_, _ = s.Write([]byte{0})
		stalled = append(stalled, s)
	}
	t.Logf("holding %d stalled streams", len(stalled))

	var wg sync.WaitGroup
	var junkSent, streamAttacks atomic.Int64
	// Gossip flood: garbage, expired offers, offers signed by someone else
	// (a replayed foreign envelope under the attacker's gossip signature),
	// replays of the attacker's own valid offer, junk job requests.
	other, _, _ := crypto.GenerateSecp256k1Key(rand.Reader)
	otherID, _ := peer.IDFromPrivateKey(other)
	forged := a.offer(5, 1, time.Now().Add(time.Hour))
	forged.Provider = otherID
	forgedSealed, _ := wire.Seal(other, forged)
	valid := a.seal(t, a.offer(1, 1, time.Now().Add(time.Hour)))
	expired := a.seal(t, a.offer(9, 1, time.Now().Add(-time.Hour)))
	wg.Go(func() {
		for i := range flood {
			var data []byte
			topic := offers
			switch i % 5 {
			case 0:
				data = make([]byte, 1+i%2048)
				_, _ = rand.Read(data)
			case 1:
				data = expired
			case 2:
				data = forgedSealed
			case 3:
				data = valid // replay
			case 4:
				topic = a.topics[wire.TopicJobs]
				data = []byte("\xa1\x61v\x19\xff\xff junk job request")
			}
			if err := topic.Publish(ctx, data); err == nil {
				junkSent.Add(1)
			}
		}
	})

	// Direct stream attacks on both daemons.
	unknown := wire.JobID{0xde, 0xad}
	exp := time.Now().Add(time.Minute)
	award := a.seal(t, &wire.Award{JobID: unknown, Client: a.id, Provider: m.provider.p, Price: big.NewInt(1),
		PayMode: wire.PayEscrow, DealID: common.Hash{1}, Expiry: wire.TimestampOf(exp)})
	bid := a.seal(t, &wire.Bid{JobID: unknown, Provider: a.id, Price: big.NewInt(1), Expiry: wire.TimestampOf(exp), Nonce: 1})
	result := a.seal(t, &wire.Result{JobID: unknown, Provider: a.id, Error: "lies"})
	cancelMsg := a.seal(t, &wire.Cancel{JobID: unknown, Sender: a.id, Reason: "x", Expiry: wire.TimestampOf(exp)})
	expiredReq := a.seal(t, a.jobRequest(t, m.module, time.Now().Add(-time.Minute)))
	badSig := append([]byte(nil), award...)
	badSig[len(badSig)-5] ^= 0xff // inside the envelope's signature
	truncated := frame(award)[:len(award)/2]
	oversized := binary.AppendUvarint([]byte{0}, 1<<30) // announces 1 GiB, sends nothing more
	cases := []struct {
		name string
		raw  []byte
		ok   bool // may the node answer with status OK?
	}{
		{"malformed cbor", frame([]byte("\xbf\xff\x00 not cbor at all")), false},
		{"empty frame", frame(nil), false},
		{"truncated frame", truncated, false},
		{"oversized frame", oversized, false},
		{"huge varint", append([]byte{0}, bytes.Repeat([]byte{0xff}, 12)...), false},
		{"bad signature", frame(badSig), false},
		{"award for unknown job", frame(award), false},
		{"bid for unknown job", frame(bid), false},
		{"result for unknown job", frame(result), true}, // a client may ack results it ignores
		{"cancel for unknown job", frame(cancelMsg), true},
		{"expired job request", frame(expiredReq), false},
	}
	wg.Go(func() {
		for round := range replays {
			for _, tc := range cases {
				for _, d := range []*daemon{m.provider, m.client} {
					status, text, err := a.exchange(ctx, d.p, tc.raw)
					streamAttacks.Add(1)
					if err != nil {
						t.Errorf("%s to %s (round %d): %v", tc.name, d.id.PeerID, round, err)
						continue
					}
					if status == 0 && !tc.ok {
						t.Errorf("%s to %s (round %d): accepted, reply %q", tc.name, d.id.PeerID, round, text)
					}
				}
			}
		}
	})

	// The honest job runs during the attack.
	during := m.runJob(t, "during the attack")
	wg.Wait()
	t.Logf("honest job during the attack: %s; %d gossip messages and %d stream attacks sent", during, junkSent.Load(), streamAttacks.Load())
	m.alive(t)
	if n := countOffers(ctx, m.client.c, a.id); n > 1 {
		t.Errorf("replayed offers: the client's book lists the attacker %d times", n)
	}

	// Gossipsub scoring: after this many invalid messages the client has
	// graylisted the attacker, so even a valid offer from it (a different
	// slot count, to tell it apart) is ignored.
	if err := offers.Publish(ctx, a.seal(t, a.offer(2, 7, time.Now().Add(time.Hour)))); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 3*time.Second)
	err := poll(wctx, func() (bool, error) { return attackerSlots(ctx, m.client.c, a.id) == 7, nil })
	wcancel()
	if err == nil {
		t.Errorf("the attacker was not graylisted: its offer after %d invalid messages was accepted", junkSent.Load())
	}

	// The attacker leaves; its stalled streams are reset with the
	// connection. The nodes must give back what the attack took.
	for _, s := range stalled {
		_ = s.Reset()
	}
	closeAttacker()
	after := m.runJob(t, "after the attack")
	t.Logf("honest job after the attack: %s", after)
	m.alive(t)

	tol := max(60, baseG/4)
	var g int
	var heap uint64
	rctx, rcancel := context.WithTimeout(ctx, 40*time.Second)
	defer rcancel()
	err = poll(rctx, func() (bool, error) {
		g, heap = settle()
		return g <= baseG+tol && heap <= baseHeap+64<<20, nil
	})
	t.Logf("after the attack: %d goroutines (baseline %d), %d MiB heap in use (baseline %d MiB)", g, baseG, heap>>20, baseHeap>>20)
	if err != nil {
		var buf bytes.Buffer
		_ = pprofGoroutines(&buf)
		t.Fatalf("resources not returned: %d goroutines (baseline %d, tolerance %d), heap %d MiB (baseline %d MiB)\n%s",
			g, baseG, tol, heap>>20, baseHeap>>20, buf.String())
	}
}

// settle collects garbage and returns the goroutine count and heap in use.
func settle() (int, uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapInuse
}

func pprofGoroutines(w io.Writer) error {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	if n > 64<<10 {
		n = 64 << 10
	}
	_, err := w.Write(buf[:n])
	return err
}

func countOffers(ctx context.Context, c *client.Client, p peer.ID) int {
	os, err := c.Offers(ctx)
	if err != nil {
		return -1
	}
	n := 0
	for _, o := range os {
		if o.Provider == p.String() {
			n++
		}
	}
	return n
}

func attackerSlots(ctx context.Context, c *client.Client, p peer.ID) int {
	os, err := c.Offers(ctx)
	if err != nil {
		return -1
	}
	for _, o := range os {
		if o.Provider == p.String() {
			return o.FreeSlots
		}
	}
	return 0
}
