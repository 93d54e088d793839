package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/node/client"
)

// newTestRepo makes a dev repo (empty passphrase, port 0 everywhere, no
// mDNS so parallel tests don't find each other).
func newTestRepo(t testing.TB) (string, *Config) {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "repo")
	cfg := DefaultConfig(true)
	cfg.MDNS = false
	if _, err := Init(repo, InitOptions{Dev: true, Config: &cfg}); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadConfig(ConfigPath(repo), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return repo, loaded
}

func startTestNode(t testing.TB, repo string, cfg *Config) *Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := Start(ctx, repo, cfg, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(context.Background()) })
	return n
}

// testLogger discards logs unless CLOUDLESS_TEST_LOG names a file to
// append them to (debug level), for digging into a failing run.
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

func TestNodeStartStop(t *testing.T) {
	repo, cfg := newTestRepo(t)
	n := startTestNode(t, repo, cfg)

	b, err := os.ReadFile(filepath.Join(repo, APIFile))
	if err != nil {
		t.Fatalf("api file: %v", err)
	}
	if got := strings.TrimSpace(string(b)); got != n.APIAddr() || strings.HasSuffix(got, ":0") {
		t.Fatalf("api file %q, node bound %s", got, n.APIAddr())
	}
	c, err := client.DialAPI(repo)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, err := c.ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !id.Running || id.PeerID == "" || !strings.HasPrefix(id.Address, "0x") || len(id.Addrs) == 0 {
		t.Fatalf("id %+v", id)
	}
	for _, a := range id.Addrs {
		if strings.Contains(a, "/tcp/0/") || strings.Contains(a, "/udp/0/") {
			t.Errorf("unresolved port 0 in %s", a)
		}
		if !strings.HasSuffix(a, "/p2p/"+id.PeerID) {
			t.Errorf("%s lacks /p2p/ID", a)
		}
	}
	st, err := c.Status(ctx)
	if err != nil || len(st.Parts) == 0 {
		t.Fatalf("status %+v %v", st, err)
	}
	// Metrics: served with the token, and the parts registered theirs.
	var sb strings.Builder
	if err := c.Do(ctx, "GET", "/metrics", nil, &sb); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"cloudless_node_api_requests_total", "go_goroutines"} {
		if !strings.Contains(sb.String(), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	// The token file is private.
	fi, err := os.Stat(filepath.Join(repo, TokenFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("api.token mode: %v %v", fi.Mode(), err)
	}

	// A second node on the same repo is refused.
	if _, err := Start(ctx, repo, cfg, Options{Logger: slog.New(slog.DiscardHandler)}); !errors.Is(err, ErrRepoLocked) {
		t.Fatalf("second Start: %v, want ErrRepoLocked", err)
	}
	// ...and its failure did not remove the first one's api file.
	if _, err := os.Stat(filepath.Join(repo, APIFile)); err != nil {
		t.Fatalf("failed second start removed the api file: %v", err)
	}

	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(ctx); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := os.Stat(filepath.Join(repo, APIFile)); !os.IsNotExist(err) {
		t.Fatalf("api file left after Close: %v", err)
	}
	if _, err := c.ID(ctx); !errors.Is(err, client.ErrNoDaemon) {
		t.Fatalf("after Close: %v, want ErrNoDaemon", err)
	}
	if _, err := client.DialAPI(repo); !errors.Is(err, client.ErrNoDaemon) {
		t.Fatalf("DialAPI after Close: %v", err)
	}
	// The lock is released: the repo can be opened again, same token.
	tok := n.Token()
	n2 := startTestNode(t, repo, cfg)
	if n2.Token() != tok {
		t.Fatal("token changed across restarts")
	}
}

func TestNodeStartRefusals(t *testing.T) {
	repo, cfg := newTestRepo(t)
	ctx := context.Background()
	quiet := Options{Logger: slog.New(slog.DiscardHandler)}

	remote := *cfg
	remote.API.Addr = "0.0.0.0:0"
	if _, err := Start(ctx, repo, &remote, quiet); !errors.Is(err, ErrRemoteAPI) {
		t.Fatalf("non-loopback API: %v", err)
	}
	if _, err := Start(ctx, filepath.Join(t.TempDir(), "none"), cfg, quiet); !errors.Is(err, ErrNoRepo) {
		t.Fatalf("missing repo: %v", err)
	}
	bad := Options{Logger: quiet.Logger, Passphrase: "not the passphrase"}
	if _, err := Start(ctx, repo, cfg, bad); err == nil || !strings.Contains(err.Error(), "passphrase") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	// A broken chain.json is reported, not ignored.
	os.WriteFile(filepath.Join(repo, ChainFile), []byte("{"), 0o600)
	if _, err := Start(ctx, repo, cfg, quiet); err == nil || !strings.Contains(err.Error(), ChainFile) {
		t.Fatalf("broken chain.json: %v", err)
	}
	os.Remove(filepath.Join(repo, ChainFile))
	// Failed starts leave no api file and no lock behind.
	if _, err := os.Stat(filepath.Join(repo, APIFile)); !os.IsNotExist(err) {
		t.Fatalf("api file after failed start: %v", err)
	}
	n := startTestNode(t, repo, cfg)
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestNodeRemoteAPIAllowed(t *testing.T) {
	repo, cfg := newTestRepo(t)
	cfg.API.Addr, cfg.API.AllowRemote = "0.0.0.0:0", true
	n := startTestNode(t, repo, cfg)
	_, port, _ := strings.Cut(n.APIAddr(), "]:")
	if port == "" {
		port = n.APIAddr()[strings.LastIndex(n.APIAddr(), ":")+1:]
	}
	resp, err := http.Get("http://127.0.0.1:" + port + "/v1/id")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("remote-allowed API without token: %d", resp.StatusCode)
	}
}

func addrOf(hex string) common.Address { return common.HexToAddress(hex) }
