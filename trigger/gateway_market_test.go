package trigger

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/market/wire"
)

// TestGatewayMarket: a real HTTP client on loopback, the gateway, the
// market invoker, a real provider (libp2p on loopback TCP, bitswap,
// wazero) and the dev chain; payment by channel voucher.
func TestGatewayMarket(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a dev chain and two nodes")
	}
	e := newMarketEnv(t)
	echo := e.cl.store.publish(t, "echo")
	inv := NewMarketInvoker(e.cl.client, e.cl.store, WithMarketLogger(quietLogger()))
	d := newTestDispatcher(inv,
		marketFn("echo", echo, "/echo", 5*time.Second, 1<<20),
		marketFn("loop", e.cl.store.publish(t, "loop"), "/loop", 500*time.Millisecond, 1<<20),
		marketFn("flood", e.cl.store.publish(t, "flood"), "/flood", 5*time.Second, 1<<20),
		marketFn("noblank", e.cl.store.publish(t, "noblank"), "/noblank", 5*time.Second, 1<<20),
	)
	gw := NewGateway(d, GatewayOptions{Margin: 10 * time.Second, Logger: quietLogger()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := gw.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	url := "http://" + addr
	provID := e.prov.h.ID()

	check := func(r reply) {
		t.Helper()
		if r.header.Get("X-Cloudless-Provider") != provID.String() || len(r.header.Get("X-Cloudless-Job")) != 64 {
			t.Errorf("job headers %v", r.header)
		}
		price, err := wire.ParseWei(r.header.Get("X-Cloudless-Price"))
		if err != nil || price.Sign() <= 0 || price.Cmp(big.NewInt(1e15)) > 0 {
			t.Errorf("price header %q", r.header.Get("X-Cloudless-Price"))
		}
	}
	r := do(t, "GET", url+"/echo/first?a=1", nil, nil)
	if r.code != 200 || r.body != "GET /first?a=1\n" {
		t.Fatalf("first: %d %q", r.code, r.body)
	}
	check(r)
	if p, ok := WarmProvider(inv, echo); !ok || p != provID {
		t.Fatalf("warm provider %v %v, want %s", p, ok, provID)
	}
	// Warm: the body goes through IPFS as the job's stdin.
	r = do(t, "POST", url+"/echo/second", strings.NewReader("a request body"), nil)
	if r.code != 200 || r.body != "POST /second?\na request body" {
		t.Fatalf("second: %d %q", r.code, r.body)
	}
	check(r)

	// Concurrent requests share the channel (vouchers are serialized by
	// the market client) and the warm map.
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf("body %d", i)
			r, err := tryDo("POST", fmt.Sprintf("%s/echo/c%d", url, i), strings.NewReader(body))
			if err != nil {
				errs <- err.Error()
				return
			}
			if want := fmt.Sprintf("POST /c%d?\n%s", i, body); r.code != 200 || r.body != want {
				errs <- fmt.Sprintf("concurrent %d: %d %q, want %q", i, r.code, r.body, want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}

	for _, tc := range []struct {
		path string
		code int
		want string
	}{
		{"/loop", 504, "function loop ran past its deadline of 500ms\n"},
		{"/flood", 502, "function flood stopped by the sandbox: output limit of 1 MiB exceeded"},
		{"/noblank", 502, "function noblank: bad CGI response: no blank line after the headers\n"},
	} {
		r := do(t, "GET", url+tc.path, nil, nil)
		if r.code != tc.code || !strings.HasPrefix(r.body, tc.want) {
			t.Errorf("%s: %d %q, want %d %q", tc.path, r.code, r.body, tc.code, tc.want)
		}
	}

	// A warm provider that is gone: the same job falls back to the offer
	// topic, and the warm choice moves to the provider that ran it.
	gone, err := peer.Decode("12D3KooWHHzSeKaY8xuZVzkLbKFfvNgPPeKhFBGrMbNzbm5akpqu")
	if err != nil {
		t.Fatal(err)
	}
	mi := inv.(*marketInvoker)
	mi.mu.Lock()
	mi.warm[echo] = gone
	mi.mu.Unlock()
	r = do(t, "GET", url+"/echo/fallback", nil, nil)
	if r.code != 200 || r.body != "GET /fallback?\n" {
		t.Fatalf("fallback: %d %q", r.code, r.body)
	}
	if p, _ := WarmProvider(inv, echo); p != provID {
		t.Errorf("warm provider after fallback %s", p)
	}

	checkAbandon(t, e, inv)
}
