package trigger

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/market/wire"
)

// localFn is a local function on route serving module.
func localFn(name, module, route string, timeout time.Duration, maxOut wire.Size, methods ...string) *Function {
	return &Function{Name: name, Module: module, Local: true, Deterministic: true,
		Resources: wire.Resources{Memory: 64 << 20, Timeout: wire.Duration(timeout), MaxOutput: maxOut},
		Triggers:  []Trigger{{Kind: KindHTTP, Route: route, Methods: methods}}}
}

type localEnv struct {
	url   string
	d     *testDispatcher
	gw    *Gateway
	store storeContent
	reg   *prometheus.Registry
}

// newLocalEnv serves a gateway on loopback over the local invoker with a
// real executor and store, with the test functions deployed.
func newLocalEnv(t testing.TB, opts GatewayOptions) *localEnv {
	t.Helper()
	store := openStore(t)
	ex, err := executor.New(executor.WithMaxConcurrent(4), executor.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close(context.Background()) })
	// Compile the fixtures first: the tests are about the gateway, and a
	// cold compile under -race on a loaded machine can take seconds.
	for _, name := range []string{"echo", "noblank", "badstatus", "bigheaders", "flood", "loop"} {
		b, err := os.ReadFile("testdata/" + name + ".wasm")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ex.Compile(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	echo := store.publish(t, "echo")
	const long = 30 * time.Second
	paid := localFn("paid", echo, "/paid", long, 1<<20)
	paid.MaxPrice, paid.DailyCap = big.NewInt(10), big.NewInt(20)
	d := newTestDispatcher(NewLocalInvoker(ex, store),
		localFn("echo", echo, "/echo", long, 1<<20),
		localFn("echo-deep", echo, "/echo/deep", long, 1<<20),
		localFn("post", echo, "/post", long, 1<<20, "POST", "PUT"),
		localFn("root", echo, "/", long, 1<<20),
		localFn("noblank", store.publish(t, "noblank"), "/noblank", long, 1<<20),
		localFn("badstatus", store.publish(t, "badstatus"), "/badstatus", long, 1<<20),
		localFn("bigheaders", store.publish(t, "bigheaders"), "/bigheaders", 10*time.Second, 16<<20),
		localFn("flood", store.publish(t, "flood"), "/flood", 10*time.Second, 1<<20),
		localFn("loop", store.publish(t, "loop"), "/loop", 300*time.Millisecond, 1<<20),
		paid,
	)
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	opts.Logger = quietLogger()
	gw := NewGateway(d, opts)
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := gw.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); gw.Close() })
	return &localEnv{url: "http://" + addr, d: d, gw: gw, store: store, reg: reg}
}

type reply struct {
	code   int
	header http.Header
	body   string
}

func do(t testing.TB, method, url string, body io.Reader, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, string(b)}
}

// tryDo is do for goroutines other than the test's: it returns the error.
func tryDo(method, url string, body io.Reader) (reply, error) {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return reply{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}, err
}

func TestGatewayLocal(t *testing.T) {
	env := newLocalEnv(t, GatewayOptions{MaxBody: 64 << 10, Margin: 500 * time.Millisecond})
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		code                     int
		want                     string // body prefix
	}{
		{"get", "GET", "/echo/a/b?x=1", "", nil, 200, "GET /a/b?x=1\n"},
		{"post body", "POST", "/echo", "hello body", map[string]string{"Content-Type": "text/plain"}, 200, "POST ?\nhello body"},
		{"longest prefix", "GET", "/echo/deep/x", "", nil, 200, "GET /x?\n"},
		{"root route", "GET", "/other/thing", "", nil, 200, "GET /other/thing?\n"},
		{"status", "GET", "/echo?status=418", "", nil, 418, "GET ?status=418\n"},
		{"exit code without response", "GET", "/echo?exit=3", "", nil, 502, "function echo exited with code 3 without a valid response"},
		{"method allowed", "PUT", "/post/x", "b", nil, 200, "PUT /x?\nb"},
		{"no blank line", "GET", "/noblank", "", nil, 502, "function noblank: bad CGI response: no blank line after the headers"},
		{"10 MB of headers", "GET", "/bigheaders", "", nil, 502, "function bigheaders: bad CGI response: header block is larger than 65536 bytes"},
		{"invalid status", "GET", "/badstatus", "", nil, 502, `function badstatus: bad CGI response: invalid Status "99x nope"`},
		{"infinite loop", "GET", "/loop", "", nil, 504, "function loop ran past its deadline of 300ms"},
		{"flood", "GET", "/flood", "", nil, 502, "function flood stopped by the sandbox: output limit of 1 MiB exceeded"},
		{"body over cap", "POST", "/echo", strings.Repeat("x", 64<<10+1), nil, 413, "request body of 65537 bytes is over the limit of 65536 bytes"},
		{"too many headers", "GET", "/echo", "", manyHeaders(50, 10), 431, "request headers too large: 5"},
		{"header bytes", "GET", "/echo", "", manyHeaders(6, 3000), 431, "request headers too large"},
		{"one long header", "GET", "/echo", "", manyHeaders(1, 4090), 431, "request header X-H0 is longer than 4080 bytes"},
		{"uri too long", "GET", "/echo?" + strings.Repeat("q", MaxURI), "", nil, 414, "request URI is longer than 2048 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			r := do(t, tc.method, env.url+tc.path, body, tc.header)
			if r.code != tc.code || !strings.HasPrefix(r.body, tc.want) {
				t.Fatalf("%s %s: %d %q, want %d %q", tc.method, tc.path, r.code, clip([]byte(r.body)), tc.code, tc.want)
			}
			if r.code >= 400 && strings.Count(r.body, "\n") != 1 && tc.name != "exit code without response" {
				t.Errorf("error body %q is not one line", r.body)
			}
			if (tc.name == "infinite loop" || tc.name == "flood") && len(r.header.Get("X-Cloudless-Job")) != 64 {
				t.Errorf("a stopped run is a job too: headers %v", r.header)
			}
			if r.code == 200 || r.code == 418 {
				if r.header.Get("X-Cloudless-Provider") != LocalProvider || len(r.header.Get("X-Cloudless-Job")) != 64 ||
					r.header.Get("X-Cloudless-Price") != "0 wei" || r.header.Get("X-Echo") != "1" || r.header.Get("Content-Type") != "text/plain" {
					t.Errorf("headers %v", r.header)
				}
			}
		})
	}

	// A body streamed without Content-Length over the cap is cut at the cap.
	t.Run("chunked body over cap", func(t *testing.T) {
		pr, pw := io.Pipe()
		go func() {
			_, _ = pw.Write(bytes.Repeat([]byte("y"), 64<<10+10))
			pw.Close()
		}()
		r := do(t, "POST", env.url+"/echo", pr, nil)
		if r.code != 413 {
			t.Errorf("chunked: %d %q", r.code, r.body)
		}
	})
	t.Run("no route", func(t *testing.T) {
		env.d.mu.Lock()
		env.d.fns = env.d.fns[:3] // drop the root route
		env.d.mu.Unlock()
		r := do(t, "GET", env.url+"/nothing", nil, nil)
		if r.code != 404 || r.body != "no function serves /nothing\n" {
			t.Errorf("%d %q", r.code, r.body)
		}
		r = do(t, "GET", env.url+"/post", nil, nil)
		if r.code != 405 || r.header.Get("Allow") != "PUT, POST" && r.header.Get("Allow") != "POST, PUT" || !strings.HasPrefix(r.body, "method GET not allowed on /post") {
			t.Errorf("405: %d %v %q", r.code, r.header, r.body)
		}
	})
	t.Run("head", func(t *testing.T) {
		r := do(t, "HEAD", env.url+"/echo", nil, nil)
		if r.code != 200 || r.body != "" {
			t.Errorf("HEAD: %d %q", r.code, r.body)
		}
	})
	var m dto.Metric
	if err := env.gw.m.requests.WithLabelValues("504").Write(&m); err != nil || m.GetCounter().GetValue() != 1 {
		got := m.GetCounter().GetValue()
		t.Errorf("504 counter %v", got)
	}
}

func manyHeaders(n, size int) map[string]string {
	h := map[string]string{}
	for i := range n {
		h[fmt.Sprintf("X-H%d", i)] = strings.Repeat("v", size)
	}
	return h
}

// TestGatewayBudget: the dispatcher's daily cap answers 402 with its reason.
func TestGatewayBudget(t *testing.T) {
	env := newLocalEnv(t, GatewayOptions{})
	for i, want := range []int{200, 200, 402} {
		r := do(t, "GET", env.url+"/paid", nil, nil)
		if r.code != want {
			t.Fatalf("request %d: %d %q, want %d", i, r.code, r.body, want)
		}
		if want == 402 && !strings.Contains(r.body, "over budget: function paid has spent 20 of its daily cap 20 today") {
			t.Errorf("402 body %q", r.body)
		}
	}
}

// hangDispatcher ignores ctx: the gateway must still answer at the deadline.
type hangDispatcher struct {
	fn      *Function
	release chan struct{}
}

func (h *hangDispatcher) Route(method, path string) (*Function, string, bool) { return h.fn, "/", true }
func (h *hangDispatcher) Invoke(ctx context.Context, fn *Function, inv Invocation) (*Output, error) {
	<-h.release
	return nil, context.Canceled
}

func TestGatewayNeverHangs(t *testing.T) {
	h := &hangDispatcher{fn: localFn("stuck", "x", "/", 100*time.Millisecond, 1<<20), release: make(chan struct{})}
	gw := NewGateway(h, GatewayOptions{Margin: 100 * time.Millisecond, Logger: quietLogger()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := gw.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	start := time.Now()
	r := do(t, "GET", "http://"+addr+"/x", nil, nil)
	// Answered while Invoke is still stuck: the watchdog's 504 is complete.
	if r.code != 504 || r.body != "function stuck ran past its deadline of 100ms\n" {
		t.Errorf("%d %q", r.code, r.body)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("answered after %v", took)
	}
	close(h.release) // Invoke returns late: the handler must not answer again
}

// TestGatewayBusy: past MaxInflight the caller gets 503 at once.
func TestGatewayBusy(t *testing.T) {
	h := &hangDispatcher{fn: localFn("stuck", "x", "/", 30*time.Second, 1<<20), release: make(chan struct{})}
	gw := NewGateway(h, GatewayOptions{MaxInflight: 1, Logger: quietLogger()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := gw.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	first := make(chan reply, 1)
	go func() {
		r, _ := tryDo("GET", "http://"+addr+"/a", nil)
		first <- r
	}()
	// Wait (polling a real server, with a deadline) until the first holds the slot.
	deadline := time.Now().Add(10 * time.Second)
	for len(gw.slots) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("first request never arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}
	r := do(t, "GET", "http://"+addr+"/b", nil, nil)
	if r.code != 503 || r.header.Get("Retry-After") != "1" || r.body != "gateway busy: 1 requests in flight, try again\n" {
		t.Errorf("second: %d %v %q", r.code, r.header, r.body)
	}
	close(h.release)
	if r := <-first; r.code != 502 {
		t.Errorf("first: %d %q", r.code, r.body)
	}
}

// errDispatcher returns a fixed error, for the status mapping.
type errDispatcher struct {
	fn  *Function
	err error
}

func (e *errDispatcher) Route(method, path string) (*Function, string, bool) { return e.fn, "/", true }
func (e *errDispatcher) Invoke(ctx context.Context, fn *Function, inv Invocation) (*Output, error) {
	return nil, e.err
}

func TestGatewayErrorStatus(t *testing.T) {
	fn := localFn("f", "x", "/", time.Second, 1<<20)
	tests := []struct {
		err  error
		code int
		want string
	}{
		{fmt.Errorf("%w: function f has spent it all", ErrOverBudget), 402, "over budget: function f has spent it all"},
		{fmt.Errorf("function f: %w: nobody bid\nsecond line", ErrNoProvider), 503, "function f: no provider ran it: nobody bid"},
		{fmt.Errorf("function f %w of 1s", ErrDeadline), 504, "function f ran past its deadline of 1s"},
		{context.DeadlineExceeded, 504, "function f ran past its deadline of 1s"},
		{fmt.Errorf("function f %w: memory limit of 64 MiB exceeded", ErrStopped), 502, "function f stopped by the sandbox: memory limit"},
		{fmt.Errorf("%w: f", ErrNoFunction), 404, "no such function: f"},
		{fmt.Errorf("chain unreachable"), 502, "chain unreachable"},
	}
	for _, tc := range tests {
		gw := NewGateway(&errDispatcher{fn: fn, err: tc.err}, GatewayOptions{Logger: quietLogger()})
		rec := newRecorder()
		gw.ServeHTTP(rec, mustRequest(t, "GET", "/x"))
		if rec.code != tc.code || !strings.HasPrefix(rec.buf.String(), tc.want) || strings.Count(rec.buf.String(), "\n") != 1 {
			t.Errorf("%v: %d %q, want %d %q", tc.err, rec.code, rec.buf.String(), tc.code, tc.want)
		}
	}
}

type recorder struct {
	h    http.Header
	code int
	buf  bytes.Buffer
}

func newRecorder() *recorder                    { return &recorder{h: http.Header{}, code: 200} }
func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) WriteHeader(c int)           { r.code = c }
func (r *recorder) Write(b []byte) (int, error) { return r.buf.Write(b) }

func mustRequest(t testing.TB, method, path string) *http.Request {
	req, err := http.NewRequest(method, "http://gw.test"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.RequestURI = path
	return req
}

// TestGatewayConcurrent: many clients at once each get their own answer
// (run under -race in make test).
func TestGatewayConcurrent(t *testing.T) {
	env := newLocalEnv(t, GatewayOptions{})
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := []string{"/echo/c", "/noblank", "/echo/deep/c"}[i%3]
			body := fmt.Sprintf("request %d", i)
			req, _ := http.NewRequest("POST", fmt.Sprintf("%s%s?i=%d", env.url, path, i), strings.NewReader(body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch path {
			case "/noblank":
				if resp.StatusCode != 502 {
					errs <- fmt.Errorf("%s: %d %q", path, resp.StatusCode, b)
				}
			default:
				want := fmt.Sprintf("POST /c?i=%d\n%s", i, body)
				if resp.StatusCode != 200 || string(b) != want {
					errs <- fmt.Errorf("%s: %d %q, want %q", path, resp.StatusCode, b, want)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
