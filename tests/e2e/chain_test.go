package e2e

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/node/client"
)

// coinbase of the dev chain: go-ethereum's simulated beacon seals blocks
// with the zero fee recipient, so priority fees (tips) land there while
// the base fee is burnt.
var coinbase = common.Address{}

// snapshot is every watched account's ether at one block, with what the
// contract owes or holds for it.
type snapshot struct {
	block    uint64
	bal      map[common.Address]*big.Int
	credits  map[common.Address]*big.Int
	contract *big.Int
}

// accounts the books cover: faucet, client, providers, coinbase, contract.
func (c *cluster) accounts() []common.Address {
	as := []common.Address{c.info.Faucet, c.client.address, coinbase, c.info.Contract}
	for _, p := range c.prov {
		as = append(as, p.address)
	}
	return as
}

// readSnap reads balances at block h and the contract's credits (at the
// latest block: callers check that no transaction landed meanwhile).
func (c *cluster) readSnap(h uint64) snapshot {
	c.t.Helper()
	s := snapshot{block: h, bal: map[common.Address]*big.Int{}, credits: map[common.Address]*big.Int{}}
	for _, a := range c.accounts() {
		var err error
		if s.bal[a], err = c.eth.BalanceAt(c.ctx, a, new(big.Int).SetUint64(h)); err != nil {
			c.t.Fatal(err)
		}
		if s.credits[a], err = c.mk.Credits(c.ctx, a); err != nil {
			c.t.Fatal(err)
		}
	}
	s.contract = s.bal[c.info.Contract]
	return s
}

// quiet reports whether blocks (h1, h2] hold no transaction.
func (c *cluster) quiet(h1, h2 uint64) bool {
	c.t.Helper()
	for b := h1 + 1; b <= h2; b++ {
		blk, err := c.eth.BlockByNumber(c.ctx, new(big.Int).SetUint64(b))
		if err != nil {
			c.t.Fatal(err)
		}
		if len(blk.Transactions()) > 0 {
			return false
		}
	}
	return true
}

func (c *cluster) head() uint64 {
	c.t.Helper()
	h, err := c.eth.BlockNumber(c.ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	return h
}

// txInfo is one transaction seen by the block scan.
type txInfo struct {
	hash     common.Hash
	from     common.Address
	to       common.Address
	value    *big.Int
	fee      *big.Int // gasUsed × effectiveGasPrice
	ok       bool
	block    uint64
	selector string
}

// scan is what happened on chain between two snapshots, block by block.
type scan struct {
	burnt  *big.Int // Σ baseFee × gasUsed
	fees   map[common.Address]*big.Int
	txs    []txInfo
	events []contracts.Event
}

func (s scan) fee(a common.Address) *big.Int {
	if f := s.fees[a]; f != nil {
		return f
	}
	return new(big.Int)
}

// scanBlocks reads every block in (from, to] with its receipts.
func (c *cluster) scanBlocks(from, to uint64) scan {
	c.t.Helper()
	s := scan{burnt: new(big.Int), fees: map[common.Address]*big.Int{}}
	chainID := new(big.Int).SetUint64(c.info.ChainID)
	signer := types.LatestSignerForChainID(chainID)
	for b := from + 1; b <= to; b++ {
		blk, err := c.eth.BlockByNumber(c.ctx, new(big.Int).SetUint64(b))
		if err != nil {
			c.t.Fatal(err)
		}
		if blk.BaseFee() != nil {
			s.burnt.Add(s.burnt, new(big.Int).Mul(blk.BaseFee(), new(big.Int).SetUint64(blk.GasUsed())))
		}
		if len(blk.Transactions()) == 0 {
			continue
		}
		rcpts, err := c.eth.BlockReceipts(c.ctx, rpc.BlockNumberOrHashWithNumber(rpc.BlockNumber(b)))
		if err != nil {
			c.t.Fatal(err)
		}
		for i, tx := range blk.Transactions() {
			r := rcpts[i]
			from, err := types.Sender(signer, tx)
			if err != nil {
				c.t.Fatal(err)
			}
			ti := txInfo{hash: tx.Hash(), from: from, value: tx.Value(), ok: r.Status == types.ReceiptStatusSuccessful, block: b,
				fee: new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)}
			if tx.To() != nil {
				ti.to = *tx.To()
			}
			if len(tx.Data()) >= 4 {
				ti.selector = fmt.Sprintf("%x", tx.Data()[:4])
			}
			if s.fees[from] == nil {
				s.fees[from] = new(big.Int)
			}
			s.fees[from].Add(s.fees[from], ti.fee)
			s.txs = append(s.txs, ti)
		}
	}
	if to > from {
		ev, err := c.mk.Events(c.ctx, from+1, &to)
		if err != nil {
			c.t.Fatal(err)
		}
		s.events = ev
	}
	return s
}

func sub(a, b *big.Int) *big.Int { return new(big.Int).Sub(a, b) }
func add(xs ...*big.Int) *big.Int {
	s := new(big.Int)
	for _, x := range xs {
		if x != nil {
			s.Add(s, x)
		}
	}
	return s
}
func wei(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return new(big.Int)
	}
	return v
}

// checkConservation: the ether of every account and the contract adds up
// to the start minus the burnt base fee, the tips went to the coinbase, and
// no other account was touched.
func (c *cluster) checkConservation(before, after snapshot, sc scan) {
	c.t.Helper()
	watched := c.accounts()
	for _, tx := range sc.txs {
		if !slices.Contains(watched, tx.from) || (tx.to != (common.Address{}) && !slices.Contains(watched, tx.to)) {
			c.t.Errorf("tx %s from %s to %s: an account the books do not watch", tx.hash, tx.from, tx.to)
		}
	}
	total0, total1 := new(big.Int), new(big.Int)
	for _, a := range watched {
		total0.Add(total0, before.bal[a])
		total1.Add(total1, after.bal[a])
	}
	if got := sub(total0, total1); got.Cmp(sc.burnt) != 0 {
		c.t.Errorf("ether not conserved: start %s - end %s = %s, burnt base fee %s (diff %s)", total0, total1, got, sc.burnt, sub(got, sc.burnt))
	}
	fees := new(big.Int)
	for _, f := range sc.fees {
		fees.Add(fees, f)
	}
	tips := sub(after.bal[coinbase], before.bal[coinbase])
	if add(sc.burnt, tips).Cmp(fees) != 0 {
		c.t.Errorf("gas: fees paid %s != burnt %s + tips to coinbase %s", fees, sc.burnt, tips)
	}
	// The contract holds exactly what it owes: credits, open escrow and
	// channel remainders (checked in positions); here: it never went negative
	// and its change is what moved through it.
	c.t.Logf("books: %d blocks, %d txs, gas fees %s wei (burnt %s, tips %s), contract %s -> %s",
		after.block-before.block, len(sc.txs), fees, sc.burnt, tips, before.contract, after.contract)
}

// jobDetail is the part of the client's job record (market.Job) the books use.
type jobDetail struct {
	Paid     *big.Int `json:"paid"`
	Assigned []struct {
		Provider   string      `json:"provider"`
		Addr       string      `json:"addr"`
		Price      *big.Int    `json:"price"`
		State      string      `json:"state"`
		DealID     common.Hash `json:"deal_id"`
		Channel    common.Hash `json:"channel"`
		Cumulative *big.Int    `json:"cumulative"`
		Credited   bool        `json:"credited"`
		Error      string      `json:"error"`
	} `json:"assigned"`
}

func detail(j client.Job) jobDetail {
	var d jobDetail
	_ = json.Unmarshal(j.Detail, &d)
	return d
}

// positions are what each party owns, on chain and in signed promises:
// balance + credits, plus for the client the escrow still locked and the
// channel deposits not yet promised away, plus for a provider the
// vouchers it holds but has not redeemed.
type positions map[common.Address]*big.Int

func (c *cluster) positions(s snapshot, clientJobs []client.Job) positions {
	c.t.Helper()
	pos := positions{}
	for a := range s.bal {
		pos[a] = add(s.bal[a], s.credits[a])
	}
	promised := map[common.Hash]*big.Int{}
	payee := map[common.Hash]common.Address{}
	for _, j := range clientJobs {
		for _, a := range detail(j).Assigned {
			if a.DealID != (common.Hash{}) {
				st, err := c.mk.Deal(c.ctx, a.DealID)
				if err != nil {
					c.t.Fatal(err)
				}
				if st.Status == contracts.DealOpen || st.Status == contracts.DealSubmitted || st.Status == contracts.DealDisputed {
					pos[c.client.address] = add(pos[c.client.address], a.Price)
				}
			}
			if a.Channel != (common.Hash{}) && a.Cumulative != nil {
				if p := promised[a.Channel]; p == nil || a.Cumulative.Cmp(p) > 0 {
					promised[a.Channel] = a.Cumulative
				}
				payee[a.Channel] = common.HexToAddress(a.Addr)
			}
		}
	}
	for id, prom := range promised {
		ch, err := c.mk.Channel(c.ctx, id)
		if err != nil {
			c.t.Fatal(err)
		}
		// deposit - redeemed = (deposit - promised) for the client + (promised - redeemed) for the provider
		pos[c.client.address] = add(pos[c.client.address], sub(ch.Deposit, prom))
		pos[payee[id]] = add(pos[payee[id]], sub(prom, ch.Redeemed))
	}
	return pos
}

// books is a quiet point: a snapshot, the client's jobs, every wallet and
// the positions, all read while no transaction landed.
type books struct {
	snap    snapshot
	jobs    []client.Job
	wallets map[string]client.Wallet
	pos     positions
}

func (c *cluster) books() books {
	c.t.Helper()
	for range 100 {
		h1 := c.head()
		b := books{snap: c.readSnap(h1), jobs: c.jobs(c.client), wallets: c.wallets()}
		b.pos = c.positions(b.snap, b.jobs)
		if c.quiet(h1, c.head()) {
			return b
		}
	}
	c.t.Fatal("the chain never went quiet for the books")
	return books{}
}

// wallets reads the wallet of every running node (a provider killed and
// left down has no daemon to ask; its chain side is still checked).
func (c *cluster) wallets() map[string]client.Wallet {
	c.t.Helper()
	w := map[string]client.Wallet{"client": c.wallet(c.client)}
	for _, p := range c.prov {
		if p.running() {
			w[p.name] = c.wallet(p)
		}
	}
	return w
}

// checkSince takes the books now and asserts, against b0: ether conserved;
// what the client paid (its position's drop less its gas) equals the sum
// of what the providers earned (their positions' rise plus their gas), the
// client's ledger (wallet spent) and each provider's ledger (wallet
// earned); no transaction reverted. It returns the new books and the
// client's spend.
func (c *cluster) checkSince(b0 books) (books, *big.Int) {
	c.t.Helper()
	b1 := c.books()
	sc := c.scanBlocks(b0.snap.block, b1.snap.block)
	c.checkConservation(b0.snap, b1.snap, sc)
	for _, tx := range sc.txs {
		if !tx.ok {
			c.t.Errorf("tx %s from %s (selector %s) reverted: a transaction sent twice or out of order", tx.hash, tx.from, tx.selector)
		}
	}
	ca := c.client.address
	clientPaid := sub(sub(b0.pos[ca], b1.pos[ca]), sc.fee(ca))
	earnedSum := new(big.Int)
	var parts []string
	for _, p := range c.prov {
		earned := add(sub(b1.pos[p.address], b0.pos[p.address]), sc.fee(p.address))
		earnedSum.Add(earnedSum, earned)
		w0, ok0 := b0.wallets[p.name]
		w1, ok1 := b1.wallets[p.name]
		if ledger := sub(wei(w1.Earned), wei(w0.Earned)); ok0 && ok1 && earned.Cmp(ledger) != 0 {
			c.t.Errorf("%s: earned on chain %s wei (position change + gas %s), its ledger says %s", p.name, earned, sc.fee(p.address), ledger)
		}
		parts = append(parts, fmt.Sprintf("%s earned %s (gas %s)", p.name, earned, sc.fee(p.address)))
	}
	if clientPaid.Cmp(earnedSum) != 0 {
		c.t.Errorf("client paid %s wei (position drop - gas %s) but the providers earned %s", clientPaid, sc.fee(ca), earnedSum)
	}
	ledger := sub(wei(b1.wallets["client"].Spent), wei(b0.wallets["client"].Spent))
	if clientPaid.Cmp(ledger) != 0 {
		c.t.Errorf("client paid %s wei on chain, its ledger says %s", clientPaid, ledger)
	}
	c.t.Logf("books: client paid %s wei + gas %s; %s", clientPaid, sc.fee(ca), strings.Join(parts, "; "))
	return b1, clientPaid
}

// dealOutcomes maps each deal to the contract events that closed it.
func dealOutcomes(evs []contracts.Event) map[common.Hash][]string {
	out := map[common.Hash][]string{}
	for _, e := range evs {
		switch d := e.Data.(type) {
		case *contracts.MarketplaceDealOpened:
			out[d.DealId] = append(out[d.DealId], "opened")
		case *contracts.MarketplaceResultSubmitted:
			out[d.DealId] = append(out[d.DealId], "submitted")
		case *contracts.MarketplaceDealAccepted:
			out[d.DealId] = append(out[d.DealId], "accepted")
		case *contracts.MarketplaceDealClaimed:
			out[d.DealId] = append(out[d.DealId], "claimed")
		case *contracts.MarketplaceDealRefunded:
			out[d.DealId] = append(out[d.DealId], "refunded")
		case *contracts.MarketplaceDealDisputed:
			out[d.DealId] = append(out[d.DealId], "disputed")
		}
	}
	return out
}

// checkJobsAgainstChain: every escrow assignment of a settled client job
// has exactly one deal on chain that was opened once and closed once, the
// way the client's job list says (paid: accepted or claimed; refunded:
// refunded).
func (c *cluster) checkJobsAgainstChain(jobs []client.Job) (paid, refunded int) {
	c.t.Helper()
	sc := c.scanBlocks(c.genesis, c.head())
	outcomes := dealOutcomes(sc.events)
	for _, j := range jobs {
		if j.Pay != "escrow" {
			continue
		}
		for _, a := range detail(j).Assigned {
			if a.DealID == (common.Hash{}) {
				continue
			}
			ev := outcomes[a.DealID]
			opened, closes := 0, 0
			var last string
			for _, e := range ev {
				switch e {
				case "opened":
					opened++
				case "accepted", "claimed", "refunded":
					closes++
					last = e
				}
			}
			if a.State == "cancelled" && opened == 0 {
				continue // journaled, never opened
			}
			if opened != 1 || closes != 1 {
				c.t.Errorf("job %s deal %s: events %v, want opened once and closed once", j.ID[:8], a.DealID.Hex()[:10], ev)
				continue
			}
			switch {
			case a.State == "paid" && (last == "accepted" || last == "claimed"):
				paid++
			case a.State == "refunded" && last == "refunded":
				refunded++
			default:
				c.t.Errorf("job %s (%s) assignment %s: the client says %s, the chain says %s", j.ID[:8], j.State, a.DealID.Hex()[:10], a.State, last)
			}
		}
	}
	return paid, refunded
}
