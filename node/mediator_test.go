package node

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/contracts/devnet"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
	"github.com/cloudless-network/cloudless/node/client"
)

// TestNodeMediatorWiring starts three daemons from config: a mediator
// (market.mediate), a provider that accepts it (market.mediators) and a
// client that names it with a fee (market.mediator, market.mediator_fee).
// A deterministic escrow job is paid; its deal names the mediator's
// address and fee; and the mediator daemon answers a case brought over
// the real network with a signed refusal (the deal is not disputed), so
// nothing is earned.
// mediationTrio: a mediator daemon (market.mediate), a provider that
// accepts it (market.mediators) and a client that names it with a fee
// (market.mediator, market.mediator_fee), on one dev chain, connected.
type mediationTrio struct {
	ch             *devnet.Chain
	med, prov, cln *Node
	mc, cc         *client.Client
	fee            Wei
}

func startMediationTrio(t *testing.T, ctx context.Context) *mediationTrio {
	t.Helper()
	ch, err := devnet.Start(ctx, devnet.Config{RPCAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("devnet: %v", err)
	}
	t.Cleanup(func() { ch.Close() })
	info := ch.Info()
	start := func(mut func(c *Config)) (*Node, *client.Client) {
		repo, cfg := newTestRepo(t)
		cfg.Chain.RPC, cfg.Chain.Contract = info.RPC, info.Contract.Hex()
		mut(cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		id, err := ReadID(repo, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := ch.Fund(ctx, devnet.DefaultFundAmount, addrOf(id.Address)); err != nil {
			t.Fatalf("fund: %v", err)
		}
		n := startTestNode(t, repo, cfg)
		c, err := client.DialAPI(repo)
		if err != nil {
			t.Fatal(err)
		}
		return n, c
	}
	tr := &mediationTrio{ch: ch, fee: MustWei("1000 gwei")}
	tr.med, tr.mc = start(func(c *Config) { c.Market.Mediate = true })
	medID := tr.med.p2p.ID()
	tr.prov, _ = start(func(c *Config) {
		c.Provide.Enabled = true
		c.Market.Mediators = []string{medID.String()}
	})
	tr.cln, tr.cc = start(func(c *Config) {
		c.Market.Mediator = medID.String()
		c.Market.MediatorFee = tr.fee
	})
	for _, pair := range [][2]*Node{{tr.cln, tr.prov}, {tr.cln, tr.med}, {tr.prov, tr.med}} {
		to := pair[1].p2p.Host()
		if err := pair[0].p2p.Host().Connect(ctx, peer.AddrInfo{ID: to.ID(), Addrs: to.Addrs()}); err != nil {
			t.Fatalf("connect: %v", err)
		}
	}
	return tr
}

func TestNodeMediatorWiring(t *testing.T) {
	if testing.Short() {
		t.Skip("three daemons and a dev chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	tr := startMediationTrio(t, ctx)
	med, medID, prov, cln, cc, fee := tr.med, tr.med.p2p.ID(), tr.prov, tr.cln, tr.cc, tr.fee

	module, err := os.ReadFile(filepath.Join("testdata", "hello.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := cc.Publish(ctx, bytes.NewReader(module), "hello.wasm")
	if err != nil {
		t.Fatal(err)
	}
	j, err := cc.Run(ctx, map[string]any{
		"spec": map[string]any{"module": pub.CID, "deterministic": true, "resources": map[string]any{"timeout": "10s"},
			"price": map[string]any{"max": "0.01 ether"}},
		"providers": []string{prov.p2p.ID().String()},
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	var last client.Job
	if err := waitFor(ctx, func() (bool, error) {
		last, err = cc.Job(ctx, j.ID)
		return last.State == "paid" || last.State == "failed" || last.State == "refunded", err
	}); err != nil || last.State != "paid" {
		last.Detail = nil
		t.Fatalf("job %+v: %v", last, err)
	}

	// The deal names the mediator (its address from its peer ID) and the fee.
	jid, _ := wire.ParseJobID(j.ID)
	mj, err := cln.svc.Jobs.(*marketService).c.Job(jid)
	if err != nil || len(mj.Assigned) != 1 || mj.Assigned[0].Deal == nil {
		t.Fatalf("client's job %+v %v", mj, err)
	}
	a := mj.Assigned[0]
	medAddr, _ := market.AddressOf(medID)
	if a.Deal.Mediator != medAddr || a.Deal.MediatorFee.Cmp(&fee.Int) != 0 {
		t.Fatalf("deal names mediator %s fee %v, want %s %v", a.Deal.Mediator, a.Deal.MediatorFee, medAddr, &fee.Int)
	}

	// A case over the real network: the mediator daemon serves the
	// protocol, checks the case and refuses it, signed.
	c := &wire.MediationCase{Sender: cln.p2p.ID(), Deal: wire.DealTerms{Client: a.Deal.Client, Provider: a.Deal.Provider,
		Mediator: a.Deal.Mediator, Price: a.Deal.Price, MediatorFee: a.Deal.MediatorFee, Collateral: a.Deal.Collateral,
		Deadline: a.Deal.Deadline, ChallengeWindow: a.Deal.ChallengeWindow, JobHash: a.Deal.JobHash},
		DealID: a.DealID, JobID: jid, Spec: mj.Spec, Expiry: wire.TimestampOf(time.Now().Add(time.Minute)), Nonce: 5}
	sealed, err := wire.Seal(cln.id.PrivKey, c)
	if err != nil {
		t.Fatal(err)
	}
	status, body := rawCase(t, ctx, cln, med, sealed)
	if status != 0 {
		t.Fatalf("case refused before it was opened: %s", body)
	}
	msg, signer, err := wire.Open(body, wire.MaxMessageSize)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := msg.(*wire.MediationReply)
	if !ok || signer != medID || r.Nonce != 5 || r.Status != wire.MediationRefused || !strings.Contains(r.Reason, "not disputed") {
		t.Fatalf("reply %+v from %s, want a refusal: not disputed", msg, signer)
	}
	tot, err := med.ledger.Totals(ctx)
	if err != nil || tot.Count != 0 || tot.Earned.Sign() != 0 {
		t.Fatalf("mediator's ledger %+v %v, want nothing earned", tot, err)
	}
}

// rawCase sends a sealed case from one daemon's host to another on
// wire.MediateProtocol (frame: status byte, uvarint length, body) and
// returns the reply frame.
func rawCase(t *testing.T, ctx context.Context, from, to *Node, sealed []byte) (byte, []byte) {
	t.Helper()
	s, err := from.p2p.Host().NewStream(ctx, to.p2p.ID(), protocol.ID(wire.MediateProtocol))
	if err != nil {
		t.Fatalf("open mediation stream: %v", err)
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(30 * time.Second))
	frame := append([]byte{0}, binary.AppendUvarint(nil, uint64(len(sealed)))...)
	if _, err := s.Write(append(frame, sealed...)); err != nil {
		t.Fatal(err)
	}
	_ = s.CloseWrite()
	br := bufio.NewReader(s)
	status, err := br.ReadByte()
	if err != nil {
		t.Fatal(err)
	}
	n, err := binary.ReadUvarint(br)
	if err != nil || n > wire.MaxMessageSize {
		t.Fatalf("reply length %d: %v", n, err)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		t.Fatal(err)
	}
	return status, body
}

// TestNodeMediatorRules: a real dispute reaches the mediator daemon over
// the network and it rules on chain. Two fresh accounts play client and
// provider of an escrow deal naming the mediator daemon (the provider
// commits a wrong output hash, the client disputes); the case, signed by
// the deal's client, is relayed from the client daemon's host. The
// mediator daemon fetches the module over IPFS, re-runs the job, rules
// for the client, and its wallet shows the fee as earned, as the chain
// credits it.
func TestNodeMediatorRules(t *testing.T) {
	if testing.Short() {
		t.Skip("three daemons and a dev chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	tr := startMediationTrio(t, ctx)
	info := tr.ch.Info()
	party := func() (*contracts.Client, crypto.PrivKey) {
		k, err := ethcrypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.ch.Fund(ctx, devnet.DefaultFundAmount, ethcrypto.PubkeyToAddress(k.PublicKey)); err != nil {
			t.Fatal(err)
		}
		c, err := contracts.New(ctx, tr.ch.Client(), info.Contract, k)
		if err != nil {
			t.Fatal(err)
		}
		priv, err := crypto.UnmarshalSecp256k1PrivateKey(ethcrypto.FromECDSA(k))
		if err != nil {
			t.Fatal(err)
		}
		return c, priv
	}
	buyer, buyerKey := party()
	seller, _ := party()

	module, err := os.ReadFile(filepath.Join("testdata", "hello.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := tr.cc.Publish(ctx, bytes.NewReader(module), "hello.wasm")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := wire.ParseJobSpec([]byte(`{"module": "` + pub.CID + `", "deterministic": true, "resources": {"timeout": "10s"}, "price": {"max": "1 gwei"}}`))
	if err != nil {
		t.Fatal(err)
	}
	jid := wire.NewJobID()
	specCBOR, err := wire.Marshal(&spec)
	if err != nil {
		t.Fatal(err)
	}
	head, err := tr.ch.Client().HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	medAddr, _ := market.AddressOf(tr.med.p2p.ID())
	dp := contracts.DealParams{Client: buyer.Address(), Provider: seller.Address(), Mediator: medAddr,
		Price: big.NewInt(1_000_000_000), MediatorFee: new(big.Int).Set(&tr.fee.Int), Deadline: head.Time + 600,
		ChallengeWindow: 60, JobHash: market.JobHash(jid, specCBOR)}
	dealID, _, err := buyer.OpenDeal(ctx, dp, nil)
	if err != nil {
		t.Fatalf("open deal: %v", err)
	}
	if _, err := seller.SubmitResult(ctx, dp, common.Hash{0xba, 0xd}); err != nil {
		t.Fatalf("submit: %v", err)
	}
	if _, err := buyer.Dispute(ctx, dp); err != nil {
		t.Fatalf("dispute: %v", err)
	}
	before, err := buyer.Credits(ctx, medAddr)
	if err != nil {
		t.Fatal(err)
	}

	c := &wire.MediationCase{Sender: peerOf(t, buyerKey), Deal: wire.DealTerms{Client: dp.Client, Provider: dp.Provider,
		Mediator: dp.Mediator, Price: dp.Price, MediatorFee: dp.MediatorFee, Deadline: dp.Deadline,
		ChallengeWindow: dp.ChallengeWindow, JobHash: dp.JobHash}, DealID: dealID, JobID: jid, Spec: spec,
		Expiry: wire.TimestampOf(time.Now().Add(time.Minute)), Nonce: 9}
	sealed, err := wire.Seal(buyerKey, c)
	if err != nil {
		t.Fatal(err)
	}
	status, body := rawCase(t, ctx, tr.cln, tr.med, sealed)
	if status != 0 {
		t.Fatalf("case refused: %s", body)
	}
	msg, _, err := wire.Open(body, wire.MaxMessageSize)
	if r, ok := msg.(*wire.MediationReply); err != nil || !ok || r.Status != wire.MediationAccepted {
		t.Fatalf("reply %+v %v, want accepted", msg, err)
	}
	if err := waitFor(ctx, func() (bool, error) {
		st, err := buyer.Deal(ctx, dealID)
		return st.Status == contracts.DealClosed, err
	}); err != nil {
		t.Fatalf("the mediator did not rule: %v", err)
	}
	cls, err := buyer.FilterDealClosings(ctx, 0, []common.Hash{dealID})
	if err != nil || len(cls) != 1 || cls[0].Event != "DealResolved" || cls[0].ForProvider || cls[0].Mediator != medAddr {
		t.Fatalf("closing %+v %v, want DealResolved for the client by the mediator", cls, err)
	}
	after, err := buyer.Credits(ctx, medAddr)
	if err != nil {
		t.Fatal(err)
	}
	if d := new(big.Int).Sub(after, before); d.Cmp(&tr.fee.Int) != 0 {
		t.Errorf("mediator credited %v, want the fee %v", d, &tr.fee.Int)
	}
	var w client.Wallet
	if err := waitFor(ctx, func() (bool, error) {
		w, err = tr.mc.Wallet(ctx)
		return w.Earned != "0", err
	}); err != nil || w.Earned != tr.fee.String() {
		t.Fatalf("mediator's wallet %+v %v, want earned %s", w, err, tr.fee.String())
	}
}

func peerOf(t *testing.T, k crypto.PrivKey) peer.ID {
	t.Helper()
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
