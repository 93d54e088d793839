package contracts_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/cloudless-network/cloudless/contracts"
)

// gethDevKey is the well-known key geth --dev imports into a fresh datadir
// and prefunds (cmd/utils.DeveloperKey in go-ethereum v1.16.7).
const gethDevKey = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291"

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestGethInterop deploys the Marketplace on a real geth --dev (built by
// .ci/install-geth.sh, path in CLOUDLESS_GETH) and runs an escrow and a
// channel lifecycle over HTTP JSON-RPC through the Go client.
func TestGethInterop(t *testing.T) {
	bin := os.Getenv("CLOUDLESS_GETH")
	if bin == "" {
		t.Skip("CLOUDLESS_GETH not set (make interop-geth builds geth and sets it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	httpPort, authPort := freePort(t), freePort(t)
	var logs bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--dev", "--dev.period", "0",
		"--datadir", t.TempDir(), "--ipcdisable", "--nodiscover", "--maxpeers", "0", "--port", "0",
		"--http", "--http.addr", "127.0.0.1", "--http.port", strconv.Itoa(httpPort), "--http.api", "eth,net,web3",
		"--authrpc.addr", "127.0.0.1", "--authrpc.port", strconv.Itoa(authPort), "--verbosity", "2")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("geth output:\n%s", logs.String())
		}
	})
	url := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	// Wait for the RPC to answer: polling is right here, geth is a real process.
	var ec *ethclient.Client
	for deadline := time.Now().Add(60 * time.Second); ; {
		c, err := ethclient.DialContext(ctx, url)
		if err == nil {
			if _, err = c.ChainID(ctx); err == nil {
				ec = c
				break
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("geth RPC not up: %v", err)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	defer ec.Close()

	devKey, _ := crypto.HexToECDSA(gethDevKey)
	params := contracts.DeployParams{UnstakeDelay: 1, MediationTimeout: 1, ExitTimeout: 2}
	dev, _, err := contracts.Deploy(ctx, ec, devKey, params, contracts.WithPollInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("deployed at %s on chain %s", dev.Contract(), dev.ChainID())
	clientKey, _ := crypto.GenerateKey()
	providerKey, _ := crypto.GenerateKey()
	for _, k := range []*ecdsa.PrivateKey{clientKey, providerKey} {
		if _, err := dev.Transfer(ctx, crypto.PubkeyToAddress(k.PublicKey), eth(10)); err != nil {
			t.Fatal(err)
		}
	}
	client, err := contracts.Dial(ctx, url, dev.Contract(), clientKey, contracts.WithPollInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	provider, err := contracts.Dial(ctx, url, dev.Contract(), providerKey, contracts.WithPollInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer provider.Close()

	// Escrow with collateral: open, submit, accept, withdraw.
	if _, err := provider.Stake(ctx, milli(100)); err != nil {
		t.Fatal(err)
	}
	head, err := ec.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := contracts.DealParams{
		Client: client.Address(), Provider: provider.Address(), Price: milli(10), Collateral: milli(20),
		Deadline: head.Time + 3600, ChallengeWindow: 60, JobHash: common.HexToHash("0x10b"),
	}
	onChain, err := client.DealIDOnChain(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if onChain != client.DealID(p) {
		t.Fatalf("deal id differs: contract %s, Go %s", onChain, client.DealID(p))
	}
	sig, _ := provider.SignDeal(p)
	id, _, err := client.OpenDeal(ctx, p, sig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Claim(ctx, p); err == nil {
		t.Fatal("client could claim")
	}
	if _, err := provider.SubmitResult(ctx, p, common.HexToHash("0x5e5")); err != nil {
		t.Fatal(err)
	}
	if _, err := provider.Claim(ctx, p); err == nil {
		t.Fatal("claim inside the challenge window succeeded")
	} else {
		mustErr(t, err, contracts.ErrTooEarly)
	}
	if _, err := client.Accept(ctx, p); err != nil {
		t.Fatal(err)
	}
	st, err := client.Deal(ctx, id)
	if err != nil || st.Status != contracts.DealClosed {
		t.Fatalf("deal %v %v", st, err)
	}
	opened, err := client.FilterDealsOpened(ctx, 0, nil, []common.Address{provider.Address()})
	if err != nil || len(opened) != 1 || opened[0].DealId != id {
		t.Fatalf("FilterDealsOpened: %v %v", opened, err)
	}

	// Channel: open, vouchers, redeem, exit.
	k, _, err := client.OpenChannel(ctx, provider.Address(), common.HexToHash("0x1"), milli(10))
	if err != nil {
		t.Fatal(err)
	}
	var v contracts.Voucher
	for j := int64(1); j <= 5; j++ {
		v, _ = client.SignVoucher(k, milli(j))
	}
	if err := provider.VerifyVoucher(ctx, v); err != nil {
		t.Fatal(err)
	}
	if _, err := provider.Redeem(ctx, v); err != nil {
		t.Fatal(err)
	}
	_, err = provider.Redeem(ctx, v)
	mustErr(t, err, contracts.ErrVoucherTooLow)
	if _, err := client.StartExit(ctx, k); err != nil {
		t.Fatal(err)
	}
	// geth --dev with period 0 stamps blocks with the wall clock and seals
	// only on transactions: wait out the 2 s exit timeout, sealing blocks.
	for deadline := time.Now().Add(30 * time.Second); ; {
		_, err = client.FinishExit(ctx, k)
		if err == nil {
			break
		}
		mustErr(t, err, contracts.ErrTooEarly)
		if time.Now().After(deadline) {
			t.Fatal("exit never finished")
		}
		select { // polling a real chain's wall clock, with a deadline
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
		if _, err := dev.Transfer(ctx, dev.Address(), common.Big0); err != nil {
			t.Fatal(err)
		}
	}
	credits, _ := provider.Credits(ctx, provider.Address())
	eqBig(t, "provider credits", credits, milli(15))
	credits, _ = client.Credits(ctx, client.Address())
	eqBig(t, "client credits", credits, milli(5))
	if _, err := provider.Withdraw(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Withdraw(ctx); err != nil {
		t.Fatal(err)
	}
	bal, _ := ec.BalanceAt(ctx, dev.Contract(), nil)
	eqBig(t, "contract balance (the stake)", bal, milli(100))
}
