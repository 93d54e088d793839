package wire

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
)

// Version is the wire version this package writes. Open accepts messages with
// MinVersion <= Version <= MaxVersion.
const (
	Version    uint16 = 1
	MinVersion uint16 = 1
	MaxVersion uint16 = 1
)

// Topics and stream protocol of the market (see docs/protocol.md).
const (
	TopicOffers    = "/cloudless/offers/1"
	TopicJobs      = "/cloudless/jobs/1"
	MarketProtocol = "/cloudless/market/1.0.0"
	// Runtime is the only runtime an Offer may name today.
	Runtime = "wasi_snapshot_preview1"
)

// Size limits. A sealed message larger than its cap is refused before it is
// decoded.
const (
	MaxOfferSize   = 8 << 10  // sealed Offer
	MaxJobSize     = 64 << 10 // sealed JobRequest
	MaxMessageSize = 64 << 10 // any sealed message (Bid, Award, Result, Cancel)

	MaxArgs        = 256
	MaxArgLen      = 4096
	MaxEnv         = 128
	MaxEnvLen      = 4096 // key + value
	MaxInputs      = 64
	MaxPathLen     = 1024
	MaxCIDLen      = 256
	MaxTiers       = 16
	MaxAddrs       = 16
	MaxAddrLen     = 256
	MaxTextLen     = 1024 // Result.Error, Cancel.Reason
	MaxInline      = 256  // files in Result.Inline
	MaxRedundancy  = 16
	MaxSignatureLn = 128
)

// Sentinel errors. Every failure of Open, ParseJobSpec and Validate wraps one of
// them, so callers (and gossip validators) can tell why a message was refused.
var (
	// ErrTooLarge: the encoded message exceeds the size cap (checked first).
	ErrTooLarge = errors.New("wire: message too large")
	// ErrMalformed: the envelope or its CBOR payload does not decode.
	ErrMalformed = errors.New("wire: malformed message")
	// ErrUnknownType: the envelope's payload type is not a cloudless message.
	ErrUnknownType = errors.New("wire: unknown message type")
	// ErrBadSignature: the envelope signature does not verify.
	ErrBadSignature = errors.New("wire: bad signature")
	// ErrKeyType: the signer key is not secp256k1 (no Ethereum address).
	ErrKeyType = errors.New("wire: signer key is not secp256k1")
	// ErrVersion: the message version is outside [MinVersion, MaxVersion].
	ErrVersion = errors.New("wire: unsupported version")
	// ErrExpired: the message's expiry is at or before the clock.
	ErrExpired = errors.New("wire: message expired")
	// ErrSigner: the signer is not the peer the message claims as author.
	ErrSigner = errors.New("wire: signer does not match author")
	// ErrInvalid: a schema rule failed (see the wrapped text).
	ErrInvalid = errors.New("wire: invalid message")
	// ErrBadSize, ErrBadDuration, ErrBadAmount: unit text did not parse.
	ErrBadSize     = errors.New("wire: bad size")
	ErrBadDuration = errors.New("wire: bad duration")
	ErrBadAmount   = errors.New("wire: bad amount")
	// ErrBadSpec: a job spec did not parse (unknown key, wrong type, trailing data).
	ErrBadSpec = errors.New("wire: bad job spec")
)

// Domain is the libp2p signed-envelope domain of every cloudless market
// message; a signature made for another domain does not verify here.
const Domain = "cloudless-market"

// Type names a message kind. It is the envelope's payload type.
type Type string

// Message types.
const (
	TypeOffer      Type = "/cloudless/wire/offer"
	TypeJobRequest Type = "/cloudless/wire/job"
	TypeBid        Type = "/cloudless/wire/bid"
	TypeAward      Type = "/cloudless/wire/award"
	TypeResult     Type = "/cloudless/wire/result"
	TypeCancel     Type = "/cloudless/wire/cancel"
)

// Message is one of *Offer, *JobRequest, *Bid, *Award, *Result, *Cancel,
// *MediationCase, *MediationReply (mediate.go).
// Each is a record.Record so it can be sealed in a libp2p signed envelope.
type Message interface {
	record.Record
	// Type returns the message kind.
	Type() Type
	// Validate checks the schema rules that need no clock and no signer.
	Validate() error
	// ExpiresAt returns the expiry, or zero when the message has none.
	ExpiresAt() Timestamp
	// Author returns the peer the message names as its author; Open checks
	// that the signer is that peer. Empty when the message names none.
	Author() peer.ID

	versionPtr() *uint16
}

// JobID identifies a job: 32 random bytes chosen by the client. Peers key
// jobs by (client, JobID); a JobRequest's signer is its client.
type JobID [32]byte

// NewJobID returns a random JobID.
func NewJobID() JobID {
	var id JobID
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails (Go 1.24+)
	return id
}

// String returns the ID in lower-case hex.
func (id JobID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether the ID is unset.
func (id JobID) IsZero() bool { return id == JobID{} }

// ParseJobID parses 64 hex characters.
func ParseJobID(s string) (JobID, error) {
	var id JobID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("%w: job id %q", ErrInvalid, s)
	}
	copy(id[:], b)
	return id, nil
}

// MarshalText implements encoding.TextMarshaler (JSON, logs).
func (id JobID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *JobID) UnmarshalText(b []byte) error {
	v, err := ParseJobID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// PayMode is how a client pays for a job.
type PayMode string

// Pay modes.
const (
	PayEscrow  PayMode = "escrow"
	PayChannel PayMode = "channel"
)

// TierPrice is the per-second price for jobs whose memory limit is at most
// MaxMemory.
type TierPrice struct {
	MaxMemory Size     `cbor:"mem" json:"max_memory"`
	PerSecond *big.Int `cbor:"ps" json:"per_second"`
}

// PriceSchedule is a provider's price: PerJob plus PerSecond of the smallest
// tier whose MaxMemory covers the job's memory limit, times the job's
// seconds. Amounts are wei.
type PriceSchedule struct {
	PerJob *big.Int    `cbor:"job" json:"per_job"`
	Tiers  []TierPrice `cbor:"tiers" json:"tiers"`
}

// Offer is a provider's signed capacity announcement, gossiped on
// TopicOffers. A later Offer from the same provider with a higher Seq
// supersedes the earlier one.
type Offer struct {
	Version       uint16         `cbor:"v" json:"v"`
	Provider      peer.ID        `cbor:"provider" json:"provider"`
	Seq           uint64         `cbor:"seq" json:"seq"`
	CPUMillicores uint32         `cbor:"cpu" json:"cpu_millicores"`
	Slots         uint32         `cbor:"slots" json:"slots"`
	Memory        Size           `cbor:"mem" json:"memory"`
	MaxDuration   Duration       `cbor:"maxdur" json:"max_duration"`
	Runtime       string         `cbor:"rt" json:"runtime"`
	Price         PriceSchedule  `cbor:"price" json:"price"`
	Payout        common.Address `cbor:"payout" json:"payout"`
	Stake         *big.Int       `cbor:"stake" json:"stake"`
	MaxModuleSize Size           `cbor:"maxmod" json:"max_module_size"`
	Addrs         []string       `cbor:"addrs,omitempty" json:"addrs,omitempty"`
	Expiry        Timestamp      `cbor:"exp" json:"expiry"`
}

// JobRequest is a client's signed request for bids, gossiped on TopicJobs or
// sent directly to providers. Its signer is the client.
type JobRequest struct {
	Version     uint16         `cbor:"v" json:"v"`
	ID          JobID          `cbor:"id" json:"id"`
	Client      peer.ID        `cbor:"client" json:"client"`
	ClientAddr  common.Address `cbor:"caddr" json:"client_address"`
	Spec        JobSpec        `cbor:"spec" json:"spec"`
	BidDeadline Timestamp      `cbor:"biddl" json:"bid_deadline"`
	PayMode     PayMode        `cbor:"pay" json:"pay_mode"`
	Expiry      Timestamp      `cbor:"exp" json:"expiry"`
}

// Bid is a provider's signed price for a job, sent on MarketProtocol.
type Bid struct {
	Version       uint16    `cbor:"v" json:"v"`
	JobID         JobID     `cbor:"job" json:"job_id"`
	Provider      peer.ID   `cbor:"provider" json:"provider"`
	Price         *big.Int  `cbor:"price" json:"price"`
	ExpectedStart Duration  `cbor:"start" json:"expected_start"`
	Expiry        Timestamp `cbor:"exp" json:"expiry"`
	Nonce         uint64    `cbor:"nonce" json:"nonce"`
}

// Voucher is an off-chain payment-channel voucher for a cumulative amount;
// Signature is the client's EIP-712 signature over it (see contracts).
type Voucher struct {
	ChannelID  common.Hash `cbor:"ch" json:"channel_id"`
	Cumulative *big.Int    `cbor:"cum" json:"cumulative"`
	Signature  []byte      `cbor:"sig" json:"signature"`
}

// Award is the client's signed choice of a provider for a job, with the
// payment reference: an escrow deal ID (PayEscrow) or a voucher (PayChannel).
type Award struct {
	Version  uint16      `cbor:"v" json:"v"`
	JobID    JobID       `cbor:"job" json:"job_id"`
	Client   peer.ID     `cbor:"client" json:"client"`
	Provider peer.ID     `cbor:"provider" json:"provider"`
	Price    *big.Int    `cbor:"price" json:"price"`
	PayMode  PayMode     `cbor:"pay" json:"pay_mode"`
	DealID   common.Hash `cbor:"deal,omitempty" json:"deal_id,omitempty"`
	Voucher  *Voucher    `cbor:"voucher,omitempty" json:"voucher,omitempty"`
	Expiry   Timestamp   `cbor:"exp" json:"expiry"`
	// Request, when set, makes this a direct award: the job's request
	// itself, awarded without a bid at the price the provider's signed
	// offer quotes for it (a client that already pays the provider on a
	// channel skips the bid round trip). The provider admits the request
	// as it would for a bid and refuses the award, with a reason, when it
	// would not bid at that price; the client then asks for bids. Channel
	// awards only (docs/protocol.md, "Direct awards").
	Request *JobRequest `cbor:"req,omitempty" json:"request,omitempty"`
}

// Usage is what a job consumed.
type Usage struct {
	Wall        Duration `cbor:"wall" json:"wall"`
	PeakMemory  Size     `cbor:"mem" json:"peak_memory"`
	OutputBytes Size     `cbor:"out" json:"output_bytes"`
}

// Result is a provider's signed outcome of a job.
type Result struct {
	Version    uint16   `cbor:"v" json:"v"`
	JobID      JobID    `cbor:"job" json:"job_id"`
	Provider   peer.ID  `cbor:"provider" json:"provider"`
	ResultCID  string   `cbor:"cid,omitempty" json:"result_cid,omitempty"`
	ExitCode   int32    `cbor:"exit" json:"exit_code"`
	Usage      Usage    `cbor:"usage" json:"usage"`
	OutputHash [32]byte `cbor:"hash" json:"output_hash"`
	Error      string   `cbor:"err,omitempty" json:"error,omitempty"`
	// Inline, when set, is the whole output directory (stdout, stderr and
	// every file under out/) of a small result, so that the client need
	// not fetch ResultCID: it checks OutputHash over these bytes instead.
	// Nil means "fetch ResultCID". The provider still stores and pins
	// ResultCID. See docs/rationale/market-speed.md.
	Inline []InlineFile `cbor:"inline,omitempty" json:"inline,omitempty"`
}

// InlineFile is one file of an inline result. Path is "stdout", "stderr"
// or "out/" followed by a clean relative slash path.
type InlineFile struct {
	Path string `cbor:"path" json:"path"`
	Data []byte `cbor:"data" json:"data"`
}

// Cancel withdraws a job (sent by its client) or a bid/award (sent by the
// provider). Sender is the signer.
type Cancel struct {
	Version uint16    `cbor:"v" json:"v"`
	JobID   JobID     `cbor:"job" json:"job_id"`
	Sender  peer.ID   `cbor:"sender" json:"sender"`
	Reason  string    `cbor:"reason,omitempty" json:"reason,omitempty"`
	Expiry  Timestamp `cbor:"exp,omitempty" json:"expiry,omitempty"`
}

// Compile-time checks that every message is a Message.
var (
	_ Message = (*Offer)(nil)
	_ Message = (*JobRequest)(nil)
	_ Message = (*Bid)(nil)
	_ Message = (*Award)(nil)
	_ Message = (*Result)(nil)
	_ Message = (*Cancel)(nil)
)

func (m *Offer) Type() Type      { return TypeOffer }
func (m *JobRequest) Type() Type { return TypeJobRequest }
func (m *Bid) Type() Type        { return TypeBid }
func (m *Award) Type() Type      { return TypeAward }
func (m *Result) Type() Type     { return TypeResult }
func (m *Cancel) Type() Type     { return TypeCancel }

func (m *Offer) ExpiresAt() Timestamp      { return m.Expiry }
func (m *JobRequest) ExpiresAt() Timestamp { return m.Expiry }
func (m *Bid) ExpiresAt() Timestamp        { return m.Expiry }
func (m *Award) ExpiresAt() Timestamp      { return m.Expiry }
func (m *Result) ExpiresAt() Timestamp     { return 0 }
func (m *Cancel) ExpiresAt() Timestamp     { return m.Expiry }

func (m *Offer) Author() peer.ID      { return m.Provider }
func (m *JobRequest) Author() peer.ID { return m.Client }
func (m *Bid) Author() peer.ID        { return m.Provider }
func (m *Award) Author() peer.ID      { return m.Client }
func (m *Result) Author() peer.ID     { return m.Provider }
func (m *Cancel) Author() peer.ID     { return m.Sender }

func (m *Offer) versionPtr() *uint16      { return &m.Version }
func (m *JobRequest) versionPtr() *uint16 { return &m.Version }
func (m *Bid) versionPtr() *uint16        { return &m.Version }
func (m *Award) versionPtr() *uint16      { return &m.Version }
func (m *Result) versionPtr() *uint16     { return &m.Version }
func (m *Cancel) versionPtr() *uint16     { return &m.Version }

// record.Record implementation: one domain, payload type = Type.

func (m *Offer) Domain() string      { return Domain }
func (m *JobRequest) Domain() string { return Domain }
func (m *Bid) Domain() string        { return Domain }
func (m *Award) Domain() string      { return Domain }
func (m *Result) Domain() string     { return Domain }
func (m *Cancel) Domain() string     { return Domain }

func (m *Offer) Codec() []byte      { return []byte(TypeOffer) }
func (m *JobRequest) Codec() []byte { return []byte(TypeJobRequest) }
func (m *Bid) Codec() []byte        { return []byte(TypeBid) }
func (m *Award) Codec() []byte      { return []byte(TypeAward) }
func (m *Result) Codec() []byte     { return []byte(TypeResult) }
func (m *Cancel) Codec() []byte     { return []byte(TypeCancel) }

func (m *Offer) MarshalRecord() ([]byte, error)      { return Marshal(m) }
func (m *JobRequest) MarshalRecord() ([]byte, error) { return Marshal(m) }
func (m *Bid) MarshalRecord() ([]byte, error)        { return Marshal(m) }
func (m *Award) MarshalRecord() ([]byte, error)      { return Marshal(m) }
func (m *Result) MarshalRecord() ([]byte, error)     { return Marshal(m) }
func (m *Cancel) MarshalRecord() ([]byte, error)     { return Marshal(m) }

func (m *Offer) UnmarshalRecord(b []byte) error      { return Unmarshal(b, m) }
func (m *JobRequest) UnmarshalRecord(b []byte) error { return Unmarshal(b, m) }
func (m *Bid) UnmarshalRecord(b []byte) error        { return Unmarshal(b, m) }
func (m *Award) UnmarshalRecord(b []byte) error      { return Unmarshal(b, m) }
func (m *Result) UnmarshalRecord(b []byte) error     { return Unmarshal(b, m) }
func (m *Cancel) UnmarshalRecord(b []byte) error     { return Unmarshal(b, m) }

// newMessage returns an empty message for a payload type.
func newMessage(t Type) (Message, error) {
	switch t {
	case TypeOffer:
		return new(Offer), nil
	case TypeJobRequest:
		return new(JobRequest), nil
	case TypeBid:
		return new(Bid), nil
	case TypeAward:
		return new(Award), nil
	case TypeResult:
		return new(Result), nil
	case TypeCancel:
		return new(Cancel), nil
	case TypeMediationCase:
		return new(MediationCase), nil
	case TypeMediationReply:
		return new(MediationReply), nil
	}
	return nil, fmt.Errorf("%w: %.64q", ErrUnknownType, string(t))
}
