package trigger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloudless-network/cloudless/market/wire"
)

// Gateway defaults.
const (
	DefaultMaxBody        = 8 << 20
	DefaultMaxHeaderBytes = 16 << 10
	// DefaultMaxHeaders keeps the CGI environment (about 20 variables, one
	// per header, plus the function's own, at most wire.MaxEnv/2) within
	// what a job spec carries (wire.MaxEnv).
	DefaultMaxHeaders = 40
	DefaultMargin     = 2 * time.Second
	// DefaultMaxInflight caps requests being answered at once (503 beyond):
	// each may hold a body of up to MaxBody in memory.
	DefaultMaxInflight = 256
	// MaxURI caps the request target (414 beyond).
	MaxURI = 2048
)

// GatewayOptions configure a Gateway; zero fields take the defaults.
type GatewayOptions struct {
	// MaxBody caps the request body (DefaultMaxBody; 413 beyond).
	MaxBody int64
	// MaxHeaderBytes caps the request headers (DefaultMaxHeaderBytes; 431
	// beyond); MaxHeaders caps their number (DefaultMaxHeaders).
	MaxHeaderBytes int
	MaxHeaders     int
	// MaxInflight caps concurrent requests (DefaultMaxInflight; 503 with
	// Retry-After beyond).
	MaxInflight int
	// Margin is added to the function's timeout to make the request's
	// deadline: room for bidding, paying and fetching the result
	// (DefaultMargin). Past the deadline the caller gets 504.
	Margin time.Duration
	// ServerAddr names the gateway in SERVER_NAME/SERVER_PORT (Serve sets
	// it to the bound address; "" uses the request's Host).
	ServerAddr string
	Logger     *slog.Logger
	// Registerer, when set, gets the cloudless_trigger_http_* metrics.
	Registerer prometheus.Registerer
}

// Gateway is the HTTP trigger: it maps a request to the function whose
// route matches (longest prefix, Dispatcher.Route), runs it through the
// Dispatcher with the request as CGI environment and stdin (WAGI), and
// answers with the function's CGI response. Every failure is answered
// with a status and a one-line text/plain reason, never a hang:
//
//	404 no route          405 route without that method
//	413 body over MaxBody 414 URI over MaxURI   431 headers over the caps
//	402 the daily spending cap would be passed (ErrOverBudget)
//	502 bad CGI response, sandbox stop (output, memory, trap), other failure
//	503 no provider ran it (ErrNoProvider), or MaxInflight requests in flight
//	504 past the function's timeout (+ Margin)
//
// Responses carry X-Cloudless-Job, X-Cloudless-Provider and
// X-Cloudless-Price (wei). A Gateway is an http.Handler; Serve runs it on
// an address.
type Gateway struct {
	d    Dispatcher
	opts GatewayOptions
	log  *slog.Logger
	m    *gatewayMetrics
	// slots holds one token per request being answered.
	slots chan struct{}

	mu   sync.Mutex
	srv  *http.Server
	done chan struct{}
}

var _ http.Handler = (*Gateway)(nil)

// NewGateway returns a gateway over d.
func NewGateway(d Dispatcher, opts GatewayOptions) *Gateway {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxHeaderBytes <= 0 {
		opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if opts.MaxHeaders <= 0 {
		opts.MaxHeaders = DefaultMaxHeaders
	}
	if opts.Margin <= 0 {
		opts.Margin = DefaultMargin
	}
	if opts.MaxInflight <= 0 {
		opts.MaxInflight = DefaultMaxInflight
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Gateway{d: d, opts: opts, log: log.With("role", "gateway"), m: newGatewayMetrics(opts.Registerer),
		slots: make(chan struct{}, opts.MaxInflight)}
}

// Serve listens on addr ("127.0.0.1:8080"; port 0 picks one) and serves
// until ctx ends or Close; it returns the bound address once listening.
func (g *Gateway) Serve(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("gateway: listen on %s: %w", addr, err)
	}
	bound := ln.Addr().String()
	g.mu.Lock()
	if g.srv != nil {
		g.mu.Unlock()
		ln.Close()
		return "", errors.New("gateway: already serving")
	}
	if g.opts.ServerAddr == "" {
		g.opts.ServerAddr = bound
	}
	g.srv = &http.Server{
		Handler: g,
		// net/http answers 431 itself past this (plus its 4 KiB slack);
		// ServeHTTP applies the exact cap.
		MaxHeaderBytes:    g.opts.MaxHeaderBytes,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
	}
	g.done = make(chan struct{})
	srv, done := g.srv, g.done
	g.mu.Unlock()
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.log.Warn("gateway stopped", "err", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			g.Close()
		case <-done:
		}
	}()
	g.log.Info("gateway listening", "addr", bound)
	return bound, nil
}

// Close stops serving: it stops accepting, gives requests in flight up to
// 5 s to finish, then closes their connections. Safe to call twice.
func (g *Gateway) Close() error {
	g.mu.Lock()
	srv, done := g.srv, g.done
	g.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		err = srv.Close()
	}
	<-done
	return err
}

// fail answers with a status and a one-line reason.
func (g *Gateway) fail(w http.ResponseWriter, code int, format string, args ...any) {
	msg := oneLineText(fmt.Sprintf(format, args...))
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(msg)+1))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg+"\n")
}

// ServeHTTP answers one request (see Gateway).
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	g.m.inflight.Inc()
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	defer func() {
		g.m.inflight.Dec()
		g.m.done(rec.code, time.Since(start))
	}()
	select {
	case g.slots <- struct{}{}:
		defer func() { <-g.slots }()
	default:
		rec.Header().Set("Retry-After", "1")
		g.fail(rec, http.StatusServiceUnavailable, "gateway busy: %d requests in flight, try again", g.opts.MaxInflight)
		return
	}
	g.serve(rec, r)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	if len(r.RequestURI) > MaxURI || len(r.URL.RawQuery) > MaxURI {
		g.fail(w, http.StatusRequestURITooLong, "request URI is longer than %d bytes", MaxURI)
		return
	}
	if n, size, long := headerSize(r); n > g.opts.MaxHeaders || size > g.opts.MaxHeaderBytes {
		g.fail(w, http.StatusRequestHeaderFieldsTooLarge, "request headers too large: %d headers, %d bytes (limits %d headers, %d bytes)",
			n, size, g.opts.MaxHeaders, g.opts.MaxHeaderBytes)
		return
	} else if long != "" {
		g.fail(w, http.StatusRequestHeaderFieldsTooLarge, "request header %s is longer than %d bytes", long, maxHeaderField)
		return
	}
	fn, route, ok := g.d.Route(r.Method, r.URL.Path)
	if !ok {
		if allow := g.allowed(r.URL.Path); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			g.fail(w, http.StatusMethodNotAllowed, "method %s not allowed on %s: use %s", r.Method, r.URL.Path, strings.Join(allow, ", "))
			return
		}
		g.fail(w, http.StatusNotFound, "no function serves %s", r.URL.Path)
		return
	}
	if r.ContentLength > g.opts.MaxBody {
		g.fail(w, http.StatusRequestEntityTooLarge, "request body of %d bytes is over the limit of %d bytes", r.ContentLength, g.opts.MaxBody)
		return
	}
	if r.Body == nil {
		r.Body = http.NoBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.opts.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			g.fail(w, http.StatusRequestEntityTooLarge, "request body is over the limit of %d bytes", g.opts.MaxBody)
			return
		}
		g.fail(w, http.StatusBadRequest, "reading the request body: %v", err)
		return
	}
	timeout := fn.Resources.Timeout.D()
	if timeout <= 0 {
		timeout = DefaultFnTimeout.D()
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout+g.opts.Margin)
	defer cancel()
	inv := Invocation{Trigger: KindHTTP, Detail: r.Method + " " + r.URL.Path, Env: CGIEnv(r, route, g.opts.ServerAddr), Stdin: body,
		StdoutOnly: true}
	if r.ContentLength < 0 {
		inv.Env["CONTENT_LENGTH"] = strconv.Itoa(len(body))
	}

	// Invoke runs on this goroutine: no hand-off to another one and back.
	// A watchdog armed on ctx (context.AfterFunc starts no goroutine
	// before ctx ends) answers 504 itself when the deadline passes first,
	// so a dispatcher that does not honour ctx still cannot hold the
	// caller: the 504 goes out complete (Content-Length, flushed,
	// Connection: close) while Invoke is still running.
	wd := &watchdog{}
	stop := context.AfterFunc(ctx, func() { g.deadline(w, r, fn, timeout, wd) })
	out, err := g.d.Invoke(ctx, fn, inv)
	if !stop() && wd.finish() {
		return // the watchdog answered (or the caller left)
	}
	if err == nil && out == nil {
		err = errors.New("the dispatcher returned no output")
	}
	if err != nil {
		if r.Context().Err() != nil {
			if sr, ok := w.(*statusRecorder); ok {
				sr.code = 499 // the caller went away; nothing to answer (nginx's code, for the metrics)
			}
			return
		}
		code, msg := errStatus(fn, timeout, err)
		g.log.Debug("invocation failed", "function", fn.Name, "code", code, "err", err)
		if out != nil {
			g.setJobHeaders(w.Header(), out) // a failed invocation is a job too
		}
		g.fail(w, code, "%s", msg)
		return
	}
	g.setJobHeaders(w.Header(), out)
	status, header, respBody, err := ParseCGIResponse(out.Stdout)
	if err != nil {
		if out.ExitCode != 0 {
			g.fail(w, http.StatusBadGateway, "function %s exited with code %d without a valid response%s", fn.Name, out.ExitCode, stderrHint(out.Stderr))
			return
		}
		g.fail(w, http.StatusBadGateway, "function %s: %v", fn.Name, err)
		return
	}
	h := w.Header()
	for k, vs := range header {
		if hopByHop(k) {
			continue
		}
		h[k] = vs
	}
	if out.ExitCode != 0 {
		h.Set("X-Cloudless-Exit-Code", strconv.Itoa(int(out.ExitCode)))
	}
	h.Set("Content-Length", strconv.Itoa(len(respBody)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead && status != http.StatusNoContent && status != http.StatusNotModified {
		_, _ = w.Write(respBody)
	}
}

// watchdog decides who answers a request: the handler once Invoke
// returned, or Gateway.deadline when ctx ended first. Whoever comes second
// leaves the ResponseWriter alone, so it is never used by two goroutines.
type watchdog struct {
	mu       sync.Mutex
	done     bool // the handler has its result and answers
	answered bool // the watchdog answered (or the caller left)
}

// finish is called by the handler when the watchdog may have run: it
// reports whether the watchdog answered; if not, it keeps it from doing so.
func (wd *watchdog) finish() bool {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	wd.done = true
	return wd.answered
}

// deadline runs when the request's ctx ends before Invoke returned: it
// answers 504 (or nothing, when the caller left) unless the handler
// already has its result.
func (g *Gateway) deadline(w http.ResponseWriter, r *http.Request, fn *Function, timeout time.Duration, wd *watchdog) {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if wd.done {
		return
	}
	wd.answered = true
	if r.Context().Err() != nil {
		if sr, ok := w.(*statusRecorder); ok {
			sr.code = 499
		}
		return
	}
	g.log.Debug("invocation past its deadline; answering 504 while it winds down", "function", fn.Name)
	w.Header().Set("Connection", "close")
	code, msg := errStatus(fn, timeout, context.DeadlineExceeded)
	g.fail(w, code, "%s", msg)
	_ = http.NewResponseController(w).Flush()
}

func (g *Gateway) setJobHeaders(h http.Header, out *Output) {
	if out.JobID != "" {
		h.Set("X-Cloudless-Job", out.JobID)
	}
	if out.Provider != "" {
		h.Set("X-Cloudless-Provider", out.Provider)
	}
	h.Set("X-Cloudless-Price", wire.FormatWei(out.Price))
	if out.Price != nil && out.Price.Sign() > 0 {
		f, _ := out.Price.Float64()
		g.m.paid.Add(f)
	}
}

// allowed lists the methods a path would be routed for (for 405).
func (g *Gateway) allowed(path string) []string {
	var out []string
	for _, m := range httpMethods {
		if _, _, ok := g.d.Route(m, path); ok {
			out = append(out, m)
		}
	}
	return out
}

// errStatus maps an invocation error to a status and a one-line reason.
func errStatus(fn *Function, timeout time.Duration, err error) (int, string) {
	switch {
	case errors.Is(err, ErrDeadline), errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, fmt.Sprintf("function %s ran past its deadline of %s", fn.Name, timeout)
	case errors.Is(err, ErrOverBudget):
		return http.StatusPaymentRequired, oneLineText(err.Error())
	case errors.Is(err, ErrNoFunction):
		return http.StatusNotFound, oneLineText(err.Error())
	case errors.Is(err, ErrNoProvider):
		return http.StatusServiceUnavailable, oneLineText(err.Error())
	}
	return http.StatusBadGateway, oneLineText(err.Error())
}

func stderrHint(b []byte) string {
	s := oneLineText(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if s == "" {
		return ""
	}
	return " (stderr: " + s + ")"
}

// maxHeaderField caps one header (name and joined values): it becomes one
// CGI variable, and a job spec's variables are at most wire.MaxEnvLen.
const maxHeaderField = wire.MaxEnvLen - 16

// headerSize counts the request's header fields and their bytes as sent,
// and names a header too long to become a CGI variable.
func headerSize(r *http.Request) (n, size int, long string) {
	for k, vs := range r.Header {
		field := len(k) + 5
		for _, v := range vs {
			n++
			size += len(k) + len(v) + 4
			field += len(v) + 2
		}
		if field > maxHeaderField && long == "" {
			long = k
		}
	}
	return n, size, long
}

func hopByHop(k string) bool {
	switch http.CanonicalHeaderKey(k) {
	case "Connection", "Keep-Alive", "Transfer-Encoding", "Te", "Trailer", "Upgrade", "Content-Length",
		"X-Cloudless-Job", "X-Cloudless-Provider", "X-Cloudless-Price":
		return true
	}
	return false
}

// statusRecorder remembers the status code for the metrics.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (Flush).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
