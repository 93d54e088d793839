package node

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/storage"
	"github.com/cloudless-network/cloudless/trigger"
)

// TestAPIFunctions covers /v1/functions and /v1/topics over the real
// trigger Service, with local functions on the real executor.
func TestAPIFunctions(t *testing.T) {
	ctx := context.Background()
	st, err := storage.Open(ctx, t.TempDir(), &storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ex, err := executor.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close(ctx) })
	content := triggerContent{st}
	led, err := ledger.Open(filepath.Join(t.TempDir(), ledger.FileName), &ledger.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	const self = "12D3KooWHHzSeKaY8xuZVzkLbKFfvNgPPeKhFBGrMbNzbm5akpqu"
	svc, err := trigger.NewService(trigger.ServiceOptions{Dir: t.TempDir(), Local: trigger.NewLocalInvoker(ex, content), Files: content,
		Jobs: led, Self: self})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	c := newTestAPI(t, Services{Functions: &functionService{s: svc, gateway: "http://127.0.0.1:1"}, Jobs: ledgerJobs{led}}, APIOptions{})

	l, err := c.Functions(ctx)
	if err != nil || len(l.Functions) != 0 || l.Gateway != "http://127.0.0.1:1" {
		t.Fatalf("empty list: %+v %v", l, err)
	}
	// The gateway tests' CGI echo function.
	wasm, err := os.ReadFile(filepath.Join("..", "trigger", "testdata", "echo.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := content.AddBytes(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	fn := trigger.Function{Name: "hi", Module: mod, Source: mod, Local: true,
		Resources: trigger.Function{}.Resources, Triggers: []trigger.Trigger{{Kind: trigger.KindHTTP, Route: "/hi"}}}
	fn.Resources.Memory, fn.Resources.Timeout, fn.Resources.MaxOutput = trigger.DefaultFnMemory, trigger.DefaultFnTimeout, trigger.DefaultFnMaxOutput

	// Refusals: 400 with the reason, nothing registered.
	bad := fn
	bad.Module = "/home/me/hi.wasm"
	for _, tc := range []struct {
		body any
		want string
	}{
		{[]trigger.Function{bad}, "is not a CID"},
		{map[string]any{"name": "x"}, "not a JSON list of functions"},
		{[]map[string]any{{"name": "x", "colour": "blue"}}, `unknown field "colour"`},
		{[]trigger.Function{}, "nothing to deploy"},
	} {
		_, err := c.Deploy(ctx, tc.body)
		if apiStatus(t, err) != http.StatusBadRequest || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("deploy %v: %v, want 400 %q", tc.body, err, tc.want)
		}
	}
	if l, _ := c.Functions(ctx); len(l.Functions) != 0 {
		t.Fatalf("registered after refusals: %+v", l)
	}

	l, err = c.Deploy(ctx, []trigger.Function{fn})
	if err != nil || len(l.Functions) != 1 {
		t.Fatalf("deploy: %+v %v", l, err)
	}
	got := l.Functions[0]
	if got.Name != "hi" || got.Module != mod || !got.Local || got.SpentToday != "0" || len(got.Triggers) != 1 ||
		got.Triggers[0].Route != "/hi" || got.Memory != int64(trigger.DefaultFnMemory) || got.TimeoutMS != 10000 {
		t.Fatalf("deployed %+v", got)
	}

	// An invocation (as the gateway makes it) shows in the logs.
	d, _, ok := svc.Route("GET", "/hi")
	if !ok {
		t.Fatal("no route")
	}
	out, err := svc.Invoke(ctx, d, trigger.Invocation{Trigger: trigger.KindHTTP, Detail: "GET /hi", Env: map[string]string{"REQUEST_METHOD": "GET", "PATH_INFO": "/"}})
	if err != nil || !bytes.HasSuffix(out.Stdout, []byte("GET /?\n")) {
		t.Fatalf("invoke: %v %+v", err, out)
	}
	logs, err := c.FunctionLogs(ctx, "hi", 5)
	if err != nil || len(logs) != 1 || logs[0].JobID != out.JobID || logs[0].Provider != trigger.LocalProvider || logs[0].Price != "0" || logs[0].Detail != "GET /hi" {
		t.Fatalf("logs %+v %v", logs, err)
	}
	if l, _ := c.Functions(ctx); l.Functions[0].Invocations != 1 || l.Functions[0].Last == nil {
		t.Fatalf("list after a run %+v", l.Functions[0])
	}
	// ... and in the job list, as a job of price 0 run by this node
	// (`cloudless job list`; the logs call above flushed the writer).
	jobs, err := c.Jobs(ctx)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("jobs %+v %v", jobs, err)
	}
	if j := jobs[0]; j.ID != out.JobID || j.Role != "client" || j.State != "accepted" || j.Pay != ledger.PayLocal || j.Price != "0" ||
		j.Provider != self || j.Module != mod {
		t.Fatalf("job %+v", j)
	}
	if j, err := c.Job(ctx, out.JobID); err != nil || j.ID != out.JobID {
		t.Fatalf("job %s: %+v %v", out.JobID, j, err)
	}
	if err := c.Do(ctx, "GET", "/v1/functions/hi/logs?n=-1", nil, nil); apiStatus(t, err) != http.StatusBadRequest {
		t.Fatalf("n=-1: %v", err)
	}

	// Unknown functions: 404.
	if _, err := c.FunctionLogs(ctx, "nope", 0); apiStatus(t, err) != http.StatusNotFound {
		t.Fatalf("logs of unknown: %v", err)
	}
	if err := c.RemoveFunction(ctx, "nope"); apiStatus(t, err) != http.StatusNotFound {
		t.Fatalf("rm unknown: %v", err)
	}

	// Emit: a bad name is 400, a body over 64 KiB 413.
	if err := c.Emit(ctx, "Bad!", strings.NewReader("x")); apiStatus(t, err) != http.StatusBadRequest {
		t.Fatalf("emit bad name: %v", err)
	}
	if err := c.Emit(ctx, "ok", bytes.NewReader(make([]byte, trigger.MaxTopicMessage+1))); apiStatus(t, err) != http.StatusRequestEntityTooLarge {
		t.Fatalf("emit too large: %v", err)
	}

	if err := c.RemoveFunction(ctx, "hi"); err != nil {
		t.Fatal(err)
	}
	if l, _ := c.Functions(ctx); len(l.Functions) != 0 {
		t.Fatalf("after rm: %+v", l)
	}

	// Without the service: 503 naming the part.
	c = newTestAPI(t, Services{}, APIOptions{})
	if _, err := c.Functions(ctx); apiStatus(t, err) != http.StatusServiceUnavailable || !strings.Contains(err.Error(), "functions") {
		t.Fatalf("no service: %v", err)
	}
}

func TestConfigGateway(t *testing.T) {
	cfg := DefaultConfig(true)
	if err := cfg.Validate(); err != nil || cfg.Gateway != "" {
		t.Fatalf("default: gateway %q, %v (want off)", cfg.Gateway, err)
	}
	cfg.Gateway = "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.Gateway = "8080"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "want HOST:PORT") {
		t.Fatalf("gateway 8080: %v", err)
	}
}
