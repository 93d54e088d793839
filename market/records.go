package market

import (
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/market/wire"
)

// InlineOutput is the largest stdout or stderr kept inline in a Job record.
const InlineOutput = 64 << 10

// State is where a job is in its life. Provider and client jobs share the
// names; not every state applies to both.
type State string

// Job states.
const (
	StateRequested State = "requested" // client: asking for bids
	StateBidding   State = "bidding"   // client: bids are coming in
	StatePaying    State = "paying"    // client: opening deals / signing vouchers
	StateAwarded   State = "awarded"   // both: award sent (client) / payment verified (provider)
	StateRunning   State = "running"   // provider: fetching and running
	StateDone      State = "done"      // provider: output stored, result not yet committed
	StateSubmitted State = "submitted" // provider: result committed on chain (escrow) / delivered (channel)
	StateVerifying State = "verifying" // client: fetching and checking outputs
	StatePaid      State = "paid"      // both: money moved to the provider (accepted, claimed, voucher held)
	StateRefunded  State = "refunded"  // client: escrow returned
	StateDisputed  State = "disputed"  // escrow result disputed
	StateFailed    State = "failed"    // ended without a usable result
	StateCancelled State = "cancelled"
)

// Terminal reports whether a state is final.
func (s State) Terminal() bool {
	switch s {
	case StatePaid, StateRefunded, StateFailed, StateCancelled:
		return true
	}
	return false
}

// ProviderJob is the provider's durable record of one awarded job.
type ProviderJob struct {
	ID         wire.JobID     `json:"id"`
	Client     peer.ID        `json:"client"`
	ClientAddr common.Address `json:"client_addr"`
	Spec       wire.JobSpec   `json:"spec"`
	Price      *big.Int       `json:"price"`
	PayMode    wire.PayMode   `json:"pay_mode"`
	State      State          `json:"state"`

	Deal   *contracts.DealParams `json:"deal,omitempty"`
	DealID common.Hash           `json:"deal_id,omitempty"`

	Channel    common.Hash `json:"channel,omitempty"`
	Cumulative *big.Int    `json:"cumulative,omitempty"`

	ResultCID  string     `json:"result_cid,omitempty"`
	OutputHash [32]byte   `json:"output_hash"`
	ExitCode   int32      `json:"exit_code"`
	Error      string     `json:"error,omitempty"`
	Usage      wire.Usage `json:"usage"`
	Result     []byte     `json:"result,omitempty"` // sealed wire.Result
	Delivered  bool       `json:"delivered"`
	// Stopped: the sandbox stopped the module (a limit or a trap); the job
	// failed, its Result carries the cause and no output, and nothing is
	// committed or claimed (the client's escrow is refunded).
	Stopped    bool   `json:"stopped,omitempty"`
	ClaimAfter uint64 `json:"claim_after,omitempty"` // chain seconds
	Claimed    bool   `json:"claimed,omitempty"`     // paid by our claim (not the client's accept)
	// Credited: a channel job that was not charged (stopped or failed);
	// its price is credited on the channel in the ledger.
	Credited bool `json:"credited,omitempty"`

	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// inChannel is the provider's record of a channel paying it in the old
// market.db journal (read by MigrateJournal only).
type inChannel struct {
	Key        contracts.ChannelKey `json:"key"`
	Accepted   *big.Int             `json:"accepted"` // sum of prices of jobs accepted on it
	Best       *big.Int             `json:"best"`     // highest voucher held
	BestSig    []byte               `json:"best_sig"` //
	BestAt     time.Time            `json:"best_at"`  // when Best first exceeded Redeemed
	Redeemed   *big.Int             `json:"redeemed"` // redeemed on chain
	RedeemedAt time.Time            `json:"redeemed_at"`
}

// Assignment is one provider's part of a client job.
type Assignment struct {
	Provider   peer.ID               `json:"provider"`
	Addr       common.Address        `json:"addr"`
	Price      *big.Int              `json:"price"`
	State      State                 `json:"state"`
	Deal       *contracts.DealParams `json:"deal,omitempty"`
	DealID     common.Hash           `json:"deal_id,omitempty"`
	DealOpen   bool                  `json:"deal_open,omitempty"` // the open transaction went through
	Channel    common.Hash           `json:"channel,omitempty"`
	Cumulative *big.Int              `json:"cumulative,omitempty"`
	ResultCID  string                `json:"result_cid,omitempty"`
	OutputHash [32]byte              `json:"output_hash"`
	ExitCode   int32                 `json:"exit_code"`
	Usage      wire.Usage            `json:"usage"`
	Verified   bool                  `json:"verified"`           // output fetched and its hash matches
	Credited   bool                  `json:"credited,omitempty"` // channel: its price was credited back
	// Stopped: the provider's sandbox stopped the job (Error says why); it
	// is not paid and its escrow is refunded after the deal deadline.
	Stopped bool          `json:"stopped,omitempty"`
	Error   string        `json:"error,omitempty"`
	Latency time.Duration `json:"latency"` // bid round trip
}

// Job is the client's durable record of one job.
type Job struct {
	ID       wire.JobID   `json:"id"`
	Spec     wire.JobSpec `json:"spec"`
	PayMode  wire.PayMode `json:"pay_mode"`
	State    State        `json:"state"`
	Assigned []Assignment `json:"assigned,omitempty"`
	Bids     int          `json:"bids"`
	// Direct: awarded without bids, at the offer price of the book's
	// first pick, to which the client had an open channel (direct_client.go).
	Direct     bool     `json:"direct,omitempty"`
	ResultCID  string   `json:"result_cid,omitempty"`
	OutputHash [32]byte `json:"output_hash"`
	ExitCode   int32    `json:"exit_code"`
	Error      string   `json:"error,omitempty"`
	Paid       *big.Int `json:"paid,omitempty"` // wei paid out to providers
	// Attempts is how many award rounds ran (RunOptions.Retry).
	Attempts int `json:"attempts,omitempty"`
	// OutFiles are the files under out/ of the accepted result (relative,
	// slash-separated); Stdout and Stderr are inline when each is at most
	// InlineOutput bytes, so the CLI need not fetch them.
	OutFiles []string  `json:"out_files,omitempty"`
	Stdout   []byte    `json:"stdout,omitempty"`
	Stderr   []byte    `json:"stderr,omitempty"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// outChannel is the client's record of a channel in the old market.db
// journal (read by MigrateJournal only).
type outChannel struct {
	Key      contracts.ChannelKey `json:"key"`
	Provider peer.ID              `json:"provider"`
	Deposit  *big.Int             `json:"deposit"`
	Promised *big.Int             `json:"promised"` // latest voucher signed
}
