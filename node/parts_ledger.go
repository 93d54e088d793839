package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
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

// Channels lists the ledger's payment channels, both roles, oldest first.
func (t ledgerTotals) Channels(ctx context.Context) ([]client.Channel, error) {
	cs, err := t.l.Channels(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]client.Channel, 0, len(cs))
	for _, c := range cs {
		out = append(out, channelView(c))
	}
	return out, nil
}

// channelView maps a ledger channel to the wallet API's view.
func channelView(c ledger.Channel) client.Channel {
	v := client.Channel{ID: c.ID.Hex(), State: string(c.State), Deposit: c.Deposit.String(), Redeemed: big0(c.Redeemed).String(),
		Pending: c.Unredeemed().String()}
	if c.Credit != nil && c.Credit.Sign() > 0 {
		v.Credit = c.Credit.String()
	}
	switch c.Role {
	case ledger.RoleClient:
		v.Role, v.Peer = "payer", c.Provider.Hex()
		spent := c.Charged()
		v.Spent = spent.String()
		rem := new(big.Int).Sub(c.Deposit, spent)
		if rem.Sign() < 0 {
			rem.SetInt64(0)
		}
		v.Remaining = rem.String()
	default:
		v.Role, v.Peer = "payee", c.Client.Hex()
		v.Best, v.Unredeemed = big0(c.Promised).String(), c.Unredeemed().String()
	}
	return v
}

func big0(x *big.Int) *big.Int {
	if x == nil {
		return new(big.Int)
	}
	return x
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
