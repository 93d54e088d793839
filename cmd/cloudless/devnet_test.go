package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/contracts/devnet"
)

func TestDevnetCommand(t *testing.T) {
	repo := t.TempDir()
	other := t.TempDir()
	ks := keystore.NewKeyStore(filepath.Join(other, "keystore"), keystore.LightScryptN, keystore.LightScryptP)
	acct, err := ks.NewAccount("")
	if err != nil {
		t.Fatal(err)
	}
	plain := common.HexToAddress("0x00000000000000000000000000000000000000aa")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	root := newRootCmd()
	root.SetArgs([]string{"devnet", "--repo", repo, "--json", "--rpc-addr", "127.0.0.1:0", "--log-level", "error",
		"--fund", plain.Hex(), "--fund", other})
	root.SetOut(pw)
	root.SetErr(io.Discard)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()

	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no first line: %v (%v)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	var out devnetOutput
	if err := json.Unmarshal([]byte(line), &out); err != nil {
		t.Fatalf("first line is not JSON: %q: %v", line, err)
	}
	if !strings.HasPrefix(out.RPC, "http://127.0.0.1:") || out.ChainID != 1337 || out.Contract == (common.Address{}) {
		t.Fatalf("bad info %+v", out)
	}
	if len(out.Funded) != 2 || out.Funded[0] != plain || out.Funded[1] != acct.Address {
		t.Fatalf("funded %v, want %s and %s", out.Funded, plain, acct.Address)
	}
	for _, dir := range []string{repo, other} {
		info, err := devnet.ReadInfo(filepath.Join(dir, devnet.InfoFile))
		if err != nil || info.Contract != out.Contract || info.RPC != out.RPC {
			t.Fatalf("chain.json in %s: %+v %v", dir, info, err)
		}
	}

	// The chain answers over HTTP, the contract is there, the repo is funded.
	ec, err := ethclient.DialContext(ctx, out.RPC)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	bal, err := ec.BalanceAt(ctx, acct.Address, nil)
	if err != nil || bal.Cmp(devnet.DefaultFundAmount) != 0 {
		t.Fatalf("funded balance %v %v", bal, err)
	}
	key, err := ks.Export(acct, "", "")
	if err != nil {
		t.Fatal(err)
	}
	k, err := keystore.DecryptKey(key, "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := contracts.Dial(ctx, out.RPC, out.Contract, k.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Stake(ctx, big1000()); err != nil {
		t.Fatal(err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("devnet did not stop on cancel")
	}
	if _, err := os.Stat(filepath.Join(repo, devnet.InfoFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("chain.json left behind: %v", err)
	}
}

func TestDevnetFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"devnet", "--fund", "/nonexistent/repo"},
		{"devnet", "--block-time", "-1s"},
		{"devnet", "--block-time", "500ms"},
		{"devnet", "--rpc-addr", "nonsense"},
	} {
		root := newRootCmd()
		root.SetArgs(append(args, "--repo", t.TempDir(), "--log-level", "error"))
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := root.ExecuteContext(ctx)
		cancel()
		if err == nil {
			t.Fatalf("%v: no error", args)
		}
	}
}

func big1000() *big.Int { return big.NewInt(1000) }
