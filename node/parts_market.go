package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/ledger/chainview"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
	"github.com/cloudless-network/cloudless/node/client"
	"github.com/cloudless-network/cloudless/storage"
)

// maxPriceTiers bounds the memory tiers an offer lists.
const maxPriceTiers = 32

// startMarket starts the market client (always, when there is a chain) and
// the provider (with provide.enabled). Without a chain there is nothing to
// pay with, so there is no market: the node says so and runs on.
func (n *Node) startMarket(ctx context.Context) error {
	if n.chain == nil {
		n.setPart("market", false, "needs a chain")
		if n.cfg.Provide.Enabled {
			n.log.Warn("--provide needs a settlement chain; not selling capacity")
		}
		return nil
	}
	if n.ledger == nil {
		n.setPart("market", false, "needs the ledger")
		return nil
	}
	log := n.log.With("part", "market")
	// A repo from before the market wrote to the ledger: fold its
	// market.db in once (it is renamed market.db.migrated).
	if k, err := market.MigrateJournal(ctx, filepath.Join(n.repo, market.JournalFile), n.ledger); err != nil {
		return err
	} else if k > 0 {
		log.Info("moved the market's old journal into the ledger", "records", k, "file", market.JournalFile+".migrated")
	}
	// Bring the ledger's deals and channels in line with the chain (what
	// moved while the node was down), beside the market's own recovery.
	reconciled := make(chan struct{})
	go func() {
		defer close(reconciled)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		corr, err := n.ledger.Reconcile(rctx, chainview.New(n.chain.c, 0))
		for _, c := range corr {
			log.Info("ledger reconciled with the chain", "kind", c.Kind, "id", c.ID, "from", c.From, "to", c.To, "anomaly", c.Anomaly, "note", c.Note)
		}
		if err != nil {
			log.Warn("ledger reconciliation", "err", err)
		}
	}()
	n.onClose("ledger reconciliation", func(context.Context) error { <-reconciled; return nil })
	hn := market.NewHostNetwork(n.p2p.Host(), n.p2p.PubSub(), log)
	n.onClose("market network", func(context.Context) error { return hn.Close() })
	seal := func(m wire.Message) ([]byte, error) { return wire.Seal(n.id.PrivKey, m) }
	content := storageContent{n.store}
	metrics := market.NewMetrics(n.reg)
	book := market.NewBook(nil)

	ccfg := market.ClientConfig{
		ResultMargin:    n.cfg.Market.ResultMargin.Std(),
		ChallengeWindow: n.cfg.Market.ChallengeWindow.Std(),
	}
	if err := clientMediator(&ccfg, n.cfg.Market); err != nil {
		return err
	}
	cl, err := market.NewClient(market.ClientDeps{
		Net: hn, Seal: seal, Content: content, Settle: n.chain.c, Ledger: n.ledger,
		Book: book, Logger: log, Metrics: metrics,
	}, ccfg)
	if err != nil {
		return fmt.Errorf("market client: %w", err)
	}
	var pr *market.Provider
	if n.cfg.Provide.Enabled {
		pc := market.ProviderConfig{
			Price:       priceSchedule(n.cfg.Provide),
			MaxMemory:   wire.Size(n.cfg.Provide.Memory),
			MaxDuration: wire.Duration(n.cfg.Provide.MaxJobDuration),
			Addrs:       n.p2p.Addrs(),
		}
		if a := n.cfg.Provide.PayoutAddress; a != "" {
			pc.Payout = n.chain.addr(a)
		}
		if err := providerMediators(&pc, n.cfg.Market); err != nil {
			cl.Close()
			return err
		}
		if pr, err = market.NewProvider(market.ProviderDeps{
			Net: hn, Seal: seal, Content: content, Runner: n.exec, Settle: n.chain.c,
			Ledger: n.ledger, Book: book, Logger: log, Metrics: metrics,
		}, pc); err != nil {
			cl.Close()
			return fmt.Errorf("market provider: %w", err)
		}
	}

	var med *market.MediatorService
	if n.cfg.Market.Mediate {
		if med, err = market.NewMediatorService(market.MediatorDeps{
			Net: hn, Seal: seal, Content: content, Runner: n.exec, Settle: n.chain.c, Ledger: n.ledger, Logger: log,
		}, market.MediatorConfig{WorkDir: filepath.Join(n.repo, "mediate")}); err != nil {
			cl.Close()
			if pr != nil {
				pr.Close()
			}
			return fmt.Errorf("market mediator: %w", err)
		}
		n.onClose("mediator", func(context.Context) error { return med.Close() })
		log.Info("mediating disputed deals that name this node", "address", med.Address().Hex())
	}

	// The market runs on the node's own context, not the caller's: Close
	// stops it.
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	run := func(name string, fn func(context.Context) error) {
		wg.Go(func() {
			if err := fn(rctx); err != nil {
				n.log.Error("market stopped", "role", name, "err", err)
			}
		})
	}
	run("client", cl.Run)
	if pr != nil {
		run("provider", pr.Run)
	}
	n.onClose("market", func(context.Context) error {
		cancel()
		if pr != nil {
			pr.Close()
		}
		cl.Close()
		wg.Wait()
		return nil
	})
	ms := &marketService{c: cl, p: pr}
	n.svc.Jobs = ms
	n.svc.Offers = ms
	n.setPart("jobs", true, "")
	n.setPart("market", true, "")
	if pr != nil {
		n.setPart("provider", true, "")
		n.log.Info("selling capacity", "price_per_job", n.cfg.Provide.PricePerJob.String(), "price_per_second", n.cfg.Provide.PricePerSecond.String(),
			"memory_tier", n.cfg.Provide.MemoryTier.String(), "slots", n.cfg.Provide.MaxConcurrent)
	} else {
		n.setPart("provider", false, "not providing (start with --provide)")
	}
	return nil
}

// priceSchedule turns the config's price per second per memory tier into
// the offer's tier list: k tiers of k×memory_tier at k×price, up to the
// memory sold (at most maxPriceTiers, spread evenly).
func priceSchedule(p ProvideConfig) wire.PriceSchedule {
	s := wire.PriceSchedule{PerJob: new(big.Int).Set(&p.PricePerJob.Int)}
	tiers := int64(p.Memory) / int64(p.MemoryTier)
	if int64(p.Memory)%int64(p.MemoryTier) != 0 {
		tiers++
	}
	tiers = max(tiers, 1)
	step := (tiers + maxPriceTiers - 1) / maxPriceTiers
	for k := step; ; k += step {
		k = min(k, tiers)
		s.Tiers = append(s.Tiers, wire.TierPrice{
			MaxMemory: wire.Size(k * int64(p.MemoryTier)),
			PerSecond: new(big.Int).Mul(&p.PricePerSecond.Int, big.NewInt(k)),
		})
		if k == tiers {
			break
		}
	}
	return s
}

// storageContent adapts the IPFS store to market.Content.
type storageContent struct{ st *storage.Store }

var _ market.Content = storageContent{}

func (s storageContent) Cat(ctx context.Context, c string, maxSize int64) ([]byte, error) {
	id, err := cid.Decode(c)
	if err != nil {
		return nil, fmt.Errorf("bad CID %q: %w", c, err)
	}
	return s.st.ReadFile(ctx, id, maxSize)
}

func (s storageContent) Fetch(ctx context.Context, c string, dst string) error {
	id, err := cid.Decode(c)
	if err != nil {
		return fmt.Errorf("bad CID %q: %w", c, err)
	}
	return s.st.Get(ctx, id, dst, 0, nil)
}

func (s storageContent) AddDir(ctx context.Context, dir string) (string, error) {
	id, err := s.st.AddPath(ctx, dir, storage.WithHidden(true))
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

var _ market.FilesAdder = storageContent{}

// AddFiles imports a job's output held in memory with no file written
// (storage.Store.AddFiles); the CID is the one AddDir gives the same tree.
func (s storageContent) AddFiles(ctx context.Context, fs []market.MemFile) (string, error) {
	sf := make([]storage.MemFile, len(fs))
	for i, f := range fs {
		sf[i] = storage.MemFile{Path: f.Path, Data: f.Data, Dir: f.Dir}
	}
	id, err := s.st.AddFiles(ctx, sf)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// marketService answers /v1/jobs and /v1/offers from the market.
type marketService struct {
	c *market.Client
	p *market.Provider // nil when not providing
}

func (m *marketService) Offers(context.Context) ([]client.Offer, error) {
	out := []client.Offer{}
	for _, o := range m.c.Offers() {
		co := client.Offer{
			Provider: o.Provider.String(), Payout: o.Payout.Hex(), FreeMemory: int64(o.Memory),
			FreeSlots: int(o.Slots), MaxDurationMS: o.MaxDuration.D().Milliseconds(), Runtime: o.Runtime,
			Expires: o.Expiry.Time().UTC(),
		}
		if o.Price.PerJob != nil {
			co.PricePerJob = o.Price.PerJob.String()
		}
		if len(o.Price.Tiers) > 0 && o.Price.Tiers[0].PerSecond != nil {
			co.PricePerSecond = o.Price.Tiers[0].PerSecond.String()
			co.MemoryTier = int64(o.Price.Tiers[0].MaxMemory)
		}
		if o.Stake != nil {
			co.Stake = o.Stake.String()
		}
		out = append(out, co)
	}
	slices.SortFunc(out, func(a, b client.Offer) int { return strings.Compare(a.Provider, b.Provider) })
	return out, nil
}

func (m *marketService) Jobs(context.Context) ([]client.Job, error) {
	cj, err := m.c.Jobs()
	if err != nil {
		return nil, err
	}
	out := make([]client.Job, 0, len(cj))
	for _, j := range cj {
		out = append(out, clientJobView(j))
	}
	if m.p != nil {
		pj, err := m.p.Jobs()
		if err != nil {
			return nil, err
		}
		for _, j := range pj {
			out = append(out, providerJobView(j))
		}
	}
	slices.SortStableFunc(out, func(a, b client.Job) int { return b.Created.Compare(a.Created) })
	return out, nil
}

func (m *marketService) Job(ctx context.Context, id string) (client.Job, error) {
	jid, err := wire.ParseJobID(id)
	if err != nil {
		return client.Job{}, fmt.Errorf("%w: job ID %q: %v", ErrBadRequest, id, err)
	}
	if j, err := m.c.Job(jid); err == nil {
		return clientJobView(*j), nil
	}
	if m.p != nil {
		pj, err := m.p.Jobs()
		if err != nil {
			return client.Job{}, err
		}
		for _, j := range pj {
			if j.ID == jid {
				return providerJobView(j), nil
			}
		}
	}
	return client.Job{}, fmt.Errorf("%w: job %s", ErrNotFound, id)
}

// submitEnvelope is the optional wrapper of POST /v1/jobs: {"spec": {...},
// "pay": "channel", "providers": [...]}. A body without "spec" is the job
// spec itself.
type submitEnvelope struct {
	Spec      json.RawMessage `json:"spec"`
	Pay       string          `json:"pay"`
	Providers []string        `json:"providers"`
	Retry     int             `json:"retry"`
}

func (m *marketService) Submit(ctx context.Context, body json.RawMessage) (client.Job, error) {
	var env submitEnvelope
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) == nil && probe["spec"] != nil {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&env); err != nil {
			return client.Job{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
	} else {
		env.Spec = body
	}
	spec, err := wire.ParseJobSpec(env.Spec)
	if err != nil {
		return client.Job{}, fmt.Errorf("%w: job spec: %v", ErrBadRequest, err)
	}
	if env.Retry < 0 || env.Retry > market.MaxRetry {
		return client.Job{}, fmt.Errorf("%w: retry %d: want 0..%d", ErrBadRequest, env.Retry, market.MaxRetry)
	}
	opts := market.RunOptions{PayMode: wire.PayMode(env.Pay), Retry: env.Retry}
	for _, p := range env.Providers {
		id, err := peer.Decode(p)
		if err != nil {
			return client.Job{}, fmt.Errorf("%w: provider %q: %v", ErrBadRequest, p, err)
		}
		opts.Providers = append(opts.Providers, id)
	}
	id, err := m.c.Submit(ctx, spec, opts)
	if err != nil {
		if errors.Is(err, wire.ErrInvalid) || strings.Contains(err.Error(), "pay mode") {
			return client.Job{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		return client.Job{}, err
	}
	return m.Job(ctx, id.String())
}

func (m *marketService) Cancel(ctx context.Context, id string) error {
	jid, err := wire.ParseJobID(id)
	if err != nil {
		return fmt.Errorf("%w: job ID %q: %v", ErrBadRequest, id, err)
	}
	if _, err := m.c.Job(jid); err != nil {
		return fmt.Errorf("%w: job %s (only a client's own jobs can be cancelled)", ErrNotFound, id)
	}
	return m.c.Cancel(ctx, jid)
}

func clientJobView(j market.Job) client.Job {
	cj := client.Job{
		ID: j.ID.String(), Role: "client", State: string(j.State), Module: j.Spec.Module,
		Pay: string(j.PayMode), ResultCID: j.ResultCID, Error: j.Error, Created: j.Created, Updated: j.Updated,
	}
	if len(j.Assigned) > 0 {
		a := j.Assigned[0]
		cj.Provider = a.Provider.String()
		if a.Price != nil {
			cj.Price = a.Price.String()
		}
		cj.DurationMS = a.Usage.Wall.D().Milliseconds()
	}
	if j.Paid != nil && j.Paid.Sign() > 0 {
		cj.Price = j.Paid.String()
	}
	if j.ResultCID != "" {
		ec := int(j.ExitCode)
		cj.ExitCode = &ec
	}
	if b, err := json.Marshal(j); err == nil {
		cj.Detail = b
	}
	return cj
}

func providerJobView(j market.ProviderJob) client.Job {
	cj := client.Job{
		ID: j.ID.String(), Role: "provider", State: string(j.State), Module: j.Spec.Module,
		Client: j.Client.String(), Pay: string(j.PayMode), ResultCID: j.ResultCID, Error: j.Error,
		Created: j.Created, Updated: j.Updated, DurationMS: j.Usage.Wall.D().Milliseconds(),
	}
	if j.Price != nil {
		cj.Price = j.Price.String()
	}
	if j.ResultCID != "" {
		ec := int(j.ExitCode)
		cj.ExitCode = &ec
	}
	return cj
}

// clientMediator names the configured mediator in the client's deals.
func clientMediator(cc *market.ClientConfig, m MarketConfig) error {
	if m.Mediator == "" {
		return nil
	}
	id, err := mediatorPeer(m.Mediator)
	if err != nil {
		return fmt.Errorf("%w: market.mediator: %v", ErrConfig, err)
	}
	addr, _ := market.AddressOf(id)
	cc.Mediator, cc.MediatorPeer, cc.MediatorFee = addr, id, new(big.Int).Set(&m.MediatorFee.Int)
	return nil
}

// providerMediators lists the configured mediators the provider accepts
// (by address) and brings cases to (by peer ID).
func providerMediators(pc *market.ProviderConfig, m MarketConfig) error {
	for _, s := range m.Mediators {
		id, err := mediatorPeer(s)
		if err != nil {
			return fmt.Errorf("%w: market.mediators: %v", ErrConfig, err)
		}
		addr, _ := market.AddressOf(id)
		pc.Mediators = append(pc.Mediators, addr)
		pc.MediatorPeers = append(pc.MediatorPeers, id)
	}
	return nil
}
