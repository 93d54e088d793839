package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/contracts/devnet"
	"github.com/cloudless-network/cloudless/node/client"
)

// settleWait bounds each of the audit's waits for the providers' settle
// ticks (jobs marked paid, vouchers redeemed). The waits end as soon as
// the chain and the records show what they wait for, so a generous bound
// costs nothing when the run holds; 30 s was too short at load averages
// above 15 (the redemption of a channel came after the audit gave up).
const settleWait = 3 * time.Minute

// pair is a client→provider channel's expected and actual money.
type pair struct{ client, provider common.Address }

// audit checks, after the load: every job ended, the client's and the
// provider's records agree job by job, the vouchers the providers redeem
// equal the prices of the jobs that succeeded, and no wei appeared or
// vanished on chain. Findings go to rep.Problems; an error means the audit
// itself could not run.
func audit(ctx context.Context, c *cluster, rep *Report, samples []Sample) error {
	byPeer := map[string]*member{}
	for _, m := range c.all() {
		byPeer[m.peerID] = m
	}
	// 1. Every submitted job ended, and the client's job list agrees.
	clientJobs := map[string]client.Job{}
	assigned := map[string][]assignment{}
	owner := map[string]common.Address{}
	for _, m := range c.clients {
		js, err := m.api.Jobs(ctx)
		if err != nil {
			return fmt.Errorf("%s jobs: %w", m.name, err)
		}
		for _, j := range js {
			if j.Role != "client" {
				continue
			}
			if j.State != "paid" {
				rep.failReason(j)
			}
			assigned[j.ID] = assignments(j)
			owner[j.ID] = m.addr
			j.Detail = nil
			clientJobs[j.ID] = j
			if !terminal[j.State] {
				rep.problem("lost: %s job %s still %q in the client's record", m.name, j.ID, j.State)
			}
		}
	}
	for _, s := range samples {
		switch {
		case s.SubmitErr != "":
			rep.problem("lost: %s submit refused: %s", s.Client, s.SubmitErr)
		case !terminal[s.State]:
			rep.problem("lost: %s job %s stuck in %q: %s", s.Client, s.ID, s.State, s.Error)
		default:
			if j, ok := clientJobs[s.ID]; !ok {
				rep.problem("lost: %s job %s is not in the client's job list", s.Client, s.ID)
			} else if j.State != s.State {
				rep.problem("job %s: the client's record moved from %q to %q after it ended", s.ID, s.State, j.State)
			}
		}
	}

	// 2. The providers' records: wait for their settle tick to mark the
	// delivered channel jobs paid, then compare job by job.
	provJobs := map[string]client.Job{}
	provName := map[string]string{}
	deadline := time.Now().Add(settleWait)
	for _, p := range c.providers {
		for {
			js, err := p.api.Jobs(ctx)
			if err != nil {
				return fmt.Errorf("%s jobs: %w", p.name, err)
			}
			open := 0
			for _, j := range js {
				if j.Role == "provider" && j.State != "paid" && j.State != "failed" {
					open++
				}
			}
			if open == 0 || time.Now().After(deadline) {
				for _, j := range js {
					if j.Role == "provider" {
						j.Detail = nil
						provJobs[j.ID] = j
						provName[j.ID] = p.name
						if j.State != "paid" && j.State != "failed" {
							rep.problem("provider %s job %s still %q", p.name, j.ID, j.State)
						}
					}
				}
				break
			}
			if err := sleep(ctx, 200*time.Millisecond); err != nil {
				return err
			}
		}
	}
	expect := map[pair]*big.Int{} // prices of succeeded jobs per channel
	earned := map[string]*big.Int{}
	var toAward, run []time.Duration
	for id, j := range clientJobs {
		pj, ran := provJobs[id]
		if ran {
			toAward = append(toAward, pj.Created.Sub(j.Created))
			run = append(run, time.Duration(pj.DurationMS)*time.Millisecond)
		}
		switch {
		case j.State == "paid":
			prov := byPeer[j.Provider]
			if prov == nil || !ran {
				rep.problem("job %s paid by the client to %q, which has no record of it", id, j.Provider)
				continue
			}
			if pj.State != "paid" || pj.Price != j.Price {
				rep.problem("job %s: client paid %s wei, provider %s says %q at %s wei", id, j.Price, prov.name, pj.State, pj.Price)
			}
			cl := byPeer[pj.Client]
			if cl == nil {
				rep.problem("job %s: provider names unknown client %s", id, pj.Client)
				continue
			}
			k := pair{cl.addr, prov.addr}
			if expect[k] == nil {
				expect[k] = new(big.Int)
			}
			expect[k].Add(expect[k], wei(j.Price))
			if earned[prov.peerID] == nil {
				earned[prov.peerID] = new(big.Int)
			}
			earned[prov.peerID].Add(earned[prov.peerID], wei(j.Price))
		case ran && pj.State == "paid":
			rep.Charged++
			rep.problem("job %s: client says %q (%s), provider %s holds it paid at %s wei", id, j.State, j.Error, provName[id], pj.Price)
		case j.Provider != "":
			// Awarded (a voucher was signed) and then failed: the voucher
			// still counts in the cumulative amount; the redemption check
			// below shows whether the client paid for it.
			rep.Charged++
		}
	}
	rep.AwardP50, rep.AwardP99 = pct(toAward, 50), pct(toAward, 99)
	rep.RunP50, rep.RunP99 = pct(run, 50), pct(run, 99)
	for id, pj := range provJobs {
		if _, ok := clientJobs[id]; !ok {
			rep.problem("provider job %s (%s) unknown to every client", id, pj.State)
		}
	}
	for i := range rep.PerProvider {
		if e := earned[rep.PerProvider[i].PeerID]; e != nil {
			rep.PerProvider[i].Earned = e.String()
		}
	}

	// 3. Force every voucher onto the chain: each client starts the exit
	// of its channels (node has no close-channel call), which makes the
	// provider redeem at its next settle tick; then the exit finishes and
	// everyone withdraws.
	ev := evidence{clientJobs: clientJobs, provJobs: provJobs, assigned: assigned, owner: owner}
	if err := settleChannels(ctx, c, rep, expect, ev); err != nil {
		return err
	}

	// 4. Money: balances at the start and the end, and every fee between.
	return conservation(ctx, c, rep, expect)
}

// settleChannels exits every channel, waits for the providers to redeem,
// finishes the exits and withdraws everyone's credits.
func settleChannels(ctx context.Context, c *cluster, rep *Report, expect map[pair]*big.Int, ev evidence) error {
	info := c.chain.Info()
	type open struct {
		cc  *contracts.Client
		key contracts.ChannelKey
	}
	var chans []open
	payers := map[common.Address]*contracts.Client{}
	for _, m := range c.clients {
		cc, err := contracts.Dial(ctx, info.RPC, info.Contract, m.key)
		if err != nil {
			return err
		}
		defer cc.Close()
		payers[m.addr] = cc
		evs, err := cc.FilterChannelsOpened(ctx, 0, []common.Address{m.addr}, nil)
		if err != nil {
			return fmt.Errorf("channels of %s: %w", m.name, err)
		}
		for _, e := range evs {
			k := contracts.ChannelKey{Client: e.Client, Provider: e.Provider, Salt: e.Salt}
			if _, err := cc.StartExit(ctx, k); err != nil {
				return fmt.Errorf("%s: start exit of %s: %w", m.name, k.ID(), err)
			}
			chans = append(chans, open{cc, k})
		}
	}
	// Every channel with succeeded jobs must exist.
	for k, v := range expect {
		if !slices.ContainsFunc(chans, func(o open) bool { return o.key.Client == k.client && o.key.Provider == k.provider }) {
			rep.problem("no channel on chain from %s to %s, which owes %s wei", k.client, k.provider, v)
		}
	}
	// Wait for the providers' redemptions (settle tick 2 s, but a tick
	// first walks every open job and channel, which after a long run on a
	// loaded machine takes far longer than one interval).
	redeemed := map[pair]*big.Int{}
	deadline := time.Now().Add(settleWait)
	for {
		clear(redeemed)
		done := true
		for _, o := range chans {
			st, err := o.cc.Channel(ctx, o.key.ID())
			if err != nil {
				return err
			}
			k := pair{o.key.Client, o.key.Provider}
			if redeemed[k] == nil {
				redeemed[k] = new(big.Int)
			}
			redeemed[k].Add(redeemed[k], st.Redeemed)
		}
		for k, v := range expect {
			if redeemed[k] == nil || redeemed[k].Cmp(v) < 0 {
				done = false
			}
		}
		if done || time.Now().After(deadline) {
			break
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return err
		}
	}
	perProv := map[common.Address]*big.Int{}
	for k, got := range redeemed {
		want := orZero(expect[k])
		if got.Cmp(want) != 0 {
			rep.problem("channel %s→%s: provider redeemed %s wei, succeeded jobs on it cost %s wei (diff %s)",
				k.client, k.provider, got, want, new(big.Int).Sub(got, want))
			rep.Evidence = append(rep.Evidence, ev.channel(k)...)
		}
		if perProv[k.provider] == nil {
			perProv[k.provider] = new(big.Int)
		}
		perProv[k.provider].Add(perProv[k.provider], got)
	}
	for k, want := range expect {
		if redeemed[k] == nil && want.Sign() > 0 {
			rep.problem("channel %s→%s: nothing redeemed, %s wei owed", k.client, k.provider, want)
		}
	}
	for i, p := range c.providers {
		if v := perProv[p.addr]; v != nil {
			rep.PerProvider[i].Redeemed = v.String()
		}
	}

	// Finish the exits (chain time past the exit timeout) and withdraw.
	if len(chans) > 0 {
		if err := c.chain.AdjustTime(time.Duration(devnet.DevDeployParams.ExitTimeout+1) * time.Second); err != nil {
			return fmt.Errorf("adjust chain time: %w", err)
		}
	}
	for _, o := range chans {
		if _, err := o.cc.FinishExit(ctx, o.key); err != nil {
			return fmt.Errorf("finish exit of %s: %w", o.key.ID(), err)
		}
	}
	for _, m := range c.clients {
		cc := payers[m.addr]
		cr, err := cc.Credits(ctx, m.addr)
		if err != nil {
			return err
		}
		if cr.Sign() > 0 {
			if _, err := cc.Withdraw(ctx); err != nil {
				return fmt.Errorf("%s withdraw: %w", m.name, err)
			}
		}
	}
	for _, p := range c.providers {
		w, err := p.api.Wallet(ctx)
		if err != nil {
			return fmt.Errorf("%s wallet: %w", p.name, err)
		}
		if w.Withdrawable != "" && w.Withdrawable != "0" {
			if _, err := p.api.Withdraw(ctx, ""); err != nil {
				return fmt.Errorf("%s withdraw: %w", p.name, err)
			}
		}
	}
	return nil
}

// conservation compares the balances at the start block and the head,
// counting the fee of every transaction in between, and checks each
// account against what the market records say moved.
func conservation(ctx context.Context, c *cluster, rep *Report, expect map[pair]*big.Int) error {
	ec := c.chain.Client()
	start := c.startBalances
	head, err := ec.BlockNumber(ctx)
	if err != nil {
		return err
	}
	// The head's state, read at the head's number (always available).
	end, err := c.balances(ctx, new(big.Int).SetUint64(head))
	if err != nil {
		return err
	}
	abi, err := contracts.MarketplaceMetaData.ParseABI()
	if err != nil {
		return err
	}
	signer := types.LatestSignerForChainID(c.chain.ChainID())
	fees := map[common.Address]*big.Int{}
	total, inside := new(big.Int), new(big.Int) // all fees; fees paid by the run's accounts
	rep.Chain.ByKind = map[string]int{}
	for n := c.startBlock + 1; n <= head; n++ {
		b, err := ec.BlockByNumber(ctx, new(big.Int).SetUint64(n))
		if err != nil {
			return fmt.Errorf("block %d: %w", n, err)
		}
		rcpts, err := ec.BlockReceipts(ctx, rpc.BlockNumberOrHashWithNumber(rpc.BlockNumber(n)))
		if err != nil {
			return fmt.Errorf("receipts of block %d: %w", n, err)
		}
		rep.Chain.Blocks++
		for i, tx := range b.Transactions() {
			from, err := types.Sender(signer, tx)
			if err != nil {
				return err
			}
			r := rcpts[i]
			fee := new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
			if _, ok := start[from]; ok {
				inside.Add(inside, fee)
			} else {
				rep.problem("tx %s from %s, an account outside the run", tx.Hash(), from)
			}
			if fees[from] == nil {
				fees[from] = new(big.Int)
			}
			fees[from].Add(fees[from], fee)
			total.Add(total, fee)
			rep.Chain.Txs++
			rep.Chain.GasUsed += r.GasUsed
			kind := "transfer"
			if len(tx.Data()) >= 4 {
				if m, err := abi.MethodById(tx.Data()[:4]); err == nil {
					kind = m.Name
				}
			}
			if r.Status != types.ReceiptStatusSuccessful {
				kind += " (reverted)"
			}
			rep.Chain.ByKind[kind]++
		}
	}
	rep.Chain.FeesWei = total.String()
	sumStart, sumEnd := new(big.Int), new(big.Int).Set(inside)
	for a, v := range start {
		sumStart.Add(sumStart, v)
		sumEnd.Add(sumEnd, end[a])
	}
	rep.Conservation = Conservation{StartWei: sumStart.String(), EndWei: sumEnd.String(), Held: sumStart.Cmp(sumEnd) == 0}
	if !rep.Conservation.Held {
		rep.problem("money not conserved: start %s wei, end balances + fees %s wei (diff %s)", sumStart, sumEnd, new(big.Int).Sub(sumEnd, sumStart))
	}
	// Per account: what moved must be exactly the succeeded jobs' prices.
	spent, got := map[common.Address]*big.Int{}, map[common.Address]*big.Int{}
	for k, v := range expect {
		spent[k.client] = new(big.Int).Add(orZero(spent[k.client]), v)
		got[k.provider] = new(big.Int).Add(orZero(got[k.provider]), v)
	}
	check := func(name string, a common.Address, delta *big.Int) {
		// end - start + fees = delta
		d := new(big.Int).Sub(end[a], start[a])
		d.Add(d, orZero(fees[a]))
		if d.Cmp(delta) != 0 {
			rep.problem("%s %s: balance moved %s wei net of fees, the jobs say %s wei", name, a, d, delta)
		}
	}
	for _, m := range c.clients {
		check(m.name, m.addr, new(big.Int).Neg(orZero(spent[m.addr])))
	}
	for _, m := range c.providers {
		check(m.name, m.addr, orZero(got[m.addr]))
	}
	ct := c.chain.Contract()
	if end[ct].Cmp(start[ct]) != 0 {
		rep.problem("contract holds %s wei after every channel closed and everyone withdrew (had %s)", end[ct], start[ct])
	}
	return nil
}

// assignment is what the audit reads of a client job's assignments (the
// market's JSON in client.Job.Detail).
type assignment struct {
	Provider   string   `json:"provider"`
	Addr       string   `json:"addr"`
	State      string   `json:"state"`
	Cumulative *big.Int `json:"cumulative"`
	Error      string   `json:"error"`
}

func assignments(j client.Job) []assignment {
	var d struct {
		Assigned []assignment `json:"assigned"`
	}
	_ = json.Unmarshal(j.Detail, &d)
	return d.Assigned
}

// evidence lists, for a channel whose money does not add up, every job
// awarded on it: both sides' states, the voucher's cumulative amount and
// the award's error, in the order of the cumulative amounts.
type evidence struct {
	clientJobs, provJobs map[string]client.Job
	assigned             map[string][]assignment
	owner                map[string]common.Address
}

func (e evidence) channel(k pair) []string {
	type row struct {
		cum  *big.Int
		line string
	}
	var rows []row
	for id, as := range e.assigned {
		for _, a := range as {
			if !strings.EqualFold(a.Addr, k.provider.Hex()) || e.owner[id] != k.client {
				continue
			}
			cj := e.clientJobs[id]
			pj, ok := e.provJobs[id]
			ps := "none"
			if ok {
				ps = pj.State + " " + pj.Price
			}
			rows = append(rows, row{orZero(a.Cumulative), fmt.Sprintf("channel %s→%s job %s: voucher cumulative %s; client job %s, assignment %s %q; provider record: %s",
				k.client.Hex()[:10], k.provider.Hex()[:10], id[:16], orZero(a.Cumulative), cj.State, a.State, a.Error, ps)})
		}
	}
	slices.SortFunc(rows, func(a, b row) int { return a.cum.Cmp(b.cum) })
	var out []string
	for _, r := range rows {
		out = append(out, r.line)
	}
	return out
}

// failReason counts why a job did not succeed: the assignment's error
// (award refused, result missing) or else the job's, with IDs, numbers
// and the list of peer refusals cut so that equal causes count together.
func (r *Report) failReason(j client.Job) {
	var d struct {
		Assigned []struct {
			Error string `json:"error"`
		} `json:"assigned"`
	}
	msg := j.Error
	if json.Unmarshal(j.Detail, &d) == nil {
		for _, a := range d.Assigned {
			if a.Error != "" {
				msg = a.Error
				break
			}
		}
	}
	msg = hexRE.ReplaceAllString(msg, "…")
	msg = numRE.ReplaceAllString(msg, "N")
	if i := strings.Index(msg, "; refusals: "); i >= 0 {
		rest := msg[i+len("; refusals: "):]
		if k := strings.IndexAny(rest, ";("); k >= 0 {
			rest = rest[:k]
		}
		msg = msg[:i] + "; first refusal: " + strings.TrimSpace(rest)
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	if r.FailReasons == nil {
		r.FailReasons = map[string]int{}
	}
	r.FailReasons[j.State+": "+msg]++
}

var (
	hexRE = regexp.MustCompile(`(0x[0-9a-fA-F]{8,}|16Uiu2[1-9A-HJ-NP-Za-km-z]{20,}|\b[0-9a-f]{32,}\b|bafk[a-z2-7]{20,})`)
	numRE = regexp.MustCompile(`\b[0-9]{4,}\b`)
)

func wei(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return new(big.Int)
	}
	return v
}

func orZero(v *big.Int) *big.Int {
	if v == nil {
		return new(big.Int)
	}
	return v
}

// sleep waits d or until ctx ends (polling a real chain and real daemons).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return errors.Join(ctx.Err(), errors.New("load: audit gave up waiting"))
	case <-t.C:
		return nil
	}
}
