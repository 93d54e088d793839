package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Files in the node repo that tell a client where the daemon is.
const (
	APIFile   = "api"       // HOST:PORT the control API is bound to, while a daemon runs
	TokenFile = "api.token" // 0600 bearer token, hex
)

var (
	// ErrNoDaemon is returned by DialAPI when no daemon holds the repo, and
	// by requests when the daemon named in the api file does not answer.
	ErrNoDaemon = errors.New("no daemon is running")
	// ErrUnauthorized is returned when the daemon refuses the token.
	ErrUnauthorized = errors.New("control API refused the token")
)

// APIError is a non-2xx answer of the control API.
type APIError struct {
	Status  int    // HTTP status
	Message string // the error the daemon reported
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("control API: %s", http.StatusText(e.Status))
	}
	return e.Message
}

// Is lets errors.Is(err, ErrUnauthorized) match a 401.
func (e *APIError) Is(target error) bool {
	return target == ErrUnauthorized && e.Status == http.StatusUnauthorized
}

// Client talks to a running daemon's control API. It is safe for
// concurrent use.
type Client struct {
	base  string // http://HOST:PORT
	token string
	repo  string
	hc    *http.Client
}

// DialAPI reads the repo's api and api.token files and returns a client for
// the daemon holding repoDir. It does no I/O on the network.
//
// # Errors
//
// ErrNoDaemon (wrapped, with a hint to start one) when the repo has no api
// file.
func DialAPI(repoDir string) (*Client, error) {
	addr, err := os.ReadFile(filepath.Join(repoDir, APIFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, noDaemon(repoDir)
		}
		return nil, fmt.Errorf("read api file: %w", err)
	}
	tok, err := os.ReadFile(filepath.Join(repoDir, TokenFile))
	if err != nil {
		return nil, fmt.Errorf("read api token: %w (is %s readable by this user?)", err, filepath.Join(repoDir, TokenFile))
	}
	return New(strings.TrimSpace(string(addr)), strings.TrimSpace(string(tok)), repoDir), nil
}

// New returns a client for the API at addr (HOST:PORT or an http:// URL)
// with the given bearer token. repoDir only goes into error messages.
func New(addr, token, repoDir string) *Client {
	base := addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &Client{
		base:  strings.TrimRight(base, "/"),
		token: token,
		repo:  repoDir,
		hc:    &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}},
	}
}

func noDaemon(repo string) error {
	return fmt.Errorf("%w on repo %s; start one with `cloudless node`", ErrNoDaemon, repo)
}

// Addr is the base URL of the API, e.g. http://127.0.0.1:5080.
func (c *Client) Addr() string { return c.base }

// Token is the bearer token.
func (c *Client) Token() string { return c.token }

// Do sends a JSON request and decodes a JSON answer. in may be nil (no
// body), an io.Reader (sent as application/octet-stream) or a value
// encoded as JSON; out may be nil (answer discarded), an io.Writer (answer
// copied) or a pointer to decode into.
//
// # Errors
//
// ErrNoDaemon when nothing listens at the api address (a stale api file
// after a crash), *APIError for a non-2xx answer (matches ErrUnauthorized
// for 401), the context's error when ctx ends.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, method, path, in, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch o := out.(type) {
	case nil:
		_, err = io.Copy(io.Discard, resp.Body)
	case io.Writer:
		_, err = io.Copy(o, resp.Body)
	default:
		err = json.NewDecoder(resp.Body).Decode(out)
		if err != nil {
			err = fmt.Errorf("control API %s %s: bad answer: %w", method, path, err)
		}
	}
	return err
}

func (c *Client) send(ctx context.Context, method, path string, in any, accept string) (*http.Response, error) {
	var body io.Reader
	ctype := ""
	switch v := in.(type) {
	case nil:
	case io.Reader:
		body, ctype = v, "application/octet-stream"
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%w on repo %s (nothing answers at %s, the api file is stale); start one with `cloudless node`", ErrNoDaemon, c.repo, c.base)
		}
		return nil, fmt.Errorf("control API %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var eb ErrorBody
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, &eb) != nil || eb.Error == "" {
			eb.Error = strings.TrimSpace(string(b))
		}
		if resp.StatusCode == http.StatusUnauthorized {
			eb.Error = fmt.Sprintf("control API refused the token (%s); the daemon may have been started on another repo than %s", eb.Error, c.repo)
		}
		return nil, &APIError{Status: resp.StatusCode, Message: eb.Error}
	}
	return resp, nil
}

// Open sends a request and returns the answer body for streaming; the
// caller closes it. Used for downloads (GET /v1/get/{cid}).
func (c *Client) Open(ctx context.Context, method, path string, in any) (io.ReadCloser, error) {
	resp, err := c.send(ctx, method, path, in, "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ID returns the daemon's identity and real listen addresses.
func (c *Client) ID(ctx context.Context) (ID, error) {
	var v ID
	return v, c.Do(ctx, http.MethodGet, "/v1/id", nil, &v)
}

// Status returns the daemon's status summary.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var v Status
	return v, c.Do(ctx, http.MethodGet, "/v1/status", nil, &v)
}

// Peers lists connected peers.
func (c *Client) Peers(ctx context.Context) ([]Peer, error) {
	var v []Peer
	return v, c.Do(ctx, http.MethodGet, "/v1/peers", nil, &v)
}

// Connect dials a peer by multiaddr (ending in /p2p/ID).
func (c *Client) Connect(ctx context.Context, addr string) error {
	return c.Do(ctx, http.MethodPost, "/v1/peers/connect", ConnectRequest{Addr: addr}, nil)
}

// Offers returns the offer book.
func (c *Client) Offers(ctx context.Context) ([]Offer, error) {
	var v []Offer
	return v, c.Do(ctx, http.MethodGet, "/v1/offers", nil, &v)
}

// Jobs lists jobs, newest first.
func (c *Client) Jobs(ctx context.Context) ([]Job, error) {
	var v []Job
	return v, c.Do(ctx, http.MethodGet, "/v1/jobs", nil, &v)
}

// Job returns one job.
func (c *Client) Job(ctx context.Context, id string) (Job, error) {
	var v Job
	return v, c.Do(ctx, http.MethodGet, "/v1/jobs/"+url.PathEscape(id), nil, &v)
}

// Run submits a job; spec is the job spec (DESIGN.md "Job spec") as any
// value that encodes to its JSON form. It returns when the job is
// accepted, not when it ends: follow it with Job or Events.
func (c *Client) Run(ctx context.Context, spec any) (Job, error) {
	var v Job
	return v, c.Do(ctx, http.MethodPost, "/v1/jobs", spec, &v)
}

// Cancel cancels a job.
func (c *Client) Cancel(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodPost, "/v1/jobs/"+url.PathEscape(id)+"/cancel", nil, nil)
}

// Wallet returns balances, earnings and spending.
func (c *Client) Wallet(ctx context.Context) (Wallet, error) {
	var v Wallet
	return v, c.Do(ctx, http.MethodGet, "/v1/wallet", nil, &v)
}

// Withdraw takes amount wei (empty: all) out of the contract.
func (c *Client) Withdraw(ctx context.Context, amount string) (WithdrawResult, error) {
	var v WithdrawResult
	return v, c.Do(ctx, http.MethodPost, "/v1/wallet/withdraw", WithdrawRequest{Amount: amount}, &v)
}

// Publish adds the bytes of r to the daemon's IPFS store as one UnixFS
// file and returns its CID. name is informative (logs).
func (c *Client) Publish(ctx context.Context, r io.Reader, name string) (PublishResult, error) {
	var v PublishResult
	p := "/v1/publish"
	if name != "" {
		p += "?name=" + url.QueryEscape(name)
	}
	return v, c.Do(ctx, http.MethodPost, p, r, &v)
}

// Get streams the content of a UnixFS file by CID (fetched from the
// network when not local). The caller closes the reader.
func (c *Client) Get(ctx context.Context, cid string) (io.ReadCloser, error) {
	return c.Open(ctx, http.MethodGet, "/v1/get/"+url.PathEscape(cid), nil)
}

// Chain returns the settlement chain status.
func (c *Client) Chain(ctx context.Context) (Chain, error) {
	var v Chain
	return v, c.Do(ctx, http.MethodGet, "/v1/chain", nil, &v)
}

// Events follows GET /v1/events and calls fn for each event until ctx ends,
// the stream ends or fn returns an error (which Events returns).
func (c *Client) Events(ctx context.Context, fn func(Event) error) error {
	resp, err := c.send(ctx, http.MethodGet, "/v1/events", nil, "text/event-stream")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var ev Event
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return fmt.Errorf("control API events: bad event: %w", err)
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return sc.Err()
}

// PublishFile adds the bytes of r as one UnixFS file with opts (the CID is
// the one offline `cloudless publish FILE` gives).
func (c *Client) PublishFile(ctx context.Context, r io.Reader, name string, opts PublishOptions) (PublishResult, error) {
	var v PublishResult
	return v, c.Do(ctx, http.MethodPost, publishPath("raw", name, opts), r, &v)
}

// PublishTar adds the directory sent as the tar stream r (entries relative
// to the directory; files, directories and symlinks only) and returns its
// CID, the one offline `cloudless publish -r DIR` gives.
func (c *Client) PublishTar(ctx context.Context, r io.Reader, name string, opts PublishOptions) (PublishResult, error) {
	var v PublishResult
	return v, c.Do(ctx, http.MethodPost, publishPath("tar", name, opts), r, &v)
}

func publishPath(format, name string, opts PublishOptions) string {
	q := url.Values{"format": {format}}
	if name != "" {
		q.Set("name", name)
	}
	if opts.Hidden {
		q.Set("hidden", "true")
	}
	if opts.NoPin {
		q.Set("pin", "false")
	}
	return "/v1/publish?" + q.Encode()
}

// GetOptions are the query options of GET /v1/get/{cid}.
type GetOptions struct {
	Timeout time.Duration // the daemon gives up fetching after this long (0: no limit)
	MaxSize int64         // refuse files larger than this many bytes (0: no cap)
}

// GetFile streams the UnixFS file cid and returns its size as the daemon
// declared it (-1 when unknown). The caller closes the reader.
func (c *Client) GetFile(ctx context.Context, cid string, opts GetOptions) (io.ReadCloser, int64, error) {
	q := url.Values{}
	if opts.Timeout > 0 {
		q.Set("timeout", opts.Timeout.String())
	}
	if opts.MaxSize > 0 {
		q.Set("max_size", fmt.Sprint(opts.MaxSize))
	}
	p := "/v1/get/" + url.PathEscape(cid)
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	resp, err := c.send(ctx, http.MethodGet, p, nil, "")
	if err != nil {
		return nil, 0, err
	}
	return resp.Body, resp.ContentLength, nil
}

// Fetch is GetFile that also takes directories: a directory comes back as
// a tar stream of its tree (names relative to it), with isTar set; write
// it out with Untar.
func (c *Client) Fetch(ctx context.Context, cid string, opts GetOptions) (rc io.ReadCloser, size int64, isTar bool, err error) {
	q := url.Values{"dir": {"tar"}}
	if opts.Timeout > 0 {
		q.Set("timeout", opts.Timeout.String())
	}
	if opts.MaxSize > 0 {
		q.Set("max_size", fmt.Sprint(opts.MaxSize))
	}
	resp, err := c.send(ctx, http.MethodGet, "/v1/get/"+url.PathEscape(cid)+"?"+q.Encode(), nil, "")
	if err != nil {
		return nil, 0, false, err
	}
	return resp.Body, resp.ContentLength, resp.Header.Get("Content-Type") == "application/x-tar", nil
}

// Pins lists the pinned roots.
func (c *Client) Pins(ctx context.Context) ([]Pin, error) {
	var v []Pin
	return v, c.Do(ctx, http.MethodGet, "/v1/pins", nil, &v)
}

// Pin pins cid, recursively unless direct; its blocks must be local or
// fetchable by the daemon.
func (c *Client) Pin(ctx context.Context, cid string, direct bool) error {
	return c.Do(ctx, http.MethodPost, pinPath(cid, direct), nil, nil)
}

// Unpin removes the pin on cid (recursive unless direct).
func (c *Client) Unpin(ctx context.Context, cid string, direct bool) error {
	return c.Do(ctx, http.MethodDelete, pinPath(cid, direct), nil, nil)
}

func pinPath(cid string, direct bool) string {
	p := "/v1/pins/" + url.PathEscape(cid)
	if direct {
		p += "?direct=true"
	}
	return p
}

// ExportCAR writes the DAG under cid as a CARv1 to w. The daemon exports
// it fully before the first byte, so a failure is an *APIError.
func (c *Client) ExportCAR(ctx context.Context, cid string, w io.Writer) error {
	resp, err := c.send(ctx, http.MethodGet, "/v1/car/"+url.PathEscape(cid), nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("control API: car export of %s ended after %d of %d bytes", cid, n, resp.ContentLength)
	}
	return err
}

// ImportCAR sends the CAR r to the daemon, which verifies every block and
// pins the roots; it returns the root CIDs.
func (c *Client) ImportCAR(ctx context.Context, r io.Reader) ([]string, error) {
	var v CARImportResult
	if err := c.Do(ctx, http.MethodPost, "/v1/car", r, &v); err != nil {
		return nil, err
	}
	return v.Roots, nil
}

// RepoVerify re-hashes every stored block, removes the corrupt ones and
// lists missing blocks of pinned content.
func (c *Client) RepoVerify(ctx context.Context) (VerifyReport, error) {
	var v VerifyReport
	return v, c.Do(ctx, http.MethodPost, "/v1/repo/verify", nil, &v)
}

// RepoGC removes every unpinned block and returns how many.
func (c *Client) RepoGC(ctx context.Context) (int, error) {
	var v GCResult
	err := c.Do(ctx, http.MethodPost, "/v1/repo/gc", nil, &v)
	return v.Removed, err
}
