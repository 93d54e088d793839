package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/cloudless-network/cloudless/node/client"
	"github.com/cloudless-network/cloudless/storage"
	"github.com/cloudless-network/cloudless/trigger"
)

// startFunctions starts the serverless part: the trigger Service over the
// node's executor (local functions), market client (the others, paid per
// use), IPFS store (watch triggers) and gossipsub (topic triggers), with
// its registry in the repo (trigger.DBFile); and the HTTP gateway when
// the config sets gateway: HOST:PORT. A part that is not running only
// makes the functions that need it refused at deploy.
func (n *Node) startFunctions(ctx context.Context) error {
	log := n.log.With("part", "trigger")
	opts := trigger.ServiceOptions{Dir: n.repo, Logger: log, Registerer: n.reg}
	if n.store != nil {
		content := triggerContent{n.store}
		opts.Files = content
		if n.exec != nil {
			opts.Local = trigger.NewLocalInvoker(n.exec, content)
		}
		if ms, ok := n.svc.Jobs.(*marketService); ok && ms.c != nil {
			opts.Market = trigger.NewMarketInvoker(ms.c, content, trigger.WithMarketLogger(log))
		}
	}
	if n.p2p != nil {
		opts.Bus = trigger.NewP2PBus(n.p2p)
		opts.Self = n.p2p.Host().ID().String()
	}
	if n.ledger != nil {
		opts.Jobs = n.ledger // local invocations are jobs too (`cloudless job list`)
	}
	svc, err := trigger.NewService(opts)
	if err != nil {
		return fmt.Errorf("functions: %w", err)
	}
	n.onClose("functions", func(context.Context) error { return svc.Close() })
	fs := &functionService{s: svc}
	note := "no gateway (start with --gateway HOST:PORT)"
	if n.cfg.Gateway != "" {
		gw := trigger.NewGateway(svc, trigger.GatewayOptions{Logger: log, Registerer: n.reg})
		addr, err := gw.Serve(context.WithoutCancel(ctx), n.cfg.Gateway)
		if err != nil {
			return fmt.Errorf("functions: %w", err)
		}
		n.onClose("gateway", func(context.Context) error { return gw.Close() })
		fs.gateway = "http://" + addr
		note = "gateway " + fs.gateway
	}
	if opts.Market == nil {
		note += "; local functions only: no market"
	}
	n.svc.Functions = fs
	n.setPart("functions", true, note)
	return nil
}

// triggerContent adapts the IPFS store to what the trigger invokers and
// watch triggers need.
type triggerContent struct{ st *storage.Store }

func (s triggerContent) Cat(ctx context.Context, c string, maxSize int64) ([]byte, error) {
	id, err := cid.Decode(c)
	if err != nil {
		return nil, fmt.Errorf("bad CID %q: %w", c, err)
	}
	return s.st.ReadFile(ctx, id, maxSize)
}

func (s triggerContent) Fetch(ctx context.Context, c string, dst string) error {
	id, err := cid.Decode(c)
	if err != nil {
		return fmt.Errorf("bad CID %q: %w", c, err)
	}
	return s.st.Get(ctx, id, dst, 0, nil)
}

func (s triggerContent) AddBytes(ctx context.Context, b []byte) (string, error) {
	id, err := s.st.AddBytes(ctx, b)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

func (s triggerContent) AddPath(ctx context.Context, path string) (string, error) {
	id, err := s.st.AddPath(ctx, path)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// functionService answers the /v1/functions endpoints from the Service.
type functionService struct {
	s       *trigger.Service
	gateway string
}

var _ FunctionService = (*functionService)(nil)

func (f *functionService) list(only map[string]bool) client.FunctionList {
	l := client.FunctionList{Gateway: f.gateway, Functions: []client.Function{}}
	for _, st := range f.s.Statuses() {
		if only == nil || only[st.Name] {
			l.Functions = append(l.Functions, functionView(st))
		}
	}
	return l
}

func (f *functionService) Functions(context.Context) (client.FunctionList, error) {
	return f.list(nil), nil
}

func (f *functionService) Deploy(ctx context.Context, body json.RawMessage) (client.FunctionList, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var fns []trigger.Function
	if err := dec.Decode(&fns); err != nil {
		return client.FunctionList{}, fmt.Errorf("%w: the body is not a JSON list of functions: %v", ErrBadRequest, err)
	}
	if err := f.s.Deploy(ctx, fns); err != nil {
		return client.FunctionList{}, triggerErr(err)
	}
	only := map[string]bool{}
	for _, fn := range fns {
		only[fn.Name] = true
	}
	return f.list(only), nil
}

func (f *functionService) RemoveFunction(_ context.Context, name string) error {
	return triggerErr(f.s.Remove(name))
}

func (f *functionService) FunctionLogs(_ context.Context, name string, n int) ([]client.Invocation, error) {
	recs, err := f.s.Logs(name, n)
	if err != nil {
		return nil, triggerErr(err)
	}
	out := make([]client.Invocation, len(recs))
	for i, r := range recs {
		out[i] = invocationView(r)
	}
	return out, nil
}

func (f *functionService) Emit(ctx context.Context, topic string, data []byte) error {
	return triggerErr(f.s.Emit(ctx, topic, data))
}

// triggerErr maps the trigger package's errors to the API's statuses.
func triggerErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, trigger.ErrBadFunction), errors.Is(err, trigger.ErrBadManifest):
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	case errors.Is(err, trigger.ErrNoFunction):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

func weiString(v *big.Int) string {
	if v == nil {
		return ""
	}
	return v.String()
}

func functionView(st trigger.Status) client.Function {
	f := client.Function{
		Name: st.Name, Module: st.Module, Source: st.Source, Local: st.Local,
		MaxPrice: weiString(st.MaxPrice), DailyCap: weiString(st.DailyCap), SpentToday: weiString(st.SpentToday),
		Memory: int64(st.Resources.Memory), TimeoutMS: time.Duration(st.Resources.Timeout).Milliseconds(),
		Deployed: st.Deployed, Invocations: st.Invocations, Errors: st.Errors, Triggers: []client.FunctionTrigger{},
	}
	if f.SpentToday == "" {
		f.SpentToday = "0"
	}
	for _, tr := range st.Triggers {
		f.Triggers = append(f.Triggers, client.FunctionTrigger{
			Kind: tr.Kind, Route: tr.Route, Methods: tr.Methods, Schedule: tr.Schedule, Dir: tr.Dir, Topic: tr.Topic,
		})
	}
	if st.Last != nil {
		v := invocationView(*st.Last)
		f.Last = &v
	}
	return f
}

func invocationView(r trigger.Record) client.Invocation {
	p := weiString(r.Price)
	if p == "" {
		p = "0"
	}
	return client.Invocation{
		Time: r.Time, Trigger: r.Trigger, Detail: r.Detail, JobID: r.JobID, Provider: r.Provider,
		ExitCode: r.ExitCode, DurationMS: float64(r.Duration.Microseconds()) / 1000, Price: p,
		OutputCID: r.OutputCID, Error: r.Error,
	}
}
