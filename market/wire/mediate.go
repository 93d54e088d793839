package wire

import (
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Mediation: a party of a disputed escrow deal hands the case to the
// deal's mediator, which re-runs the deterministic job and rules on chain
// (docs/protocol.md "Mediation", docs/rationale/disputes.md).

// MediateProtocol is the stream protocol a mediating node serves: one
// sealed MediationCase in, one sealed MediationReply (or a one-line
// error) out, framed as on MarketProtocol. It is its own protocol, not a
// MarketProtocol message, so that a case can be larger than the market's
// 64 KiB cap (it carries a whole job spec) and so that only nodes that
// mediate answer it.
const MediateProtocol = "/cloudless/mediate/1.0.0"

// Mediation message types.
const (
	TypeMediationCase  Type = "/cloudless/wire/mediate"
	TypeMediationReply Type = "/cloudless/wire/mediate-reply"
)

// MaxCaseSize caps a sealed MediationCase: a JobRequest's cap plus room
// for the deal terms, so every job whose request fitted can be mediated.
const MaxCaseSize = MaxJobSize + 4<<10

// maxDealAmountBits: the contract stores price, fee and collateral as
// uint96.
const maxDealAmountBits = 96

// DealTerms are an escrow deal's parameters exactly as opened on chain
// (contracts.DealParams; wire does not import contracts). The deal ID is
// their hash under the chain ID and contract address.
type DealTerms struct {
	Client          common.Address `cbor:"client" json:"client"`
	Provider        common.Address `cbor:"provider" json:"provider"`
	Mediator        common.Address `cbor:"mediator" json:"mediator"`
	Price           *big.Int       `cbor:"price" json:"price"`
	MediatorFee     *big.Int       `cbor:"fee,omitempty" json:"mediator_fee,omitempty"`
	Collateral      *big.Int       `cbor:"coll,omitempty" json:"collateral,omitempty"`
	Deadline        uint64         `cbor:"dl" json:"deadline"`
	ChallengeWindow uint64         `cbor:"window" json:"challenge_window"`
	JobHash         common.Hash    `cbor:"jobhash" json:"job_hash"`
}

// MediationCase asks a deal's mediator to rule on a disputed escrow
// deal. Either party may bring it (Sender is the deal's client or
// provider, as the mediator checks against the deal's addresses): the
// client after disputing, the provider because a client that disputes
// and never brings the case would get price and fee back when the
// dispute expires. The mediator checks JobHash(JobID, CBOR of Spec) ==
// Deal.JobHash, so only the job that was paid for can be re-run.
// Expiry and Nonce keep a captured case from being replayed later; a
// replay within its expiry changes nothing (a deal is ruled once).
type MediationCase struct {
	Version uint16      `cbor:"v" json:"v"`
	Sender  peer.ID     `cbor:"sender" json:"sender"`
	Deal    DealTerms   `cbor:"deal" json:"deal"`
	DealID  common.Hash `cbor:"dealid" json:"deal_id"`
	JobID   JobID       `cbor:"job" json:"job_id"`
	Spec    JobSpec     `cbor:"spec" json:"spec"`
	Expiry  Timestamp   `cbor:"exp" json:"expiry"`
	Nonce   uint64      `cbor:"nonce" json:"nonce"`
}

// MediationStatus is a mediator's answer to a case.
type MediationStatus string

// Mediation statuses.
const (
	// MediationAccepted: the case checked out; the mediator is re-running
	// the job (or already was) and will rule on chain.
	MediationAccepted MediationStatus = "accepted"
	// MediationRuled: the mediator has ruled (ForProvider, Tx).
	MediationRuled MediationStatus = "ruled"
	// MediationRefused: the case was refused; Reason says why in one line.
	MediationRefused MediationStatus = "refused"
)

// MediationReply is the mediator's signed answer to a MediationCase.
type MediationReply struct {
	Version  uint16          `cbor:"v" json:"v"`
	Mediator peer.ID         `cbor:"mediator" json:"mediator"`
	DealID   common.Hash     `cbor:"dealid" json:"deal_id"`
	Nonce    uint64          `cbor:"nonce" json:"nonce"` // the case's
	Status   MediationStatus `cbor:"status" json:"status"`
	// ForProvider and Tx are set when Status is ruled.
	ForProvider bool        `cbor:"forprov,omitempty" json:"for_provider,omitempty"`
	Tx          common.Hash `cbor:"tx" json:"tx"`
	Reason      string      `cbor:"reason,omitempty" json:"reason,omitempty"`
}

var (
	_ Message = (*MediationCase)(nil)
	_ Message = (*MediationReply)(nil)
)

func (m *MediationCase) Type() Type                      { return TypeMediationCase }
func (m *MediationCase) ExpiresAt() Timestamp            { return m.Expiry }
func (m *MediationCase) Author() peer.ID                 { return m.Sender }
func (m *MediationCase) versionPtr() *uint16             { return &m.Version }
func (m *MediationCase) Domain() string                  { return Domain }
func (m *MediationCase) Codec() []byte                   { return []byte(TypeMediationCase) }
func (m *MediationCase) MarshalRecord() ([]byte, error)  { return Marshal(m) }
func (m *MediationCase) UnmarshalRecord(b []byte) error  { return Unmarshal(b, m) }
func (m *MediationReply) Type() Type                     { return TypeMediationReply }
func (m *MediationReply) ExpiresAt() Timestamp           { return 0 }
func (m *MediationReply) Author() peer.ID                { return m.Mediator }
func (m *MediationReply) versionPtr() *uint16            { return &m.Version }
func (m *MediationReply) Domain() string                 { return Domain }
func (m *MediationReply) Codec() []byte                  { return []byte(TypeMediationReply) }
func (m *MediationReply) MarshalRecord() ([]byte, error) { return Marshal(m) }
func (m *MediationReply) UnmarshalRecord(b []byte) error { return Unmarshal(b, m) }

// checkDealAmount: 0 <= v < 2^96 (or > 0 when !zeroOK).
func checkDealAmount(field string, v *big.Int, zeroOK bool) error {
	if err := checkWei(field, v, zeroOK); err != nil {
		return err
	}
	if v != nil && v.BitLen() > maxDealAmountBits {
		return invalid("%s: amount exceeds the contract's 96 bits", field)
	}
	return nil
}

// Validate checks a deal's terms: three distinct non-zero parties, a
// positive price, amounts that fit the contract, a job hash.
func (d *DealTerms) Validate() error {
	zero := common.Address{}
	switch {
	case d.Client == zero || d.Provider == zero || d.Mediator == zero:
		return invalid("deal: client, provider and mediator must be set")
	case d.Client == d.Provider || d.Mediator == d.Client || d.Mediator == d.Provider:
		return invalid("deal: client, provider and mediator must differ")
	case d.JobHash == common.Hash{}:
		return invalid("deal: missing job hash")
	case d.Deadline == 0:
		return invalid("deal: missing deadline")
	}
	if err := checkDealAmount("deal.price", d.Price, false); err != nil {
		return err
	}
	if err := checkDealAmount("deal.fee", d.MediatorFee, true); err != nil {
		return err
	}
	return checkDealAmount("deal.collateral", d.Collateral, true)
}

// Validate checks a MediationCase's schema. Whether the sender is a party
// of the deal, the deal ID and job hash match and the job is
// deterministic are the mediator's checks (each refused with its own
// reason), not schema rules.
func (m *MediationCase) Validate() error {
	if err := checkPeer("sender", m.Sender); err != nil {
		return err
	}
	if err := m.Deal.Validate(); err != nil {
		return err
	}
	if m.DealID == (common.Hash{}) {
		return invalid("case: missing deal id")
	}
	if m.JobID.IsZero() {
		return invalid("case: missing job id")
	}
	if err := m.Spec.Validate(); err != nil {
		return err
	}
	if m.Expiry <= 0 {
		return invalid("case: missing expiry")
	}
	return nil
}

// Validate checks a MediationReply's schema: a known status, a one-line
// reason of at most MaxTextLen bytes, a ruling's transaction.
func (m *MediationReply) Validate() error {
	if err := checkPeer("mediator", m.Mediator); err != nil {
		return err
	}
	if m.DealID == (common.Hash{}) {
		return invalid("reply: missing deal id")
	}
	switch m.Status {
	case MediationAccepted, MediationRefused:
	case MediationRuled:
		if m.Tx == (common.Hash{}) {
			return invalid("reply: a ruling names its transaction")
		}
	default:
		return invalid("reply: status %.32q: want accepted, ruled or refused", string(m.Status))
	}
	if strings.ContainsAny(m.Reason, "\r\n") {
		return invalid("reply: reason is more than one line")
	}
	return checkText("reason", m.Reason, MaxTextLen)
}
