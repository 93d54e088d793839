package trigger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/proto"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/p2p"
)

// topicNet is a mocknet of real libp2p hosts: victim and honest run the
// p2p package's nodes (gossipsub with strict signing, topic validators);
// flooder runs a plain gossipsub with no validator (it publishes what our
// validator refuses); forger has no gossipsub at all and writes raw
// gossipsub RPCs.
type topicNet struct {
	mn                  mocknet.Mocknet
	victim, honest      *p2p.Node
	flooder             *pubsub.PubSub
	flooderHost, forger host.Host
	forgerKey           crypto.PrivKey
}

func newTopicNet(t *testing.T) *topicNet {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	tn := &topicNet{mn: mn}
	var ids []*p2p.Identity
	for i := range 4 {
		id, err := p2p.GenerateIdentity()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		a, _ := ma.NewMultiaddr(fmt.Sprintf("/ip4/10.0.0.%d/tcp/4001", i+1))
		if _, err := mn.AddPeer(id.PrivKey, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	cfg := p2p.Config{DisableNAT: true, DHTMode: p2p.DHTServer, PeerCheckInterval: time.Minute}
	start := func(id *p2p.Identity) *p2p.Node {
		n, err := p2p.New(context.Background(), id, cfg, p2p.WithHost(mn.Host(id.PeerID)), p2p.WithLogger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	tn.victim, tn.honest = start(ids[0]), start(ids[1])
	tn.flooderHost = mn.Host(ids[2].PeerID)
	ps, err := pubsub.NewGossipSub(t.Context(), tn.flooderHost)
	if err != nil {
		t.Fatal(err)
	}
	tn.flooder = ps
	tn.forger, tn.forgerKey = mn.Host(ids[3].PeerID), ids[3].PrivKey
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	return tn
}

// eventually polls cond until it holds (waiting on a simulated network).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// forge sends, over a raw gossipsub stream, a message on topic that
// claims to come from author but is signed by the forger's key (sig
// true) or not signed at all.
func (tn *topicNet) forge(t *testing.T, topic string, author peer.ID, data []byte, sig bool) {
	t.Helper()
	msg := &pb.Message{From: []byte(author), Data: data, Seqno: binary.BigEndian.AppendUint64(nil, uint64(time.Now().UnixNano())), Topic: &topic}
	if sig {
		b, err := proto.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Signature, err = tn.forgerKey.Sign(append([]byte(pubsub.SignPrefix), b...)); err != nil {
			t.Fatal(err)
		}
	}
	sub := true
	rpc := &pb.RPC{Subscriptions: []*pb.RPC_SubOpts{{Subscribe: &sub, Topicid: &topic}}, Publish: []*pb.Message{msg}}
	b, err := proto.Marshal(rpc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := tn.forger.NewStream(t.Context(), tn.victim.ID(), pubsub.GossipSubID_v11)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Write(append(binary.AppendUvarint(nil, uint64(len(b))), b...)); err != nil {
		t.Fatal(err)
	}
}

func topicFn(name, topic string) Function {
	fn := httpFn(name, "/"+name)
	fn.Local, fn.MaxPrice, fn.DailyCap = true, nil, nil
	fn.Triggers = []Trigger{{Kind: KindTopic, Topic: topic}}
	return fn
}

// TestTopicTrigger: signed messages within the cap run the function with
// the message as stdin; forged, unsigned and oversized ones are rejected
// by gossipsub and the validator and never run it.
func TestTopicTrigger(t *testing.T) {
	tn := newTopicNet(t)
	e := newSvcEnv(t)
	e.opts.Bus = NewP2PBus(tn.victim)
	s := e.open(t)
	if err := s.Deploy(context.Background(), []Function{topicFn("onupload", "uploads")}); err != nil {
		t.Fatal(err)
	}
	full := TopicPrefix + "uploads"

	// The honest node sees the victim in the topic before publishing.
	honest := NewP2PBus(tn.honest).(p2pBus)
	ht, err := honest.join(full)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the victim's subscription", func() bool { return slices.Contains(ht.ListPeers(), tn.victim.ID()) })
	ft, err := tn.flooder.Join(full)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the flooder to see the victim", func() bool { return slices.Contains(ft.ListPeers(), tn.victim.ID()) })

	before := tn.victim.GossipStats().Rejected
	// Oversized, from a real gossipsub with no validator: properly signed
	// by its author, refused by our size cap.
	if err := ft.Publish(t.Context(), bytes.Repeat([]byte("x"), MaxTopicMessage+1)); err != nil {
		t.Fatal(err)
	}
	// Forged: claims the honest author, signed by another key.
	tn.forge(t, full, tn.honest.ID(), []byte("forged"), true)
	// Unsigned, under strict signing.
	tn.forge(t, full, tn.forger.ID(), []byte("unsigned"), false)
	eventually(t, "three rejections", func() bool { return tn.victim.GossipStats().Rejected >= before+3 })

	// A valid message runs the function with the message as stdin.
	if err := honest.Publish(t.Context(), full, []byte("hello from honest")); err != nil {
		t.Fatal(err)
	}
	c := e.local.next(t)
	if c.fn != "onupload" || c.inv.Trigger != KindTopic || string(c.inv.Stdin) != "hello from honest" ||
		c.inv.Detail != "from "+tn.honest.ID().String() {
		t.Fatalf("invocation %+v", c.inv)
	}
	// A valid message from the flooder (within the cap) also runs: the
	// refusal was of the message, not of the peer.
	if err := ft.Publish(t.Context(), []byte("small")); err != nil {
		t.Fatal(err)
	}
	if c := e.local.next(t); string(c.inv.Stdin) != "small" {
		t.Fatalf("stdin %q", c.inv.Stdin)
	}
	if n := e.local.count(); n != 2 {
		t.Fatalf("%d runs, want 2 (bad messages ran the function)", n)
	}

	// Emit from the daemon itself reaches its own trigger.
	if err := s.Emit(t.Context(), "uploads", []byte("emitted")); err != nil {
		t.Fatal(err)
	}
	if c := e.local.next(t); string(c.inv.Stdin) != "emitted" || c.inv.Detail != "from "+tn.victim.ID().String() {
		t.Fatalf("emit: %+v", c.inv)
	}
	if err := s.Remove("onupload"); err != nil {
		t.Fatal(err)
	}
}

func TestEmitRefusals(t *testing.T) {
	e := newSvcEnv(t)
	s := e.open(t)
	for _, tc := range []struct {
		topic string
		data  []byte
		want  string
	}{
		{"Bad/Name", []byte("x"), "not a valid name"},
		{"ok", nil, "empty"},
		{"ok", bytes.Repeat([]byte("x"), MaxTopicMessage+1), "at most 65536"},
		{"ok", []byte("x"), "no p2p host"},
	} {
		err := s.Emit(context.Background(), tc.topic, tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Emit(%q, %d bytes) = %v, want %q", tc.topic, len(tc.data), err, tc.want)
		}
	}
	if err := s.Emit(context.Background(), "Bad/Name", []byte("x")); !errors.Is(err, ErrBadFunction) {
		t.Errorf("bad name: %v", err)
	}
}

// TestTopicEndToEnd: a topic message runs a real function on the real
// executor, its stdin the message.
func TestTopicEndToEnd(t *testing.T) {
	tn := newTopicNet(t)
	store := openStore(t)
	ex, err := executor.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close(context.Background()) })
	e := newSvcEnv(t)
	e.opts.Bus = NewP2PBus(tn.victim)
	rec := newRecInvoker()
	e.opts.Local = recordingInvoker{NewLocalInvoker(ex, store), rec}
	s := e.open(t)
	fn := topicFn("echo", "jobs.done")
	fn.Module = store.publish(t, "echo")
	if err := s.Deploy(context.Background(), []Function{fn}); err != nil {
		t.Fatal(err)
	}
	honest := NewP2PBus(tn.honest).(p2pBus)
	ht, err := honest.join(TopicPrefix + "jobs.done")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the victim's subscription", func() bool { return slices.Contains(ht.ListPeers(), tn.victim.ID()) })
	if err := honest.Publish(t.Context(), TopicPrefix+"jobs.done", []byte("job 42 done")); err != nil {
		t.Fatal(err)
	}
	rec.next(t)
	eventually(t, "the log record", func() bool { l, _ := s.Logs("echo", 1); return len(l) == 1 })
	logs, _ := s.Logs("echo", 1)
	if logs[0].ExitCode != 0 || logs[0].Provider != LocalProvider || logs[0].Error != "" || logs[0].Trigger != KindTopic {
		t.Fatalf("record %+v", logs[0])
	}
	if out := rec.lastOut(); !strings.HasSuffix(string(out.Stdout), "job 42 done") {
		t.Fatalf("stdout %q", out.Stdout)
	}
}

// recordingInvoker runs the real invoker and reports each call and output.
type recordingInvoker struct {
	inv Invoker
	rec *recInvoker
}

func (r recordingInvoker) Invoke(ctx context.Context, fn *Function, inv Invocation) (*Output, error) {
	out, err := r.inv.Invoke(ctx, fn, inv)
	r.rec.mu.Lock()
	if out != nil {
		r.rec.out = *out
	}
	r.rec.mu.Unlock()
	r.rec.Invoke(ctx, fn, inv) // records the call
	return out, err
}

func (r *recInvoker) lastOut() Output {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out
}
