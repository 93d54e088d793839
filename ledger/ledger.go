package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"
)

// FileName is the ledger's file name inside a node repo.
const FileName = "ledger.db"

// Errors. Every error the package returns wraps one of these (check with
// errors.Is); transitions return a *TransitionError and corrupt data a
// *CorruptError, both of which also match their sentinel.
var (
	// ErrNotFound: no record with that ID (Job, Deal, Channel, Transition...).
	ErrNotFound = errors.New("ledger: not found")
	// ErrExists: PutJob/PutDeal/PutChannel with an ID that is already stored
	// with different data. Putting the identical record again is a no-op.
	ErrExists = errors.New("ledger: already exists with different data")
	// ErrBadTransition: the edge from the record's state to the asked state is
	// not in the state machine. Returned as a *TransitionError.
	ErrBadTransition = errors.New("ledger: illegal state transition")
	// ErrStale: the record has already gone past the asked state (a replayed
	// message or re-sent transaction). Returned as a *TransitionError that also
	// matches ErrBadTransition; nothing was changed, callers usually drop the
	// message.
	ErrStale = errors.New("ledger: record already past that state")
	// ErrConflict: a transition into the state the record is already in, but
	// with different data (idempotent replays must carry the same data).
	ErrConflict = errors.New("ledger: same transition with different data")
	// ErrVoucherNotHigher: AcceptVoucher got a cumulative amount that is not
	// strictly above the highest one accepted on that channel.
	ErrVoucherNotHigher = errors.New("ledger: voucher not higher than the last accepted")
	// ErrInsufficientDeposit: a voucher (issued or accepted) whose cumulative
	// amount exceeds the channel's recorded deposit.
	ErrInsufficientDeposit = errors.New("ledger: voucher exceeds channel deposit")
	// ErrDuplicate: RecordAward/MarkSeen saw that key before.
	ErrDuplicate = errors.New("ledger: duplicate")
	// ErrInvalid: a malformed argument (empty ID, nil or negative amount,
	// unknown role or state, wrong channel side).
	ErrInvalid = errors.New("ledger: invalid argument")
	// ErrCorrupt: the file or a stored value cannot be read. Returned as a
	// *CorruptError naming the file.
	ErrCorrupt = errors.New("ledger: corrupt database")
	// ErrClosed: the Ledger was closed.
	ErrClosed = errors.New("ledger: closed")
)

// TransitionError is returned when a transition is refused. It matches
// ErrBadTransition, and also ErrStale when Stale is set.
type TransitionError struct {
	Kind  string // "job", "deal" or "channel"
	ID    string
	From  string
	To    string
	Stale bool // the record is already at or beyond To: a replay
}

func (e *TransitionError) Error() string {
	s := fmt.Sprintf("ledger: %s %s: illegal transition %s -> %s", e.Kind, e.ID, e.From, e.To)
	if e.Stale {
		s += " (already past it)"
	}
	return s
}

// Is makes errors.Is(err, ErrBadTransition) and, for stale ones, ErrStale true.
func (e *TransitionError) Is(target error) bool {
	return target == ErrBadTransition || (e.Stale && target == ErrStale)
}

// CorruptError reports an unreadable file or value. It matches ErrCorrupt.
type CorruptError struct {
	Path string // the ledger file
	What string // what could not be read, e.g. `job "ab12…"` or "meta page"
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("ledger: %s is corrupt (%s: %v); move it aside and restart to rebuild from the chain", e.Path, e.What, e.Err)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Unwrap returns the underlying error.
func (e *CorruptError) Unwrap() error { return e.Err }

// Role says which side of a job, deal or channel this node is on.
type Role string

// Roles.
const (
	RoleClient   Role = "client"   // we pay
	RoleProvider Role = "provider" // we run and get paid
)

// JobState is a job's state. Client and provider jobs share the type but
// have their own state machines (see states.go and DESIGN.md "A job's life").
type JobState string

// Client job states, in order of a job's life.
const (
	JobRequested      JobState = "requested"       // created, request about to be published
	JobBidding        JobState = "bidding"         // collecting bids
	JobPaying         JobState = "paying"          // provider(s) chosen; escrow deal being opened or voucher issued
	JobAwarded        JobState = "awarded"         // award(s) sent (provider side: award received)
	JobRunning        JobState = "running"         // the provider(s) acknowledged/started (both sides)
	JobResultReceived JobState = "result_received" // signed result(s) in hand
	JobVerified       JobState = "verified"        // output fetched and (redundancy) agreed
	JobAccepted       JobState = "accepted"        // terminal: accepted and paid out
	JobDisputed       JobState = "disputed"        // dispute opened (both sides)
	JobRefunded       JobState = "refunded"        // terminal: money returned to the client (both sides)
	JobFailed         JobState = "failed"          // terminal (both sides)
	JobCancelled      JobState = "cancelled"       // terminal (both sides)
)

// Provider job states (JobAwarded, JobRunning, JobDisputed, JobRefunded,
// JobFailed and JobCancelled are shared with the client side).
const (
	JobBidSent         JobState = "bid_sent"         // signed bid sent
	JobPaymentVerified JobState = "payment_verified" // escrow deal / voucher checked on chain
	JobResultStored    JobState = "result_stored"    // output stored and pinned; Result envelope stored
	JobResultSent      JobState = "result_sent"      // Result delivered to the client
	JobCommitted       JobState = "committed"        // escrow: result commitment submitted on chain
	JobPaid            JobState = "paid"             // terminal: escrow claimed or accepted
	JobVoucherHeld     JobState = "voucher_held"     // channel: done, voucher not yet redeemed
	JobRedeemed        JobState = "redeemed"         // terminal: voucher redeemed on chain
)

// DealState is an escrow deal's state as this node knows it.
type DealState string

// Deal states.
const (
	DealOpening   DealState = "opening"   // recorded before the open tx is sent (client), or award seen (provider)
	DealOpened    DealState = "opened"    // open on chain
	DealSubmitted DealState = "submitted" // result commitment on chain; challenge window running
	DealDisputed  DealState = "disputed"  // client disputed; mediator decides
	DealAccepted  DealState = "accepted"  // terminal: client accepted; provider paid
	DealClaimed   DealState = "claimed"   // terminal: provider claimed after the window
	DealResolved  DealState = "resolved"  // terminal: mediator decided (Deal.ForProvider)
	DealRefunded  DealState = "refunded"  // terminal: client refunded (deadline passed, or dispute lost/expired)
	DealAbandoned DealState = "abandoned" // terminal: never opened on chain
)

// ChannelState is a payment channel's state.
type ChannelState string

// Channel states.
const (
	ChannelOpening   ChannelState = "opening"   // recorded before the open tx is sent
	ChannelOpen      ChannelState = "open"      // on chain
	ChannelExiting   ChannelState = "exiting"   // client started the exit timeout
	ChannelClosed    ChannelState = "closed"    // terminal: exit finished
	ChannelAbandoned ChannelState = "abandoned" // terminal: never opened on chain
)

// Job is one job as one side sees it. ID is an opaque non-empty string
// (at most 512 bytes) unique in this ledger. Convention: the client keys its
// jobs by wire.JobID.String(); a provider by JobKey(client, jobID), so a node
// that is both sides of the same job keeps two records.
//
// Fields the ledger owns: State, Created, Updated. Everything else belongs to
// the caller (market); the ledger only stores it. Amounts are wei.
type Job struct {
	ID      string    `json:"id"`
	Role    Role      `json:"role"`
	State   JobState  `json:"state"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`

	Client     string         `json:"client,omitempty"`     // client peer ID
	ClientAddr common.Address `json:"client_addr,omitzero"` // client's Ethereum address
	Provider   string         `json:"provider,omitempty"`   // provider peer ID (provider side, or client side with one provider)
	Payout     common.Address `json:"payout,omitzero"`      // provider's payout address
	Module     string         `json:"module,omitempty"`     // module CID
	PayMode    string         `json:"pay_mode,omitempty"`   // "escrow" | "channel"
	Price      *big.Int       `json:"price,omitempty"`      // agreed price (per provider)
	MaxPrice   *big.Int       `json:"max_price,omitempty"`  // client's cap
	Deadline   time.Time      `json:"deadline,omitzero"`    // result deadline
	DealID     common.Hash    `json:"deal_id,omitzero"`     // escrow deal (provider side, or client with one provider)
	ChannelID  common.Hash    `json:"channel_id,omitzero"`  // channel paying for it
	Voucher    *big.Int       `json:"voucher,omitempty"`    // cumulative amount of the voucher paying for it
	ResultCID  string         `json:"result_cid,omitempty"` // output directory CID
	OutputHash common.Hash    `json:"output_hash,omitzero"` // hash committed on chain
	ExitCode   int            `json:"exit_code,omitempty"`  // job's exit code
	Providers  []Assignment   `json:"providers,omitempty"`  // client side: one per awarded provider (redundancy)
	Attempts   int            `json:"attempts,omitempty"`   // client: award rounds so far (retries)
	Request    []byte         `json:"request,omitempty"`    // signed JobRequest envelope
	Award      []byte         `json:"award,omitempty"`      // signed Award envelope
	Result     []byte         `json:"result,omitempty"`     // signed Result envelope (provider: to re-send)
	Extra      []byte         `json:"extra,omitempty"`      // opaque to the ledger, for the market
	Error      string         `json:"error,omitempty"`      // why it failed
	Note       string         `json:"note,omitempty"`       // reason for the latest transition; copied into its Event
}

// Assignment is one awarded provider of a client job.
type Assignment struct {
	Provider   string         `json:"provider"`             // peer ID
	Payout     common.Address `json:"payout,omitzero"`      // payout address
	Price      *big.Int       `json:"price,omitempty"`      // wei
	DealID     common.Hash    `json:"deal_id,omitzero"`     // escrow
	ChannelID  common.Hash    `json:"channel_id,omitzero"`  // channel
	Voucher    *big.Int       `json:"voucher,omitempty"`    // cumulative voucher sent with the award
	ResultCID  string         `json:"result_cid,omitempty"` // what it returned
	OutputHash common.Hash    `json:"output_hash,omitzero"` //
	ExitCode   int            `json:"exit_code,omitempty"`  //
	Verdict    string         `json:"verdict,omitempty"`    // "", "agree", "disagree", "missing"
}

// JobKey is the conventional provider-side Job.ID: client peer ID and the
// wire job ID (hex), so two clients cannot collide.
func JobKey(client, jobID string) string { return jobID + "@" + client }

// Deal is an escrow deal. Its fields mirror contracts.DealParams so a node
// can claim, refund or dispute after a restart from the ledger alone.
type Deal struct {
	ID              common.Hash    `json:"id"` // contracts.DealID(params)
	Role            Role           `json:"role"`
	State           DealState      `json:"state"`
	JobID           string         `json:"job_id,omitempty"` // Job.ID on this node
	Client          common.Address `json:"client"`
	Provider        common.Address `json:"provider"`
	Mediator        common.Address `json:"mediator,omitzero"`
	Price           *big.Int       `json:"price"`
	MediatorFee     *big.Int       `json:"mediator_fee,omitempty"`
	Collateral      *big.Int       `json:"collateral,omitempty"`
	Deadline        uint64         `json:"deadline"`         // unix seconds
	ChallengeWindow uint64         `json:"challenge_window"` // seconds
	JobHash         common.Hash    `json:"job_hash"`
	ResultHash      common.Hash    `json:"result_hash,omitzero"`
	SubmittedAt     uint64         `json:"submitted_at,omitempty"` // unix seconds, from the chain
	ForProvider     bool           `json:"for_provider,omitempty"` // DealResolved: who won
	OpenTx          common.Hash    `json:"open_tx,omitzero"`
	CloseTx         common.Hash    `json:"close_tx,omitzero"`
	Created         time.Time      `json:"created"`
	Updated         time.Time      `json:"updated"`
	Note            string         `json:"note,omitempty"`
}

// Channel is a payment channel, from the client's side (we issue vouchers)
// or the provider's side (we accept and redeem them).
type Channel struct {
	ID       common.Hash    `json:"id"`
	Role     Role           `json:"role"`
	State    ChannelState   `json:"state"`
	Client   common.Address `json:"client"`
	Provider common.Address `json:"provider"`
	Peer     string         `json:"peer,omitempty"` // the other side's peer ID
	Salt     common.Hash    `json:"salt,omitzero"`
	Deposit  *big.Int       `json:"deposit"`  // total deposited, as last seen on chain
	Redeemed *big.Int       `json:"redeemed"` // redeemed on chain so far
	// Promised is the highest cumulative amount: issued (client) or accepted
	// (provider). Latest is the voucher carrying it.
	Promised *big.Int `json:"promised"`
	// Credit is the part of Promised that pays for no job: the price of
	// channel jobs the provider's sandbox stopped (refunded, see
	// CreditJob). Both sides record it; the next voucher is for
	// Charged()+price, and a provider redeems only up to Charged().
	Credit          *big.Int    `json:"credit,omitempty"`
	Latest          *Voucher    `json:"latest,omitempty"`
	UnredeemedSince time.Time   `json:"unredeemed_since,omitzero"` // provider: when Promised first went above Redeemed
	ExitAt          uint64      `json:"exit_at,omitempty"`         // unix seconds; 0: no exit started
	OpenTx          common.Hash `json:"open_tx,omitzero"`
	Created         time.Time   `json:"created"`
	Updated         time.Time   `json:"updated"`
	Note            string      `json:"note,omitempty"`
}

// Charged is Promised - Credit: what the channel's jobs cost so far.
func (c Channel) Charged() *big.Int {
	d := new(big.Int).Sub(bigOr0(c.Promised), bigOr0(c.Credit))
	if d.Sign() < 0 {
		d.SetInt64(0)
	}
	return d
}

// Unredeemed is Charged - Redeemed (never negative): what the provider is
// owed and has not redeemed yet.
func (c Channel) Unredeemed() *big.Int {
	d := new(big.Int).Sub(c.Charged(), bigOr0(c.Redeemed))
	if d.Sign() < 0 {
		d.SetInt64(0)
	}
	return d
}

// Voucher is a signed cumulative promise on a channel, and the job it paid.
type Voucher struct {
	ChannelID  common.Hash `json:"channel_id"`
	Cumulative *big.Int    `json:"cumulative"`
	Signature  []byte      `json:"signature"`
	JobID      string      `json:"job_id,omitempty"`
	Amount     *big.Int    `json:"amount,omitempty"` // this job's increment (Cumulative - previous)
	At         time.Time   `json:"at"`
}

// PaymentKind is what a money event was.
type PaymentKind string

// Payment kinds. Client: Locked (escrow/channel deposit left the wallet),
// Paid (went to a provider), Refunded (came back). Provider: Earned. Both:
// Gas, Withdrawn (contract credits moved to the wallet), Staked.
const (
	PaymentLocked    PaymentKind = "locked"
	PaymentPaid      PaymentKind = "paid"
	PaymentRefunded  PaymentKind = "refunded"
	PaymentEarned    PaymentKind = "earned"
	PaymentGas       PaymentKind = "gas"
	PaymentWithdrawn PaymentKind = "withdrawn"
	PaymentStaked    PaymentKind = "staked"
)

// Payment is one money event. ID makes it idempotent: recording the same ID
// twice stores it once. Leave ID empty to use Kind/Tx/Ref (plus JobID).
type Payment struct {
	ID     string         `json:"id"`
	Kind   PaymentKind    `json:"kind"`
	Amount *big.Int       `json:"amount"` // wei, >= 0
	JobID  string         `json:"job_id,omitempty"`
	Ref    common.Hash    `json:"ref,omitzero"` // deal or channel ID
	Tx     common.Hash    `json:"tx,omitzero"`
	Peer   common.Address `json:"peer,omitzero"` // counterparty
	At     time.Time      `json:"at"`
	Note   string         `json:"note,omitempty"`
}

// Totals sums the payment log by kind (wei, never nil).
type Totals struct {
	Locked    *big.Int `json:"locked"`
	Paid      *big.Int `json:"paid"`
	Refunded  *big.Int `json:"refunded"`
	Earned    *big.Int `json:"earned"`
	Gas       *big.Int `json:"gas"`
	Withdrawn *big.Int `json:"withdrawn"`
	Staked    *big.Int `json:"staked"`
	Count     int      `json:"count"`
}

// Outcome is how a provider did on one job.
type Outcome string

// Outcomes.
const (
	OutcomeSuccess      Outcome = "success"
	OutcomeFailure      Outcome = "failure"      // no result, timeout, bad result
	OutcomeDisagreement Outcome = "disagreement" // outvoted by redundancy
)

// Rep is a provider's record with this node.
type Rep struct {
	Provider      common.Address `json:"provider"`
	Successes     uint64         `json:"successes"`
	Failures      uint64         `json:"failures"`
	Disagreements uint64         `json:"disagreements"`
	Updated       time.Time      `json:"updated,omitzero"`
}

// Score is in [0,1]: (s+1)/(s+f+3d+2), a Laplace-smoothed success rate in
// which a disagreement (a wrong answer) weighs three failures. An unknown
// provider scores 0.5.
func (r Rep) Score() float64 {
	s, f, d := float64(r.Successes), float64(r.Failures), float64(r.Disagreements)
	return (s + 1) / (s + f + 3*d + 2)
}

// Event is one entry of the append-only history.
type Event struct {
	Seq   uint64    `json:"seq"`    // global, increasing
	Kind  string    `json:"kind"`   // "job", "deal", "channel", "voucher"
	ID    string    `json:"id"`     // the record's ID
	JobID string    `json:"job_id"` // the job it belongs to ("" if none)
	From  string    `json:"from"`   // "" for creation
	To    string    `json:"to"`
	At    time.Time `json:"at"`
	Note  string    `json:"note,omitempty"`
}

// JobFilter selects jobs. Zero fields match everything. Results are newest
// first (by Created).
type JobFilter struct {
	Role   Role
	States []JobState
	Since  time.Time // Created at or after
	Limit  int       // 0: no limit
}

// Options tune Open. nil means defaults.
type Options struct {
	// NoSync turns fsync off. For benchmarks that measure everything but the
	// disk ONLY: with it a crash can lose acknowledged transitions, which
	// breaks the promise the market relies on. Never set it in a node.
	NoSync bool
	// Timeout is how long Open waits for the file lock another process
	// holds (default 1s); then it fails with an error naming the file.
	Timeout time.Duration
	// Now is the clock (default time.Now); tests pass a fake one.
	Now func() time.Time
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Registerer, when set, gets the ledger's Prometheus metrics
	// (cloudless_ledger_*). Open fails if they cannot be registered.
	Registerer prometheus.Registerer

	// bolt, when set, edits the bbolt options before the file is opened:
	// for the package's own tests and benchmarks that compare settings.
	bolt func(*bolt.Options)
}

// Ledger is the node's durable record. It is safe for concurrent use.
// Every write is committed and fsynced before it returns; concurrent
// writes share one transaction and one fsync (group commit, group.go).
type Ledger struct {
	db     *bolt.DB
	path   string
	now    func() time.Time
	log    *slog.Logger
	tr     tracer
	mu     sync.RWMutex // guards closed against concurrent Close
	closed bool
	once   sync.Once
	group  committer // group commit of concurrent writes (group.go)
}

// Open opens (creating if needed) the ledger file at path, typically
// filepath.Join(repo, FileName). It checks the file's structure and returns
// a *CorruptError (ErrCorrupt) for a damaged file, and an error naming the
// file when another process holds it.
func Open(path string, opts *Options) (*Ledger, error) { return open(path, opts) }

// Close closes the file. Safe to call twice.
func (l *Ledger) Close() error { return l.close() }

// Path returns the file path.
func (l *Ledger) Path() string { return l.path }

// Update runs fn in one read-write transaction, committed and fsynced before
// Update returns nil. If fn returns an error nothing is written. Use it to
// change several records atomically (e.g. a job to JobPaying and its deal to
// DealOpening). fn must not keep tx after it returns, and must not call
// other Ledger methods (that would deadlock).
func (l *Ledger) Update(ctx context.Context, fn func(tx *Tx) error) error {
	return l.update(ctx, fn)
}

// View runs fn in a read-only transaction.
func (l *Ledger) View(ctx context.Context, fn func(tx *Tx) error) error {
	return l.view(ctx, fn)
}

// PutJob creates a job in an initial state of its role (client: JobRequested
// or JobBidding; provider: JobBidSent or JobAwarded). Putting an identical
// job again is a no-op; a different one with the same ID is ErrExists —
// including the same request once the job has moved on, so a replayed job
// request gets ErrExists ("already known").
func (l *Ledger) PutJob(ctx context.Context, j Job) (Job, error) {
	var out Job
	err := l.update(ctx, func(tx *Tx) (err error) { out, err = tx.PutJob(j); return })
	return out, err
}

// Job returns one job, or ErrNotFound.
func (l *Ledger) Job(ctx context.Context, id string) (Job, error) {
	var out Job
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.Job(id); return })
	return out, err
}

// Jobs lists jobs matching f, newest first.
func (l *Ledger) Jobs(ctx context.Context, f JobFilter) ([]Job, error) {
	var out []Job
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.Jobs(f); return })
	return out, err
}

// Transition moves job id to state to, after applying mutate (may be nil)
// to a copy of the record, and returns the stored record. It appends an
// Event. See Tx.Transition for the rules (idempotency, ErrStale).
func (l *Ledger) Transition(ctx context.Context, id string, to JobState, mutate func(*Job) error) (Job, error) {
	var out Job
	err := l.update(ctx, func(tx *Tx) (err error) { out, err = tx.Transition(id, to, mutate); return })
	return out, err
}

// UpdateJob edits a job's fields without changing its state (no Event);
// mutate may not change ID, Role or State. Use it for progress that is not
// a state change (bids collected, attempts). Replay-sensitive data should
// go through Transition, whose same-state check catches conflicts.
func (l *Ledger) UpdateJob(ctx context.Context, id string, mutate func(*Job) error) (Job, error) {
	var out Job
	err := l.update(ctx, func(tx *Tx) (err error) { out, err = tx.UpdateJob(id, mutate); return })
	return out, err
}

// PutDeal creates a deal (in DealOpening or DealOpened). Identical re-put is
// a no-op; different data is ErrExists.
func (l *Ledger) PutDeal(ctx context.Context, d Deal) (Deal, error) {
	var out Deal
	err := l.update(ctx, func(tx *Tx) (err error) { out, err = tx.PutDeal(d); return })
	return out, err
}

// Deal returns one deal, or ErrNotFound.
func (l *Ledger) Deal(ctx context.Context, id common.Hash) (Deal, error) {
	var out Deal
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.Deal(id); return })
	return out, err
}

// Deals lists deals of role (any if "") in any of states (all if none).
func (l *Ledger) Deals(ctx context.Context, role Role, states ...DealState) ([]Deal, error) {
	var out []Deal
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.Deals(role, states...); return })
	return out, err
}

// TransitionDeal is Transition for deals.
func (l *Ledger) TransitionDeal(ctx context.Context, id common.Hash, to DealState, mutate func(*Deal) error) (Deal, error) {
	var out Deal
	err := l.update(ctx, func(tx *Tx) (err error) { out, err = tx.TransitionDeal(id, to, mutate); return })
	return out, err
}

// UpdateDeal edits a deal's fields without changing its state (no Event).
func (l *Ledger) UpdateDeal(ctx context.Context, id common.Hash, mutate func(*Deal) error) (Deal, error) {
	var out Deal
	err := l.update(ctx, func(tx *Tx) (err error) { out, err = tx.UpdateDeal(id, mutate); return })
	return out, err
}

// PutChannel creates a channel (in ChannelOpening or ChannelOpen).
// Identical re-put is a no-op; different data is ErrExists.
func (l *Ledger) PutChannel(ctx context.Context, c Channel) (Channel, error) {
	var out Channel
	err := l.update(ctx, func(tx *Tx) (err error) { out, err = tx.PutChannel(c); return })
	return out, err
}

// Channel returns one channel, or ErrNotFound.
func (l *Ledger) Channel(ctx context.Context, id common.Hash) (Channel, error) {
	var out Channel
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.Channel(id); return })
	return out, err
}

// Channels lists channels of role (any if "") in any of states (all if none).
func (l *Ledger) Channels(ctx context.Context, role Role, states ...ChannelState) ([]Channel, error) {
	var out []Channel
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.Channels(role, states...); return })
	return out, err
}

// TransitionChannel is Transition for channels (state changes and field
// updates such as Deposit after a top-up: transition to the same state).
func (l *Ledger) TransitionChannel(ctx context.Context, id common.Hash, to ChannelState, mutate func(*Channel) error) (Channel, error) {
	var out Channel
	err := l.update(ctx, func(tx *Tx) (err error) { out, err = tx.TransitionChannel(id, to, mutate); return })
	return out, err
}

// UpdateChannel edits a channel's fields without changing its state (no
// Event), e.g. Deposit after a top-up seen on chain.
func (l *Ledger) UpdateChannel(ctx context.Context, id common.Hash, mutate func(*Channel) error) (Channel, error) {
	var out Channel
	err := l.update(ctx, func(tx *Tx) (err error) { out, err = tx.UpdateChannel(id, mutate); return })
	return out, err
}

// IssueVoucher (client side) reserves the next cumulative amount on channel
// chID for jobID (Promised + amount), calls sign with it, and stores the
// signed voucher as the channel's Latest, all in one fsynced transaction,
// before the caller sends it. Issuing again for the same jobID returns the
// voucher already issued (no double charge; ErrConflict if amount differs).
//
// # Errors
//
// ErrNotFound (no channel), ErrInvalid (not a client channel, bad amount),
// ErrBadTransition (channel not open), ErrInsufficientDeposit, ErrConflict,
// or sign's error (nothing reserved).
func (l *Ledger) IssueVoucher(ctx context.Context, chID common.Hash, jobID string, amount *big.Int, sign func(cumulative *big.Int) ([]byte, error)) (Voucher, error) {
	var out Voucher
	err := l.update(ctx, func(tx *Tx) (err error) { out, err = tx.IssueVoucher(chID, jobID, amount, sign); return })
	return out, err
}

// AcceptVoucher (provider side) stores v as the channel's highest voucher.
// The caller has checked the signature (contracts.VerifyVoucher).
//
// # Errors
//
// ErrNotFound (unknown channel: PutChannel it after checking the chain),
// ErrInvalid (not a provider channel, nil amount), ErrBadTransition
// (channel not open), ErrVoucherNotHigher (v.Cumulative <= the highest
// accepted; this includes a replay of the same voucher),
// ErrInsufficientDeposit (above the recorded deposit).
func (l *Ledger) AcceptVoucher(ctx context.Context, v Voucher) (Channel, error) {
	var out Channel
	err := l.update(ctx, func(tx *Tx) (err error) { out, err = tx.AcceptVoucher(v); return })
	return out, err
}

// Vouchers lists the vouchers stored for a channel, lowest first.
func (l *Ledger) Vouchers(ctx context.Context, chID common.Hash) ([]Voucher, error) {
	var out []Voucher
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.Vouchers(chID); return })
	return out, err
}

// RecordRedeemed notes that the chain has redeemed channel chID up to
// cumulative (monotonic: a lower value changes nothing), and moves the
// channel's provider jobs in JobVoucherHeld whose Voucher <= cumulative to
// JobRedeemed, in one transaction.
func (l *Ledger) RecordRedeemed(ctx context.Context, chID common.Hash, cumulative *big.Int, tx common.Hash) (Channel, error) {
	var out Channel
	err := l.update(ctx, func(t *Tx) (err error) { out, err = t.RecordRedeemed(chID, cumulative, tx); return })
	return out, err
}

// RecordAward remembers that the award identified by (jobID, nonce) was
// accepted; the second time it returns ErrDuplicate. Call it in the same
// Update as the provider job's transition to JobAwarded.
func (l *Ledger) RecordAward(ctx context.Context, jobID, nonce string) error {
	return l.update(ctx, func(tx *Tx) error { return tx.RecordAward(jobID, nonce) })
}

// MarkSeen is RecordAward for any replay-protected key: ErrDuplicate if
// (scope, key) was marked before.
func (l *Ledger) MarkSeen(ctx context.Context, scope, key string) error {
	return l.update(ctx, func(tx *Tx) error { return tx.MarkSeen(scope, key) })
}

// Seen reports whether MarkSeen/RecordAward saw (scope, key); awards use
// scope "award/"+jobID.
func (l *Ledger) Seen(ctx context.Context, scope, key string) (bool, error) {
	var out bool
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.Seen(scope, key); return })
	return out, err
}

// RecordPayment appends p to the payment log (idempotent by p.ID).
func (l *Ledger) RecordPayment(ctx context.Context, p Payment) error {
	return l.update(ctx, func(tx *Tx) error { return tx.RecordPayment(p) })
}

// Payments lists payments, oldest first; kinds filters (none: all), limit 0
// means no limit (the newest limit are returned).
func (l *Ledger) Payments(ctx context.Context, limit int, kinds ...PaymentKind) ([]Payment, error) {
	var out []Payment
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.Payments(limit, kinds...); return })
	return out, err
}

// Totals sums the payment log.
func (l *Ledger) Totals(ctx context.Context) (Totals, error) {
	var out Totals
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.Totals(); return })
	return out, err
}

// RecordOutcome records how provider did on jobID. Idempotent per
// (provider, jobID): recording again replaces that job's earlier outcome, so
// replays never double-count.
func (l *Ledger) RecordOutcome(ctx context.Context, provider common.Address, jobID string, o Outcome) (Rep, error) {
	var out Rep
	err := l.update(ctx, func(tx *Tx) (err error) { out, err = tx.RecordOutcome(provider, jobID, o); return })
	return out, err
}

// Reputation returns provider's record (zero counts if unknown).
func (l *Ledger) Reputation(ctx context.Context, provider common.Address) (Rep, error) {
	var out Rep
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.Reputation(provider); return })
	return out, err
}

// Reputations lists every provider with a record, best score first.
func (l *Ledger) Reputations(ctx context.Context) ([]Rep, error) {
	var out []Rep
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.Reputations(); return })
	return out, err
}

// History returns the events of a job (and its deals and vouchers) or of a
// deal/channel without a job (id = its hex ID), oldest first.
func (l *Ledger) History(ctx context.Context, id string) ([]Event, error) {
	var out []Event
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.History(id); return })
	return out, err
}

// Unfinished returns every job not in a terminal state, oldest first: what
// a restarted node must finish.
func (l *Ledger) Unfinished(ctx context.Context) ([]Job, error) {
	var out []Job
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.Unfinished(); return })
	return out, err
}

// Undelivered returns provider jobs whose result is stored but not yet sent
// (JobResultStored); their Result envelope is in Job.Result.
func (l *Ledger) Undelivered(ctx context.Context) ([]Job, error) {
	return l.Jobs(ctx, JobFilter{Role: RoleProvider, States: []JobState{JobResultStored}})
}

// DealsToClaim returns provider deals in DealSubmitted whose challenge
// window has ended at now.
func (l *Ledger) DealsToClaim(ctx context.Context, now time.Time) ([]Deal, error) {
	var out []Deal
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.DealsToClaim(now); return })
	return out, err
}

// DealsToRefund returns client deals still DealOpened after their deadline
// at now (no result submitted: the client can take its money back).
func (l *Ledger) DealsToRefund(ctx context.Context, now time.Time) ([]Deal, error) {
	var out []Deal
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.DealsToRefund(now); return })
	return out, err
}

// VouchersToRedeem returns provider channels (open or exiting) whose
// unredeemed amount is at least minAmount (nil: any positive amount), or
// whose oldest unredeemed voucher is at least maxAge old at now (0: ignore
// age), or which are exiting with anything unredeemed (redeem before the
// exit finishes).
func (l *Ledger) VouchersToRedeem(ctx context.Context, minAmount *big.Int, maxAge time.Duration, now time.Time) ([]Channel, error) {
	var out []Channel
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.VouchersToRedeem(minAmount, maxAge, now); return })
	return out, err
}

// Reconcile reads the chain facts of every non-terminal deal and channel
// through cv, applies the corrections (ReconcileDeal, ReconcileChannel) and
// returns them. A ChainView error for one record is returned joined with the
// others after the rest were processed.
func (l *Ledger) Reconcile(ctx context.Context, cv ChainView) ([]Correction, error) {
	return l.reconcile(ctx, cv)
}

func bigOr0(x *big.Int) *big.Int {
	if x == nil {
		return new(big.Int)
	}
	return x
}
