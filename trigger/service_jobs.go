package trigger

import (
	"context"
	"encoding/json"
	"math/big"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// JobBook is where local invocations become jobs: the node's
// *ledger.Ledger, whose job list `cloudless job list` shows. Market
// invocations are jobs there already (the market client writes them).
type JobBook interface {
	RecordLocalJobs(ctx context.Context, jobs ...ledger.Job) error
}

var _ JobBook = (*ledger.Ledger)(nil)

// jobBookTimeout bounds one write of local jobs to the JobBook.
const jobBookTimeout = 10 * time.Second

// localRun is what the log writer needs to turn a local invocation into
// a ledger job (built there, off the caller's path).
type localRun struct {
	fn      *Function
	trigger string
	detail  string
	out     *Output
	err     string
	started time.Time
}

// ledgerJob is r as a finished client job of pay mode ledger.PayLocal,
// price 0, run by this node (ServiceOptions.Self). Its Extra is the
// market's client record of the job (market.Job, JSON), so the market
// client lists it with its own jobs, as the node's job list does.
func (s *Service) ledgerJob(r *localRun) (ledger.Job, bool) {
	id, err := wire.ParseJobID(r.out.JobID)
	if err != nil {
		return ledger.Job{}, false
	}
	state, mstate := ledger.JobAccepted, market.StatePaid
	if r.err != "" {
		state, mstate = ledger.JobFailed, market.StateFailed
	}
	provider := LocalProvider
	mj := market.Job{
		ID: id,
		Spec: wire.JobSpec{Module: r.fn.Module, Args: r.fn.Args, Resources: r.fn.Resources, Redundancy: 1,
			Deterministic: r.fn.Deterministic},
		PayMode: wire.PayMode(ledger.PayLocal), State: mstate, ExitCode: r.out.ExitCode, Error: r.err,
		Paid: new(big.Int), Created: r.started, Updated: r.started.Add(r.out.Duration),
	}
	if self, err := peer.Decode(s.opts.Self); err == nil {
		provider = self.String()
		mj.Assigned = []market.Assignment{{Provider: self, Price: new(big.Int), State: mstate, ExitCode: r.out.ExitCode,
			Usage: wire.Usage{Wall: wire.Duration(r.out.Duration)}, Error: r.err}}
	}
	extra, err := json.Marshal(mj)
	if err != nil {
		return ledger.Job{}, false
	}
	return ledger.Job{
		ID: r.out.JobID, Role: ledger.RoleClient, State: state, Created: r.started,
		Client: s.opts.Self, Provider: provider, Module: r.fn.Module, PayMode: ledger.PayLocal, Price: new(big.Int),
		ExitCode: int(r.out.ExitCode), Error: r.err, Extra: extra,
		Note: clipDetail("function " + r.fn.Name + ", " + r.trigger + " " + r.detail),
	}, true
}

// recordJobs writes the local jobs of a committed batch to the JobBook in
// one transaction; when that is refused, one by one, so one bad record
// does not lose the others.
func (s *Service) recordJobs(batch []logEntry) {
	if s.opts.Jobs == nil {
		return
	}
	var jobs []ledger.Job
	for _, e := range batch {
		if e.local == nil {
			continue
		}
		if j, ok := s.ledgerJob(e.local); ok {
			jobs = append(jobs, j)
		}
	}
	if len(jobs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), jobBookTimeout)
	defer cancel()
	if err := s.opts.Jobs.RecordLocalJobs(ctx, jobs...); err == nil || len(jobs) == 1 {
		if err != nil {
			s.log.Warn("local invocation not recorded as a job", "job", jobs[0].ID, "err", err)
		}
		return
	}
	for _, j := range jobs {
		if err := s.opts.Jobs.RecordLocalJobs(ctx, j); err != nil {
			s.log.Warn("local invocation not recorded as a job", "job", j.ID, "err", err)
		}
	}
}
