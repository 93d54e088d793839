package contracts

import (
	"crypto/ecdsa"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
)

// EIP-712 domain of the Marketplace contract: name "cloudless", version "1",
// the chain ID and the contract address (see Marketplace.sol's constructor).
const (
	DomainName    = "cloudless"
	DomainVersion = "1"
)

var (
	domainTypeHash  = crypto.Keccak256Hash([]byte("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"))
	voucherTypeHash = crypto.Keccak256Hash([]byte("Voucher(bytes32 channelId,uint256 cumulativeAmount)"))
	dealTypeHash    = crypto.Keccak256Hash([]byte("Deal(address client,address provider,address mediator,uint96 price,uint96 mediatorFee,uint96 collateral,uint40 deadline,uint40 challengeWindow,bytes32 jobHash)"))
)

// DealParams are the parameters of an escrow deal. They are not stored on
// chain: the deal id is their EIP-712 hash and every call passes them again,
// so the client and the provider keep them (the ledger does, and the
// DealOpened event carries all of them).
type DealParams struct {
	Client          common.Address
	Provider        common.Address
	Mediator        common.Address // zero: no mediator, no dispute
	Price           *big.Int       // wei, paid to the provider on success
	MediatorFee     *big.Int       // wei, nil or 0 without mediator
	Collateral      *big.Int       // wei locked from the provider's stake; needs the provider's signature
	Deadline        uint64         // unix seconds by which the result must be submitted
	ChallengeWindow uint64         // seconds after submission in which the client may dispute
	JobHash         common.Hash
}

func orZero(x *big.Int) *big.Int {
	if x == nil {
		return new(big.Int)
	}
	return x
}

// binding converts p to the generated ABI struct.
func (p DealParams) binding() MarketplaceDealParams {
	return MarketplaceDealParams{
		Client:          p.Client,
		Provider:        p.Provider,
		Mediator:        p.Mediator,
		Price:           orZero(p.Price),
		MediatorFee:     orZero(p.MediatorFee),
		Collateral:      orZero(p.Collateral),
		Deadline:        new(big.Int).SetUint64(p.Deadline),
		ChallengeWindow: new(big.Int).SetUint64(p.ChallengeWindow),
		JobHash:         p.JobHash,
	}
}

// Value is the ether openDeal must carry: price + mediator fee.
func (p DealParams) Value() *big.Int {
	return new(big.Int).Add(orZero(p.Price), orZero(p.MediatorFee))
}

func word(x *big.Int) []byte { return math.U256Bytes(new(big.Int).Set(x)) }

func domainSeparator(chainID *big.Int, contract common.Address) common.Hash {
	return crypto.Keccak256Hash(
		domainTypeHash[:],
		crypto.Keccak256([]byte(DomainName)),
		crypto.Keccak256([]byte(DomainVersion)),
		word(chainID),
		common.LeftPadBytes(contract[:], 32),
	)
}

func typedDigest(chainID *big.Int, contract common.Address, structHash []byte) common.Hash {
	ds := domainSeparator(chainID, contract)
	return crypto.Keccak256Hash([]byte{0x19, 0x01}, ds[:], structHash)
}

// VoucherDigest is the EIP-712 digest of Voucher{channelId, cumulativeAmount}
// that the client signs; equal to the contract's voucherDigest view.
func VoucherDigest(chainID *big.Int, contract common.Address, channelID common.Hash, cumulative *big.Int) common.Hash {
	sh := crypto.Keccak256(voucherTypeHash[:], channelID[:], word(cumulative))
	return typedDigest(chainID, contract, sh)
}

// DealID is the id of a deal: the EIP-712 digest of its parameters; equal
// to the contract's dealId view. The provider signs it to consent to a
// collateral lock.
func DealID(chainID *big.Int, contract common.Address, p DealParams) common.Hash {
	sh := crypto.Keccak256(
		dealTypeHash[:],
		common.LeftPadBytes(p.Client[:], 32),
		common.LeftPadBytes(p.Provider[:], 32),
		common.LeftPadBytes(p.Mediator[:], 32),
		word(orZero(p.Price)),
		word(orZero(p.MediatorFee)),
		word(orZero(p.Collateral)),
		word(new(big.Int).SetUint64(p.Deadline)),
		word(new(big.Int).SetUint64(p.ChallengeWindow)),
		p.JobHash[:],
	)
	return typedDigest(chainID, contract, sh)
}

// ChannelID is the id of the channel client opens to provider with salt;
// equal to the contract's channelId view.
func ChannelID(client, provider common.Address, salt common.Hash) common.Hash {
	return crypto.Keccak256Hash(common.LeftPadBytes(client[:], 32), common.LeftPadBytes(provider[:], 32), salt[:])
}

func sign(key *ecdsa.PrivateKey, digest common.Hash) ([]byte, error) {
	sig, err := crypto.Sign(digest[:], key)
	if err != nil {
		return nil, err
	}
	sig[64] += 27 // the contract (OpenZeppelin ECDSA) expects v in {27, 28}
	return sig, nil
}

func recoverSigner(digest common.Hash, sig []byte) (common.Address, error) {
	if len(sig) != crypto.SignatureLength {
		return common.Address{}, fmt.Errorf("%w: %d bytes, want 65", ErrInvalidSignature, len(sig))
	}
	s := make([]byte, len(sig))
	copy(s, sig)
	if s[64] >= 27 {
		s[64] -= 27
	}
	// Reject high-s signatures as OpenZeppelin's ECDSA does.
	if !crypto.ValidateSignatureValues(s[64], new(big.Int).SetBytes(s[:32]), new(big.Int).SetBytes(s[32:64]), true) {
		return common.Address{}, fmt.Errorf("%w: invalid r, s or v", ErrInvalidSignature)
	}
	pub, err := crypto.SigToPub(digest[:], s)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %v", ErrInvalidSignature, err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}

// SignVoucher signs a voucher for the cumulative amount paid on a channel.
// The signature is 65 bytes r||s||v with v in {27, 28}.
func SignVoucher(key *ecdsa.PrivateKey, chainID *big.Int, contract common.Address, channelID common.Hash, cumulative *big.Int) ([]byte, error) {
	return sign(key, VoucherDigest(chainID, contract, channelID, cumulative))
}

// VerifyVoucher returns the address that signed the voucher. The caller
// compares it with the channel's client.
//
// # Errors
//
// ErrInvalidSignature when sig is malformed.
func VerifyVoucher(chainID *big.Int, contract common.Address, channelID common.Hash, cumulative *big.Int, sig []byte) (common.Address, error) {
	return recoverSigner(VoucherDigest(chainID, contract, channelID, cumulative), sig)
}

// SignDeal is the provider's consent to a deal: its signature over the deal id.
func SignDeal(key *ecdsa.PrivateKey, chainID *big.Int, contract common.Address, p DealParams) ([]byte, error) {
	return sign(key, DealID(chainID, contract, p))
}

// VerifyDeal returns the address that signed the deal id.
func VerifyDeal(chainID *big.Int, contract common.Address, p DealParams, sig []byte) (common.Address, error) {
	return recoverSigner(DealID(chainID, contract, p), sig)
}
