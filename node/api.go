package node

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	ipldcodec "github.com/ipld/go-ipld-prime/multicodec"
	"github.com/multiformats/go-multicodec"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cloudless-network/cloudless/node/client"
	"github.com/cloudless-network/cloudless/storage"
)

// The control API serves these services. Each is a small interface so the
// parts (p2p, market, ledger, storage, contracts) plug in through adapters
// in node.go, and tests plug in fakes of one endpoint group at a time. A nil
// service makes its endpoints answer 503 with a message naming the part.

// IdentityService answers GET /v1/id.
type IdentityService interface {
	ID(ctx context.Context) (client.ID, error)
}

// PeerService answers GET /v1/peers and POST /v1/peers/connect.
type PeerService interface {
	Peers(ctx context.Context) ([]client.Peer, error)
	Connect(ctx context.Context, addr string) error
}

// OfferService answers GET /v1/offers.
type OfferService interface {
	Offers(ctx context.Context) ([]client.Offer, error)
}

// JobService answers the /v1/jobs endpoints. Submit takes the job spec as
// the client sent it (JSON, DESIGN.md "Job spec") so the market owns its
// decoding.
type JobService interface {
	Jobs(ctx context.Context) ([]client.Job, error)
	Job(ctx context.Context, id string) (client.Job, error)
	Submit(ctx context.Context, spec json.RawMessage) (client.Job, error)
	Cancel(ctx context.Context, id string) error
}

// JobWatcher is an optional JobService extension: WatchJobs delivers every
// job change until ctx ends. Without it /v1/events polls Jobs.
type JobWatcher interface {
	WatchJobs(ctx context.Context) <-chan client.Job
}

// WalletService answers /v1/wallet endpoints.
type WalletService interface {
	Wallet(ctx context.Context) (client.Wallet, error)
	Withdraw(ctx context.Context, amountWei string) (client.WithdrawResult, error)
}

// ContentService answers POST /v1/publish and GET /v1/get/{cid}.
type ContentService interface {
	Add(ctx context.Context, r io.Reader, name string) (client.PublishResult, error)
	Cat(ctx context.Context, cid string) (io.ReadCloser, error)
}

// TreeAdder is what a ContentService may add to publish directories (POST
// /v1/publish?format=tar) and honour the hidden and pin options; without
// it, format=tar answers 501 and the options are ignored.
type TreeAdder interface {
	AddTar(ctx context.Context, r io.Reader, name string, opts client.PublishOptions) (client.PublishResult, error)
	AddRaw(ctx context.Context, r io.Reader, name string, opts client.PublishOptions) (client.PublishResult, error)
}

// SizedCatter is what a ContentService may add so GET /v1/get/{cid}
// knows the file's size before streaming (Content-Length, max_size
// refused with 413 before any byte is sent).
type SizedCatter interface {
	CatSize(ctx context.Context, cid string) (io.ReadCloser, int64, error)
}

// TreeGetter is what a ContentService may add so GET /v1/get/{cid}?dir=tar
// can answer a directory with a tar stream of it: Tree fetches the whole
// tree (at most maxSize bytes of files when maxSize > 0) into a temporary
// directory and returns it with a cleanup func.
type TreeGetter interface {
	Tree(ctx context.Context, cid string, maxSize int64) (dir string, cleanup func(), err error)
}

// PinService answers /v1/pins; nil answers 503.
type PinService interface {
	Pins(ctx context.Context) ([]client.Pin, error)
	Pin(ctx context.Context, cid string, recursive bool) error
	Unpin(ctx context.Context, cid string, recursive bool) error
}

// RepoService is what a ContentService may add to answer the CAR and
// repo maintenance endpoints (GET /v1/car/{cid}, POST /v1/car, POST
// /v1/repo/verify, POST /v1/repo/gc); without it they answer 503.
type RepoService interface {
	ExportCAR(ctx context.Context, cid string, w io.Writer) error
	ImportCAR(ctx context.Context, r io.Reader) ([]string, error)
	RepoVerify(ctx context.Context) (client.VerifyReport, error)
	RepoGC(ctx context.Context) (int, error)
}

// ChainService answers GET /v1/chain.
type ChainService interface {
	Chain(ctx context.Context) client.Chain
}

// Services groups what the API serves; nil fields answer 503.
type Services struct {
	Identity IdentityService
	Peers    PeerService
	Offers   OfferService
	Jobs     JobService
	Wallet   WalletService
	Content  ContentService
	// Pins answers /v1/pins; when nil and Content implements PinService,
	// Content answers them.
	Pins  PinService
	Chain ChainService
	// Functions answers /v1/functions and /v1/topics (api_functions.go).
	Functions FunctionService
	// Parts is reported by GET /v1/status.
	Parts func() []client.Part
	// Config is served by GET /v1/config (the daemon's effective config).
	Config func() any
}

// APIOptions tune the control API handler.
type APIOptions struct {
	// Gatherer is served at /metrics; nil serves 404 there.
	Gatherer prometheus.Gatherer
	// Registerer gets the API's own metrics; nil registers none.
	Registerer prometheus.Registerer
	// PublicMetrics serves /metrics without the token.
	PublicMetrics bool
	// Logger; nil discards.
	Logger *slog.Logger
	// EventPoll is how often /v1/events polls Jobs when the JobService is
	// not a JobWatcher; default 1s.
	EventPoll time.Duration
	// MaxPublish caps the bytes of POST /v1/publish; default 1 GiB.
	MaxPublish int64
}

// API is the control API's http.Handler.
type API struct {
	svc     Services
	token   []byte
	opts    APIOptions
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *apiMetrics
	started time.Time
}

// maxJSONBody caps request bodies of JSON endpoints.
const maxJSONBody = 1 << 20

// NewAPI returns the handler of the control API. token is the bearer token
// every request but the /ui assets must carry (see docs/api.md).
func NewAPI(svc Services, token string, opts APIOptions) *API {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.EventPoll <= 0 {
		opts.EventPoll = time.Second
	}
	if opts.MaxPublish <= 0 {
		opts.MaxPublish = 1 << 30
	}
	a := &API{svc: svc, token: []byte(token), opts: opts, log: opts.Logger, mux: http.NewServeMux(), started: time.Now()}
	a.metrics = newAPIMetrics(opts.Registerer)
	a.routes()
	return a
}

func (a *API) routes() {
	m := a.mux
	m.Handle("GET /v1/id", a.auth(a.getID))
	m.Handle("GET /v1/status", a.auth(a.getStatus))
	m.Handle("GET /v1/config", a.auth(a.getConfig))
	m.Handle("GET /v1/peers", a.auth(a.getPeers))
	m.Handle("POST /v1/peers/connect", a.auth(a.postConnect))
	m.Handle("GET /v1/offers", a.auth(a.getOffers))
	m.Handle("GET /v1/jobs", a.auth(a.getJobs))
	m.Handle("POST /v1/jobs", a.auth(a.postJob))
	m.Handle("GET /v1/jobs/{id}", a.auth(a.getJob))
	m.Handle("POST /v1/jobs/{id}/cancel", a.auth(a.postCancel))
	m.Handle("GET /v1/wallet", a.auth(a.getWallet))
	m.Handle("POST /v1/wallet/withdraw", a.auth(a.postWithdraw))
	m.Handle("POST /v1/publish", a.auth(a.postPublish))
	m.Handle("GET /v1/get/{cid}", a.auth(a.getContent))
	m.Handle("GET /v1/pins", a.auth(a.getPins))
	m.Handle("POST /v1/pins/{cid}", a.auth(a.postPin))
	m.Handle("DELETE /v1/pins/{cid}", a.auth(a.deletePin))
	m.Handle("GET /v1/car/{cid}", a.auth(a.getCAR))
	m.Handle("POST /v1/car", a.auth(a.postCAR))
	m.Handle("POST /v1/repo/verify", a.auth(a.postRepoVerify))
	m.Handle("POST /v1/repo/gc", a.auth(a.postRepoGC))
	m.Handle("GET /v1/chain", a.auth(a.getChain))
	m.Handle("GET /v1/events", a.auth(a.getEvents))
	a.functionRoutes(m)
	m.Handle("/v1/", a.auth(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s (see docs/api.md)", r.Method, r.URL.EscapedPath())) // escaped: one line whatever the path holds
	}))
	metrics := http.NotFoundHandler()
	if a.opts.Gatherer != nil {
		metrics = promhttp.HandlerFor(a.opts.Gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)})
	}
	if a.opts.PublicMetrics {
		m.Handle("GET /metrics", metrics)
	} else {
		m.Handle("GET /metrics", a.auth(metrics.ServeHTTP))
	}
	ui, err := fs.Sub(uiFS, "ui")
	if err != nil { // the embed pattern guarantees ui/ exists
		panic(err)
	}
	m.Handle("GET /ui/", uiHeaders(http.StripPrefix("/ui/", http.FileServerFS(ui))))
	m.Handle("GET /{$}", http.RedirectHandler("/ui/", http.StatusFound))
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	a.mux.ServeHTTP(sw, r)
	route := r.Pattern
	if route == "" {
		route = "other"
	}
	a.metrics.observe(route, sw.code, time.Since(start))
}

// auth wraps h with the bearer-token check (constant time).
func (a *API) auth(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), a.token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cloudless"`)
			msg := "missing bearer token: send Authorization: Bearer <contents of the repo's api.token>"
			if ok {
				msg = "wrong bearer token (compare with the repo's api.token)"
			}
			writeError(w, http.StatusUnauthorized, msg)
			return
		}
		h(w, r)
	})
}

// uiHeaders sets a strict content security policy on the dashboard: no
// inline script, nothing from other origins, no framing.
func uiHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, client.ErrorBody{Error: msg})
}

// fail maps a service error to a status: ErrNotFound 404, ErrBadRequest
// 400, ErrUnavailable 503, a cancelled request 499-ish (client gone), else
// 500.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, ErrBadRequest):
		code = http.StatusBadRequest
	case errors.Is(err, ErrUnavailable):
		code = http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		code = http.StatusGatewayTimeout
	case errors.Is(err, errTooLargeAPI):
		code = http.StatusRequestEntityTooLarge
	}
	if code == http.StatusInternalServerError {
		a.log.Warn("control API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, code, err.Error())
}

// errTooLargeAPI marks content over the request's max_size (413).
var errTooLargeAPI = errors.New("over max_size")

func unavailable(w http.ResponseWriter, what string) {
	writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("%s: %s is not running in this daemon", ErrUnavailable, what))
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return false
	}
	return true
}

func (a *API) getID(w http.ResponseWriter, r *http.Request) {
	if isNil(a.svc.Identity) {
		unavailable(w, "identity")
		return
	}
	id, err := a.svc.Identity.ID(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, id)
}

func (a *API) getStatus(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st := client.Status{Started: a.started.UTC(), UptimeSec: int64(time.Since(a.started).Seconds())}
	if !isNil(a.svc.Identity) {
		st.ID, _ = a.svc.Identity.ID(ctx)
	}
	if !isNil(a.svc.Peers) {
		if ps, err := a.svc.Peers.Peers(ctx); err == nil {
			st.Peers = len(ps)
		}
	}
	if !isNil(a.svc.Chain) {
		st.Chain = a.svc.Chain.Chain(ctx)
	}
	if a.svc.Parts != nil {
		st.Parts = a.svc.Parts()
	}
	writeJSON(w, http.StatusOK, st)
}

func (a *API) getConfig(w http.ResponseWriter, r *http.Request) {
	if a.svc.Config == nil {
		unavailable(w, "config")
		return
	}
	writeJSON(w, http.StatusOK, a.svc.Config())
}

func (a *API) getPeers(w http.ResponseWriter, r *http.Request) {
	if isNil(a.svc.Peers) {
		unavailable(w, "p2p")
		return
	}
	ps, err := a.svc.Peers.Peers(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if ps == nil {
		ps = []client.Peer{}
	}
	writeJSON(w, http.StatusOK, ps)
}

func (a *API) postConnect(w http.ResponseWriter, r *http.Request) {
	if isNil(a.svc.Peers) {
		unavailable(w, "p2p")
		return
	}
	var req client.ConnectRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Addr == "" {
		writeError(w, http.StatusBadRequest, "addr is required: a multiaddr ending in /p2p/<peer ID>")
		return
	}
	if err := a.svc.Peers.Connect(r.Context(), req.Addr); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (a *API) getOffers(w http.ResponseWriter, r *http.Request) {
	if isNil(a.svc.Offers) {
		unavailable(w, "market")
		return
	}
	os, err := a.svc.Offers.Offers(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if os == nil {
		os = []client.Offer{}
	}
	writeJSON(w, http.StatusOK, os)
}

func (a *API) getJobs(w http.ResponseWriter, r *http.Request) {
	if isNil(a.svc.Jobs) {
		unavailable(w, "market")
		return
	}
	js, err := a.svc.Jobs.Jobs(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if js == nil {
		js = []client.Job{}
	}
	writeJSON(w, http.StatusOK, js)
}

func (a *API) getJob(w http.ResponseWriter, r *http.Request) {
	if isNil(a.svc.Jobs) {
		unavailable(w, "market")
		return
	}
	j, err := a.svc.Jobs.Job(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func (a *API) postJob(w http.ResponseWriter, r *http.Request) {
	if isNil(a.svc.Jobs) {
		unavailable(w, "market")
		return
	}
	var spec json.RawMessage
	if !decodeBody(w, r, &spec) {
		return
	}
	if len(spec) == 0 {
		writeError(w, http.StatusBadRequest, "job spec is required as the JSON body (see docs/api.md)")
		return
	}
	j, err := a.svc.Jobs.Submit(r.Context(), spec)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, j)
}

func (a *API) postCancel(w http.ResponseWriter, r *http.Request) {
	if isNil(a.svc.Jobs) {
		unavailable(w, "market")
		return
	}
	if err := a.svc.Jobs.Cancel(r.Context(), r.PathValue("id")); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (a *API) getWallet(w http.ResponseWriter, r *http.Request) {
	if isNil(a.svc.Wallet) {
		unavailable(w, "wallet")
		return
	}
	v, err := a.svc.Wallet.Wallet(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *API) postWithdraw(w http.ResponseWriter, r *http.Request) {
	if isNil(a.svc.Wallet) {
		unavailable(w, "wallet")
		return
	}
	var req client.WithdrawRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Amount != "" {
		if _, err := ParseWei(req.Amount); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	v, err := a.svc.Wallet.Withdraw(r.Context(), req.Amount)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *API) postPublish(w http.ResponseWriter, r *http.Request) {
	if isNil(a.svc.Content) {
		unavailable(w, "storage")
		return
	}
	q := r.URL.Query()
	body := http.MaxBytesReader(w, r.Body, a.opts.MaxPublish)
	var res client.PublishResult
	var err error
	opts := client.PublishOptions{Hidden: q.Get("hidden") == "true", NoPin: q.Get("pin") == "false"}
	tr, _ := a.svc.Content.(TreeAdder)
	switch {
	case q.Get("format") == "tar" && tr != nil:
		res, err = tr.AddTar(r.Context(), body, q.Get("name"), opts)
	case q.Get("format") == "tar":
		writeError(w, http.StatusNotImplemented, "this daemon cannot publish directories; publish offline with the daemon stopped")
		return
	case q.Get("format") != "" && q.Get("format") != "raw":
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: format %q: want raw or tar", ErrBadRequest, q.Get("format")))
		return
	case tr != nil:
		res, err = tr.AddRaw(r.Context(), body, q.Get("name"), opts)
	default:
		res, err = a.svc.Content.Add(r.Context(), body, q.Get("name"))
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes; publish it offline with the daemon stopped, or as smaller files", a.opts.MaxPublish))
			return
		}
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (a *API) getContent(w http.ResponseWriter, r *http.Request) {
	if isNil(a.svc.Content) {
		unavailable(w, "storage")
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: timeout %q: want a positive duration such as 30s", ErrBadRequest, v))
			return
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	var maxSize int64
	if v := q.Get("max_size"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: max_size %q: want a byte count", ErrBadRequest, v))
			return
		}
		maxSize = n
	}
	var rc io.ReadCloser
	var err error
	if sc, ok := a.svc.Content.(SizedCatter); ok {
		var size int64
		rc, size, err = sc.CatSize(ctx, r.PathValue("cid"))
		if err == nil {
			if maxSize > 0 && size > maxSize {
				rc.Close()
				writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("%s is %d bytes, above max_size %d", r.PathValue("cid"), size, maxSize))
				return
			}
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		}
	} else {
		rc, err = a.svc.Content.Cat(ctx, r.PathValue("cid"))
		if err == nil && maxSize > 0 {
			rc = struct {
				io.Reader
				io.Closer
			}{io.LimitReader(rc, maxSize), rc}
		}
	}
	if tg, ok := a.svc.Content.(TreeGetter); ok && err != nil && errors.Is(err, storage.ErrNotUnixFS) && q.Get("dir") == "tar" {
		// Not a file: with dir=tar, answer a directory as a tar stream.
		// The tree is fetched (and capped) before the first byte is sent,
		// so a failure still gets a status and a one-line reason.
		dir, cleanup, terr := tg.Tree(ctx, r.PathValue("cid"), maxSize)
		if terr != nil {
			a.fail(w, r, terr)
			return
		}
		defer cleanup()
		w.Header().Set("Content-Type", "application/x-tar")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if err := client.WriteTar(w, dir, true); err != nil {
			a.log.Debug("control API: get of a directory aborted", "cid", r.PathValue("cid"), "err", err)
		}
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if _, err := io.Copy(w, rc); err != nil {
		a.log.Debug("control API: get aborted", "cid", r.PathValue("cid"), "err", err)
	}
}

func (a *API) getChain(w http.ResponseWriter, r *http.Request) {
	if isNil(a.svc.Chain) {
		writeJSON(w, http.StatusOK, client.Chain{Enabled: false, Error: "no chain configured: running without settlement"})
		return
	}
	writeJSON(w, http.StatusOK, a.svc.Chain.Chain(r.Context()))
}

// getEvents streams job changes as server-sent events. Each event is
// "event: job" and one "data:" line of client.Event JSON; a comment line
// every 15s keeps proxies from closing the stream.
func (a *API) getEvents(w http.ResponseWriter, r *http.Request) {
	if isNil(a.svc.Jobs) {
		unavailable(w, "market")
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	ctx := r.Context()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": cloudless events\n\n")
	fl.Flush()

	jobs := a.watchJobs(ctx)
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-keep.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
		case j, ok := <-jobs:
			if !ok {
				return
			}
			b, err := json.Marshal(client.Event{Type: "job", Time: time.Now().UTC(), Job: &j})
			if err != nil {
				continue
			}
			if _, err := fmt.Fprintf(w, "event: job\ndata: %s\n\n", b); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// watchJobs uses the JobService's own feed when it has one, else polls
// Jobs and emits the jobs whose state or update time changed.
func (a *API) watchJobs(ctx context.Context) <-chan client.Job {
	if jw, ok := a.svc.Jobs.(JobWatcher); ok {
		return jw.WatchJobs(ctx)
	}
	out := make(chan client.Job)
	go func() {
		defer close(out)
		seen := map[string]string{}
		first := true
		t := time.NewTicker(a.opts.EventPoll)
		defer t.Stop()
		for {
			js, err := a.svc.Jobs.Jobs(ctx)
			if err == nil {
				for _, j := range js {
					key := j.State + "|" + j.Updated.String()
					if seen[j.ID] == key {
						continue
					}
					seen[j.ID] = key
					if first {
						continue // the stream carries changes, not the backlog
					}
					select {
					case out <- j:
					case <-ctx.Done():
						return
					}
				}
				first = false
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// ListenAPI binds the control API address. A non-loopback host needs
// allowRemote (ErrRemoteAPI otherwise).
func ListenAPI(addr string, allowRemote bool) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: api address %q: want HOST:PORT", ErrConfig, addr)
	}
	if !allowRemote && !isLoopbackHost(host) {
		return nil, fmt.Errorf("%w: %q; pass --api-allow-remote to expose the control API beyond this machine", ErrRemoteAPI, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("control API: listen on %s: %w (another daemon on this port? set --api-addr 127.0.0.1:0 for any free port)", addr, err)
	}
	return ln, nil
}

func (a *API) pinService() PinService {
	if !isNil(a.svc.Pins) {
		return a.svc.Pins
	}
	if ps, ok := a.svc.Content.(PinService); ok && !isNil(a.svc.Content) {
		return ps
	}
	return nil
}

func (a *API) getPins(w http.ResponseWriter, r *http.Request) {
	ps := a.pinService()
	if ps == nil {
		unavailable(w, "storage")
		return
	}
	v, err := ps.Pins(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if v == nil {
		v = []client.Pin{}
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *API) postPin(w http.ResponseWriter, r *http.Request) {
	ps := a.pinService()
	if ps == nil {
		unavailable(w, "storage")
		return
	}
	if err := pinnable(r.PathValue("cid")); err != nil {
		a.fail(w, r, err)
		return
	}
	recursive := r.URL.Query().Get("direct") != "true"
	if err := ps.Pin(r.Context(), r.PathValue("cid"), recursive); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, client.Pin{CID: r.PathValue("cid"), Type: pinType(recursive)})
}

func (a *API) deletePin(w http.ResponseWriter, r *http.Request) {
	ps := a.pinService()
	if ps == nil {
		unavailable(w, "storage")
		return
	}
	recursive := r.URL.Query().Get("direct") != "true"
	if err := ps.Unpin(r.Context(), r.PathValue("cid"), recursive); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, client.Pin{CID: r.PathValue("cid"), Type: pinType(recursive)})
}

// pinnable refuses (ErrBadRequest, one line) a CID the store could never
// pin: not a CID, or a codec no IPLD decoder is registered for in this
// process (the registry the store's DAG service decodes with). Without
// this check such a CID reached the store, which either found the block
// under another codec's CID and failed to decode it (500) or waited on
// the network for a block it could not use.
func pinnable(s string) error {
	c, err := cid.Decode(s)
	if err != nil {
		return fmt.Errorf("%w: %q is not a CID: %v", ErrBadRequest, s, err)
	}
	code := c.Prefix().Codec
	if code == cid.DagProtobuf || code == cid.Raw {
		return nil
	}
	if _, err := ipldcodec.LookupDecoder(code); err != nil {
		return fmt.Errorf("%w: cannot pin %s: codec 0x%x (%s) is not one this node decodes (dag-pb, raw, dag-cbor, dag-json)",
			ErrBadRequest, s, code, multicodec.Code(code))
	}
	return nil
}

func pinType(recursive bool) string {
	if recursive {
		return "recursive"
	}
	return "direct"
}

func (a *API) repoService(w http.ResponseWriter) RepoService {
	rs, ok := a.svc.Content.(RepoService)
	if !ok || isNil(a.svc.Content) {
		unavailable(w, "storage")
		return nil
	}
	return rs
}

// getCAR exports the DAG under {cid} into a temporary file first, so a
// failure (bad CID, blocks not found) still gets a status and a reason,
// then streams it with its Content-Length.
func (a *API) getCAR(w http.ResponseWriter, r *http.Request) {
	rs := a.repoService(w)
	if rs == nil {
		return
	}
	if _, err := parseCID(r.PathValue("cid")); err != nil {
		a.fail(w, r, err)
		return
	}
	f, err := os.CreateTemp("", "cloudless-car-")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := rs.ExportCAR(r.Context(), r.PathValue("cid"), f); err != nil {
		a.fail(w, r, err)
		return
	}
	// The CAR writer may write at offsets: take the size from the file.
	fi, err := f.Stat()
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.ipld.car; version=1")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	if _, err := io.Copy(w, f); err != nil {
		a.log.Debug("control API: car export aborted", "cid", r.PathValue("cid"), "err", err)
	}
}

func (a *API) postCAR(w http.ResponseWriter, r *http.Request) {
	rs := a.repoService(w)
	if rs == nil {
		return
	}
	// The store reports a cut body as a bad CAR; the reader remembers
	// whether the cap cut it.
	body := &capReader{r: http.MaxBytesReader(w, r.Body, a.opts.MaxPublish)}
	roots, err := rs.ImportCAR(r.Context(), body)
	if err != nil {
		var mbe *http.MaxBytesError
		if body.over || errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes; import the CAR offline with the daemon stopped", a.opts.MaxPublish))
			return
		}
		a.fail(w, r, err)
		return
	}
	if roots == nil {
		roots = []string{}
	}
	writeJSON(w, http.StatusOK, client.CARImportResult{Roots: roots})
}

// capReader notes whether a MaxBytesReader hit its limit.
type capReader struct {
	r    io.Reader
	over bool
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		c.over = true
	}
	return n, err
}

func (a *API) postRepoVerify(w http.ResponseWriter, r *http.Request) {
	rs := a.repoService(w)
	if rs == nil {
		return
	}
	rep, err := rs.RepoVerify(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (a *API) postRepoGC(w http.ResponseWriter, r *http.Request) {
	rs := a.repoService(w)
	if rs == nil {
		return
	}
	n, err := rs.RepoGC(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, client.GCResult{Removed: n})
}

// ExportCAR writes the DAG under cid as a CARv1 to w.
func (s contentService) ExportCAR(ctx context.Context, cidStr string, w io.Writer) error {
	c, err := parseCID(cidStr)
	if err != nil {
		return err
	}
	return contentErr(s.st.ExportCAR(ctx, c, w))
}

// ImportCAR imports a CAR (every block verified, roots pinned).
func (s contentService) ImportCAR(ctx context.Context, r io.Reader) ([]string, error) {
	roots, err := s.st.ImportCAR(ctx, r)
	if err != nil {
		if errors.Is(err, storage.ErrBadCAR) {
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		return nil, err
	}
	out := make([]string, 0, len(roots))
	for _, c := range roots {
		out = append(out, c.String())
	}
	return out, nil
}

// RepoVerify re-hashes every block (see storage.Store.Verify).
func (s contentService) RepoVerify(ctx context.Context) (client.VerifyReport, error) {
	rep, err := s.st.Verify(ctx)
	if err != nil {
		return client.VerifyReport{}, err
	}
	out := client.VerifyReport{Checked: rep.Checked, Bytes: rep.Bytes}
	for _, c := range rep.Bad {
		out.Bad = append(out.Bad, client.Link{CID: c.String()})
	}
	for _, c := range rep.Missing {
		out.Missing = append(out.Missing, client.Link{CID: c.String()})
	}
	return out, nil
}

// RepoGC removes every unpinned block.
func (s contentService) RepoGC(ctx context.Context) (int, error) {
	return s.st.GC(ctx)
}

// The store-backed contentService (parts_storage.go) also publishes
// directories, reports sizes and manages pins for the control API.

func (s contentService) AddRaw(ctx context.Context, r io.Reader, name string, opts client.PublishOptions) (client.PublishResult, error) {
	cr := &countReader{r: r}
	c, err := s.st.AddFile(ctx, cr, storage.WithPin(!opts.NoPin))
	if err != nil {
		return client.PublishResult{}, fmt.Errorf("publish %s: %w", name, err)
	}
	return client.PublishResult{CID: c.String(), Size: cr.n}, nil
}

// AddTar unpacks the tar stream r into a temporary directory (only
// regular files, directories and symlinks; names must stay below the
// root: os.Root refuses "..", absolute names and writes through
// symlinks) and adds it with AddPath, so the CID is the one offline
// `cloudless publish -r DIR` gives. The tar's entries are relative to DIR.
func (s contentService) AddTar(ctx context.Context, r io.Reader, name string, opts client.PublishOptions) (client.PublishResult, error) {
	tmp, err := os.MkdirTemp("", "cloudless-publish-")
	if err != nil {
		return client.PublishResult{}, fmt.Errorf("publish %s: %w", name, err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "d")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return client.PublishResult{}, err
	}
	size, err := client.Untar(r, dir, 0)
	if err != nil {
		return client.PublishResult{}, fmt.Errorf("%w: publish %s: %w", ErrBadRequest, name, err)
	}
	c, err := s.st.AddPath(ctx, dir, storage.WithHidden(opts.Hidden), storage.WithPin(!opts.NoPin))
	if err != nil {
		return client.PublishResult{}, fmt.Errorf("publish %s: %w", name, err)
	}
	return client.PublishResult{CID: c.String(), Size: size}, nil
}

// Tree fetches the UnixFS tree cid into a temporary directory for a
// dir=tar answer.
func (s contentService) Tree(ctx context.Context, cidStr string, maxSize int64) (string, func(), error) {
	c, err := parseCID(cidStr)
	if err != nil {
		return "", nil, err
	}
	tmp, err := os.MkdirTemp("", "cloudless-get-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	dir := filepath.Join(tmp, "d")
	if err := s.st.Get(ctx, c, dir, maxSize, nil); err != nil {
		cleanup()
		var tl *storage.TooLargeError
		if errors.As(err, &tl) || errors.Is(err, storage.ErrTooLarge) {
			return "", nil, fmt.Errorf("%w: %w", errTooLargeAPI, err)
		}
		return "", nil, contentErr(err)
	}
	return dir, cleanup, nil
}

func (s contentService) CatSize(ctx context.Context, cidStr string) (io.ReadCloser, int64, error) {
	c, err := parseCID(cidStr)
	if err != nil {
		return nil, 0, err
	}
	rc, size, err := s.st.Open(ctx, c)
	if err != nil {
		return nil, 0, contentErr(err)
	}
	return rc, size, nil
}

func parseCID(s string) (cid.Cid, error) {
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, fmt.Errorf("%w: %q is not a CID: %v", ErrBadRequest, s, err)
	}
	return c, nil
}

func contentErr(err error) error {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, storage.ErrNotUnixFS):
		return fmt.Errorf("%w: %w (the control API streams files only; stop the daemon to get directories)", ErrBadRequest, err)
	case errors.Is(err, storage.ErrTimeout):
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return err
}

func (s contentService) Pins(ctx context.Context) ([]client.Pin, error) {
	ps, err := s.st.PinList(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]client.Pin, 0, len(ps))
	for _, p := range ps {
		out = append(out, client.Pin{CID: p.Cid.String(), Type: pinType(p.Recursive)})
	}
	return out, nil
}

func (s contentService) Pin(ctx context.Context, cidStr string, recursive bool) error {
	c, err := parseCID(cidStr)
	if err != nil {
		return err
	}
	return contentErr(s.st.Pin(ctx, c, recursive))
}

func (s contentService) Unpin(ctx context.Context, cidStr string, recursive bool) error {
	c, err := parseCID(cidStr)
	if err != nil {
		return err
	}
	if err := s.st.Unpin(ctx, c, recursive); err != nil {
		if errors.Is(err, storage.ErrNotPinned) {
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return err
	}
	return nil
}
