package devnet_test

import (
	"context"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/contracts/devnet"
)

func TestStartServesRPCAndFunds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := common.HexToAddress("0x0000000000000000000000000000000000000abc")
	c, err := devnet.Start(ctx, devnet.Config{RPCAddr: "127.0.0.1:0", Fund: []common.Address{a}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ec, err := ethclient.DialContext(ctx, c.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	id, err := ec.ChainID(ctx)
	if err != nil || id.Cmp(c.ChainID()) != 0 {
		t.Fatalf("chain id %v %v", id, err)
	}
	code, err := ec.CodeAt(ctx, c.Contract(), nil)
	if err != nil || len(code) == 0 {
		t.Fatalf("no contract code: %v", err)
	}
	bal, _ := ec.BalanceAt(ctx, a, nil)
	if bal.Cmp(devnet.DefaultFundAmount) != 0 {
		t.Fatalf("balance %s", bal)
	}
	b := common.HexToAddress("0x0000000000000000000000000000000000000def")
	if err := c.Fund(ctx, big.NewInt(5), b); err != nil {
		t.Fatal(err)
	}
	if bal, _ := ec.BalanceAt(ctx, b, nil); bal.Int64() != 5 {
		t.Fatalf("faucet transfer: balance %s", bal)
	}
	// The faucet can send contract calls over HTTP, blocks come on demand.
	fc, err := contracts.Dial(ctx, c.RPCURL(), c.Contract(), c.FaucetKey())
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	if _, err := fc.Stake(ctx, big.NewInt(1)); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestBlockTime(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a sealed block")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := devnet.Start(ctx, devnet.Config{BlockTime: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Deploy already waited for a sealed block; the next one comes by the clock alone.
	h0, err := c.Client().BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	heads := make(chan *types.Header, 4)
	sub, err := c.Client().SubscribeNewHead(ctx, heads)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	select {
	case h := <-heads:
		if h.Number.Uint64() <= h0 {
			t.Fatalf("head %d after %d", h.Number, h0)
		}
	case err := <-sub.Err():
		t.Fatal(err)
	case <-ctx.Done():
		t.Fatal("no block within a minute at --block-time 1s")
	}
}

func TestInfoFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", devnet.InfoFile)
	in := devnet.Info{RPC: "http://127.0.0.1:1", ChainID: 1337, Contract: common.HexToAddress("0x01")}
	if err := devnet.WriteInfo(p, in); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	out, err := devnet.ReadInfo(p)
	if err != nil || out != in {
		t.Fatalf("read back %+v %v", out, err)
	}
	bad := filepath.Join(dir, "bad.json")
	for _, body := range []string{"{", `{"rpc":""}`} {
		os.WriteFile(bad, []byte(body), 0o600)
		if _, err := devnet.ReadInfo(bad); err == nil {
			t.Fatalf("ReadInfo accepted %q", body)
		}
	}
	if _, err := devnet.ReadInfo(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestKeystoreAddress(t *testing.T) {
	dir := t.TempDir()
	if _, err := devnet.KeystoreAddress(dir); err == nil {
		t.Fatal("empty keystore accepted")
	}
	os.WriteFile(filepath.Join(dir, "junk"), []byte("not json"), 0o600)
	os.WriteFile(filepath.Join(dir, "UTC--x"), []byte(`{"address":"8a8eafb1cf62bfbeb1741769dae1a9dd47996192","crypto":{}}`), 0o600)
	a, err := devnet.KeystoreAddress(dir)
	if err != nil || a != common.HexToAddress("0x8a8eafb1cf62bfbeb1741769dae1a9dd47996192") {
		t.Fatalf("%s %v", a, err)
	}
	if _, err := devnet.KeystoreAddress(filepath.Join(dir, "nope")); err == nil {
		t.Fatal("missing dir accepted")
	}
}

func TestStartRejectsBadAddr(t *testing.T) {
	if _, err := devnet.Start(context.Background(), devnet.Config{RPCAddr: "no-port"}); err == nil {
		t.Fatal("accepted rpc address without port")
	}
}
