package client

import (
	"encoding/json"
	"time"
)

// The JSON bodies of the control API (docs/api.md). Amounts of ether are
// decimal strings of wei: JSON numbers lose precision beyond 2^53.

// ID is GET /v1/id: who this node is.
type ID struct {
	PeerID  string `json:"peer_id"`
	Address string `json:"address"` // Ethereum address (EIP-55)
	// Addrs are the listen multiaddrs actually bound, each ending in /p2p/ID.
	Addrs    []string `json:"addrs"`
	Provider bool     `json:"provider"` // selling capacity
	Version  string   `json:"version,omitempty"`
	Repo     string   `json:"repo,omitempty"`
	// Running is true when the data came from a running daemon, false when
	// `cloudless id` read the repo's configured addresses.
	Running bool `json:"running"`
}

// Peer is one connected peer in GET /v1/peers.
type Peer struct {
	ID        string   `json:"id"`
	Addrs     []string `json:"addrs"`
	Direction string   `json:"direction,omitempty"` // inbound or outbound
	LatencyMS float64  `json:"latency_ms,omitempty"`
}

// ConnectRequest is the body of POST /v1/peers/connect.
type ConnectRequest struct {
	Addr string `json:"addr"` // multiaddr ending in /p2p/ID
}

// Offer is one provider offer in the offer book (GET /v1/offers).
type Offer struct {
	Provider       string    `json:"provider"`         // peer ID
	Payout         string    `json:"payout"`           // payout address
	PricePerJob    string    `json:"price_per_job"`    // wei
	PricePerSecond string    `json:"price_per_second"` // wei per second per memory tier
	MemoryTier     int64     `json:"memory_tier"`      // bytes
	FreeMemory     int64     `json:"free_memory"`      // bytes
	FreeSlots      int       `json:"free_slots"`
	MaxDurationMS  int64     `json:"max_duration_ms"`
	Runtime        string    `json:"runtime,omitempty"`
	Stake          string    `json:"stake,omitempty"` // wei
	Expires        time.Time `json:"expires"`
}

// Job is one job, as client or provider (GET /v1/jobs, /v1/jobs/{id}).
type Job struct {
	ID        string    `json:"id"`
	Role      string    `json:"role"`  // client, provider or local
	State     string    `json:"state"` // e.g. requested, bidding, awarded, running, done, failed, paid, refunded, cancelled
	Module    string    `json:"module"`
	Provider  string    `json:"provider,omitempty"`
	Client    string    `json:"client,omitempty"`
	Price     string    `json:"price,omitempty"` // wei
	Pay       string    `json:"pay,omitempty"`   // escrow or channel
	ExitCode  *int      `json:"exit_code,omitempty"`
	ResultCID string    `json:"result_cid,omitempty"`
	Error     string    `json:"error,omitempty"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	// DurationMS is the run time on the provider, when known.
	DurationMS int64 `json:"duration_ms,omitempty"`
	// Detail carries what the market knows beyond these fields.
	Detail json.RawMessage `json:"detail,omitempty"`
}

// Wallet is GET /v1/wallet.
type Wallet struct {
	Address string `json:"address"`
	Payout  string `json:"payout,omitempty"`
	Balance string `json:"balance"` // on-chain balance of Address, wei ("" when no chain)
	Earned  string `json:"earned"`  // paid to us as a provider, wei
	Spent   string `json:"spent"`   // paid by us as a client, wei
	// Withdrawable is what the contract holds for us and Withdraw can take.
	Withdrawable string    `json:"withdrawable"`
	Channels     []Channel `json:"channels,omitempty"`
}

// Channel is a payment channel the node is part of.
type Channel struct {
	ID       string `json:"id"`
	Role     string `json:"role"` // payer or payee
	Peer     string `json:"peer"` // the other side's address
	Deposit  string `json:"deposit"`
	Redeemed string `json:"redeemed"`
	Pending  string `json:"pending"` // latest voucher amount not yet redeemed
	State    string `json:"state"`
	// From the ledger (wei). Payer (client): Spent is the cumulative amount
	// signed for jobs (less credits for jobs not charged), Remaining is
	// Deposit - Spent. Payee (provider): Best is the highest voucher held,
	// Unredeemed what the jobs earned and is not redeemed yet. Credit: the
	// part of the highest voucher that pays for no job (refunded jobs).
	Spent      string `json:"spent,omitempty"`
	Remaining  string `json:"remaining,omitempty"`
	Best       string `json:"best,omitempty"`
	Unredeemed string `json:"unredeemed,omitempty"`
	Credit     string `json:"credit,omitempty"`
}

// WithdrawRequest is the body of POST /v1/wallet/withdraw.
type WithdrawRequest struct {
	Amount string `json:"amount,omitempty"` // wei; empty = everything withdrawable
}

// WithdrawResult answers POST /v1/wallet/withdraw.
type WithdrawResult struct {
	Tx     string `json:"tx"`
	Amount string `json:"amount"`
}

// PublishResult answers POST /v1/publish.
type PublishResult struct {
	CID  string `json:"cid"`
	Size int64  `json:"size"`
}

// Chain is GET /v1/chain.
type Chain struct {
	Enabled  bool   `json:"enabled"` // false: running without settlement
	RPC      string `json:"rpc,omitempty"`
	ChainID  string `json:"chain_id,omitempty"`
	Contract string `json:"contract,omitempty"`
	Block    uint64 `json:"block,omitempty"`
	Source   string `json:"source,omitempty"` // config, flags, chain.json
	Error    string `json:"error,omitempty"`  // last error talking to the RPC
}

// Status is GET /v1/status: one call with what the dashboard shows at the
// top.
type Status struct {
	ID        ID        `json:"id"`
	Started   time.Time `json:"started"`
	Peers     int       `json:"peers"`
	Parts     []Part    `json:"parts"`
	Chain     Chain     `json:"chain"`
	UptimeSec int64     `json:"uptime_sec"`
}

// Part says whether one part of the node is running.
type Part struct {
	Name    string `json:"name"`
	Running bool   `json:"running"`
	Note    string `json:"note,omitempty"`
}

// Event is one message of GET /v1/events (server-sent events, the JSON is
// the data line; the SSE event name is Type).
type Event struct {
	Type string    `json:"type"` // "job"
	Time time.Time `json:"time"`
	Job  *Job      `json:"job,omitempty"`
}

// ErrorBody is the body of every non-2xx answer.
type ErrorBody struct {
	Error string `json:"error"`
}

// PublishOptions are the query options of POST /v1/publish.
type PublishOptions struct {
	Hidden bool // include dot files of a directory (format=tar)
	NoPin  bool // do not pin the added root
}

// Pin is one entry of GET /v1/pins.
type Pin struct {
	CID  string `json:"cid"`
	Type string `json:"type"` // recursive or direct
}

// CARImportResult answers POST /v1/car: the CAR's root CIDs (pinned).
type CARImportResult struct {
	Roots []string `json:"roots"`
}

// Link is a CID in the IPLD JSON form {"/": "bafy..."}, the form offline
// `cloudless repo verify --json` prints.
type Link struct {
	CID string `json:"/"`
}

// VerifyReport answers POST /v1/repo/verify, in the JSON offline
// `cloudless repo verify --json` prints.
type VerifyReport struct {
	Checked int    `json:"checked"`           // blocks read and re-hashed
	Bytes   int64  `json:"bytes"`             // bytes re-hashed
	Bad     []Link `json:"bad,omitempty"`     // corrupt or unreadable blocks; removed
	Missing []Link `json:"missing,omitempty"` // blocks of pinned content not present
}

// OK reports whether the repo was sound.
func (r VerifyReport) OK() bool { return len(r.Bad) == 0 && len(r.Missing) == 0 }

// GCResult answers POST /v1/repo/gc.
type GCResult struct {
	Removed int `json:"removed"`
}
