package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cloudless-network/cloudless/market/wire"
	"github.com/cloudless-network/cloudless/trigger"
)

// demoCall is one HTTP call of a deployed function through the gateway.
type demoCall struct {
	Function string `json:"function"`
	Local    bool   `json:"local"`
	Curl     string `json:"curl"` // the equivalent command line
	Status   int    `json:"status"`
	Body     string `json:"body"` // the response body, clipped
	Job      string `json:"job"`
	Provider string `json:"provider"`
	PaidWei  string `json:"paid_wei"`
	TimeMS   int64  `json:"time_ms"` // the first call: fetch and compile included
	WarmUS   int64  `json:"warm_us"` // the same call again, warm
	WarmPaid string `json:"warm_paid_wei"`
	OK       bool   `json:"ok"`
	Problem  string `json:"problem,omitempty"`
}

// demoFnTimeout is the least timeout the demo gives a function.
const demoFnTimeout = wire.Duration(30 * time.Second)

// demoMarkdown is what the demo POSTs to an HTTP function.
const demoMarkdown = "# Hello from *cloudless*\n\nThis page was rendered by a **function** on the market."

// functions deploys the demo manifest to the client daemon (which serves
// the gateway), calls each function's first HTTP route with a real HTTP
// client, and checks the answer, the job and the price. Problems are
// failures of the demo, not aborts: the money checks still run.
func (d *demo) functions(ctx context.Context) {
	path := d.opts.manifest
	if path == "" {
		return
	}
	if _, err := os.Stat(path); err != nil {
		d.say("functions    skipped: no manifest at %s (--manifest FILE)", path)
		return
	}
	t0 := time.Now()
	fns, err := trigger.ParseManifest(path)
	if err != nil {
		d.fail("deploy: %v", err)
		return
	}
	// A fresh provider compiles the module on its first call (seconds for a
	// Go module on a busy machine): the demo allows 30 s per call.
	for i := range fns {
		fns[i].Resources.Timeout = max(fns[i].Resources.Timeout, demoFnTimeout)
	}
	cl := d.client().c
	if err := publishModules(ctx, cl, fns); err != nil {
		d.fail("deploy: %v", err)
		return
	}
	l, err := cl.Deploy(ctx, fns)
	if err != nil {
		d.fail("deploy %s: %v", path, err)
		return
	}
	if l.Gateway == "" {
		d.fail("deploy: the client daemon serves no gateway")
		return
	}
	d.say("deployed     %d function(s) from %s in %s; gateway %s", len(l.Functions), path, time.Since(t0).Round(10*time.Millisecond), l.Gateway)
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{Proxy: nil}}
	for _, fn := range fns {
		i := slices.IndexFunc(fn.Triggers, func(tr trigger.Trigger) bool { return tr.Kind == trigger.KindHTTP })
		if i < 0 {
			continue
		}
		call := d.callFunction(ctx, hc, l.Gateway, &fn, fn.Triggers[i])
		d.rep.Functions = append(d.rep.Functions, call)
		where, cold := "on "+d.name(call.Provider), "fetch + compile"
		if call.Local {
			where, cold = "on the daemon's own executor", "compile"
		}
		d.say("  $ %s", call.Curl)
		d.say("  %d %s", call.Status, call.Body)
		d.say("  job %s %s, paid %s; first call %s (%s), again %s", call.Job, where, fmtWei(call.PaidWei),
			(time.Duration(call.TimeMS) * time.Millisecond).Round(time.Millisecond), cold, (time.Duration(call.WarmUS) * time.Microsecond).Round(100*time.Microsecond))
		if !call.OK {
			d.fail("function %s: %s", call.Function, call.Problem)
		}
	}
}

func (d *demo) callFunction(ctx context.Context, hc *http.Client, gateway string, fn *trigger.Function, tr trigger.Trigger) demoCall {
	call := demoCall{Function: fn.Name, Local: fn.Local, PaidWei: "0"}
	url := gateway + tr.Route
	method, body := http.MethodPost, demoMarkdown
	if len(tr.Methods) > 0 && !slices.Contains(tr.Methods, http.MethodPost) {
		method, body = http.MethodGet, ""
	}
	if method == http.MethodPost {
		call.Curl = fmt.Sprintf("curl --data-binary '%s' %s", strings.ReplaceAll(body, "\n", `\n`), url)
	} else {
		call.Curl = "curl " + url
	}
	do := func() (*http.Response, []byte, time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
		if err != nil {
			return nil, nil, 0, err
		}
		t0 := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			return nil, nil, 0, err
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return resp, b, time.Since(t0), nil
	}
	resp, b, took, err := do()
	if err != nil {
		call.Problem = err.Error()
		return call
	}
	call.TimeMS = took.Milliseconds()
	// Again, warm: the module is compiled where it runs, the channel open.
	again, _, warm, err := do()
	if err != nil {
		call.Problem = "second call: " + err.Error()
		return call
	}
	if again.StatusCode != resp.StatusCode {
		call.Problem = fmt.Sprintf("second call: status %d, the first gave %d", again.StatusCode, resp.StatusCode)
		return call
	}
	call.WarmUS = warm.Microseconds()
	call.WarmPaid = "0"
	if p, err := wire.ParseWei(again.Header.Get("X-Cloudless-Price")); err == nil {
		call.WarmPaid = p.String()
	}
	call.Status = resp.StatusCode
	call.Body = strings.Join(strings.Fields(string(b)), " ")
	if len(call.Body) > 120 {
		call.Body = call.Body[:117] + "..."
	}
	call.Job = resp.Header.Get("X-Cloudless-Job")
	call.Provider = resp.Header.Get("X-Cloudless-Provider")
	if p, err := wire.ParseWei(resp.Header.Get("X-Cloudless-Price")); err == nil {
		call.PaidWei = p.String()
	}
	switch {
	case resp.StatusCode != http.StatusOK:
		call.Problem = fmt.Sprintf("status %d: %s", resp.StatusCode, call.Body)
	case call.Job == "":
		call.Problem = "no X-Cloudless-Job header"
	case fn.Local && call.PaidWei != "0":
		call.Problem = "a local function was paid for"
	case !fn.Local && (call.PaidWei == "0" || d.byPeer[call.Provider] == ""):
		call.Problem = fmt.Sprintf("market call paid %s wei to %q, want a price paid to a demo provider", call.PaidWei, call.Provider)
	case !fn.Local:
		// Every market invocation is a job in the client's ledger.
		if j, err := d.client().c.Job(ctx, call.Job); err != nil {
			call.Problem = fmt.Sprintf("job %s not in `cloudless job list`: %v", call.Job, err)
		} else if bigOf(j.Price).String() != call.PaidWei {
			call.Problem = fmt.Sprintf("job %s says price %s, the gateway said %s", call.Job, j.Price, call.PaidWei)
		}
	}
	call.OK = call.Problem == ""
	return call
}
