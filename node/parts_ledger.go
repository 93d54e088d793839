package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/node/client"
)

// startLedger opens the repo's ledger (bbolt, fsync on). The wallet view
// reads its totals; the market writes every transition to it.
func (n *Node) startLedger(ctx context.Context) error {
	l, err := ledger.Open(filepath.Join(n.repo, ledger.FileName), &ledger.Options{Logger: n.log.With("part", "ledger")})
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	n.ledger = l
	n.onClose("ledger", func(context.Context) error { return l.Close() })
	n.wallet.ledger = ledgerTotals{l}
	// Until a market runs, /v1/jobs shows what the ledger holds.
	n.svc.Jobs = ledgerJobs{l}
	n.setPart("ledger", true, "")
	n.setPart("jobs", true, "from the ledger")
	return nil
}

type ledgerTotals struct{ l *ledger.Ledger }

func (t ledgerTotals) Totals(ctx context.Context) (earned, spent string, err error) {
	tot, err := t.l.Totals(ctx)
	if err != nil {
		return "", "", err
	}
	return tot.Earned.String(), tot.Paid.String(), nil
}

// ledgerJobs lists the ledger's jobs; it cannot start or cancel one (that
// takes the market).
type ledgerJobs struct{ l *ledger.Ledger }

func (s ledgerJobs) Jobs(ctx context.Context) ([]client.Job, error) {
	js, err := s.l.Jobs(ctx, ledger.JobFilter{Limit: 500})
	if err != nil {
		return nil, err
	}
	out := make([]client.Job, 0, len(js))
	for _, j := range js {
		out = append(out, jobFromLedger(j))
	}
	return out, nil
}

func (s ledgerJobs) Job(ctx context.Context, id string) (client.Job, error) {
	j, err := s.l.Job(ctx, id)
	if errors.Is(err, ledger.ErrNotFound) {
		return client.Job{}, fmt.Errorf("%w: job %s", ErrNotFound, id)
	}
	if err != nil {
		return client.Job{}, err
	}
	return jobFromLedger(j), nil
}

var errNoMarket = fmt.Errorf("%w: the market is not running in this daemon, so it cannot run or cancel jobs", ErrUnavailable)

func (s ledgerJobs) Submit(context.Context, json.RawMessage) (client.Job, error) {
	return client.Job{}, errNoMarket
}
func (s ledgerJobs) Cancel(context.Context, string) error { return errNoMarket }

// jobFromLedger maps the ledger's record to the API's view.
func jobFromLedger(j ledger.Job) client.Job {
	cj := client.Job{
		ID:        j.ID,
		Role:      string(j.Role),
		State:     string(j.State),
		Module:    j.Module,
		Provider:  j.Provider,
		Client:    j.Client,
		Pay:       j.PayMode,
		ResultCID: j.ResultCID,
		Error:     j.Error,
		Created:   j.Created,
		Updated:   j.Updated,
	}
	if j.Price != nil {
		cj.Price = j.Price.String()
	}
	if j.ResultCID != "" || j.ExitCode != 0 {
		ec := j.ExitCode
		cj.ExitCode = &ec
	}
	return cj
}
