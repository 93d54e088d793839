package wire

import (
	"errors"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/libp2p/go-libp2p/core/crypto"
	pb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
)

// Decoder limits: a peer cannot make us build deep or wide structures even
// within the size cap.
const (
	maxNestedLevels  = 8
	maxArrayElements = 512
	maxMapPairs      = 256
)

var (
	encMode = mustEncMode()
	decMode = mustDecMode()
)

func mustEncMode() cbor.EncMode {
	m, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err) // static options; cannot fail
	}
	return m
}

func mustDecMode() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		MaxNestedLevels:   maxNestedLevels,
		MaxArrayElements:  maxArrayElements,
		MaxMapPairs:       maxMapPairs,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		UTF8:              cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err) // static options; cannot fail
	}
	return m
}

// Marshal encodes v as deterministic CBOR (RFC 8949 core deterministic).
func Marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// Unmarshal decodes CBOR with the package's limits: duplicate map keys,
// unknown fields, indefinite lengths, invalid UTF-8, nesting deeper than 8,
// arrays over 512 elements and maps over 256 pairs are errors (ErrMalformed).
func Unmarshal(data []byte, v any) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// Seal validates msg, sets its Version to the current Version when zero, and
// returns it as a serialized libp2p signed envelope.
//
// # Errors
//
// ErrKeyType when priv is not secp256k1; ErrSigner when msg names an author
// other than priv's peer; a Validate error; ErrTooLarge over MaxMessageSize.
func Seal(priv crypto.PrivKey, msg Message) ([]byte, error) {
	if priv == nil || priv.Type() != pb.KeyType_Secp256k1 {
		return nil, ErrKeyType
	}
	signer, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyType, err)
	}
	if v := msg.versionPtr(); *v == 0 {
		*v = Version
	}
	if err := msg.Validate(); err != nil {
		return nil, err
	}
	if a := msg.Author(); a != signer {
		return nil, fmt.Errorf("%w: message names %s, key is %s", ErrSigner, a, signer)
	}
	env, err := record.Seal(msg, priv)
	if err != nil {
		return nil, fmt.Errorf("wire: seal: %w", err)
	}
	b, err := env.Marshal()
	if err != nil {
		return nil, fmt.Errorf("wire: seal: %w", err)
	}
	if len(b) > MaxSize(msg.Type()) {
		return nil, fmt.Errorf("%w: %s is %d bytes, max %d", ErrTooLarge, msg.Type(), len(b), MaxSize(msg.Type()))
	}
	return b, nil
}

// MaxSize returns the size cap of a sealed message of type t.
func MaxSize(t Type) int {
	switch t {
	case TypeOffer:
		return MaxOfferSize
	case TypeJobRequest:
		return MaxJobSize
	case TypeMediationCase:
		return MaxCaseSize
	}
	return MaxMessageSize
}

// Open is OpenAt with the wall clock.
func Open(data []byte, maxSize int) (Message, peer.ID, error) {
	return OpenAt(data, maxSize, time.Now())
}

// OpenAt decodes and checks a sealed message, in order of cost: size (before
// anything else), envelope decoding, signer key type, payload type, signature,
// CBOR decoding, version, schema (Validate), author == signer, and expiry
// against now. It returns the message and its signer; the signer's Ethereum
// address is p2p.AddressOf(signer).
//
// # Errors
//
// ErrTooLarge, ErrMalformed, ErrKeyType, ErrUnknownType, ErrBadSignature,
// ErrVersion, ErrInvalid, ErrSigner, ErrExpired — each wrapped with details.
func OpenAt(data []byte, maxSize int, now time.Time) (Message, peer.ID, error) {
	if len(data) > maxSize {
		return nil, "", fmt.Errorf("%w: %d bytes, max %d", ErrTooLarge, len(data), maxSize)
	}
	env, err := unmarshalEnvelope(data)
	if err != nil {
		return nil, "", err
	}
	if env.PublicKey.Type() != pb.KeyType_Secp256k1 {
		return nil, "", fmt.Errorf("%w: %s", ErrKeyType, env.PublicKey.Type())
	}
	msg, err := newMessage(Type(env.PayloadType))
	if err != nil {
		return nil, "", err
	}
	if _, err := record.ConsumeTypedEnvelope(data, msg); err != nil {
		if errors.Is(err, record.ErrInvalidSignature) {
			return nil, "", fmt.Errorf("%w: %v", ErrBadSignature, err)
		}
		if errors.Is(err, ErrMalformed) {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	signer, err := peer.IDFromPublicKey(env.PublicKey)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrKeyType, err)
	}
	if v := *msg.versionPtr(); v < MinVersion || v > MaxVersion {
		return nil, "", fmt.Errorf("%w: %s version %d (supported %d..%d)", ErrVersion, msg.Type(), v, MinVersion, MaxVersion)
	}
	if err := msg.Validate(); err != nil {
		return nil, "", err
	}
	if a := msg.Author(); a != signer {
		return nil, "", fmt.Errorf("%w: %s names %s, signed by %s", ErrSigner, msg.Type(), a, signer)
	}
	if exp := msg.ExpiresAt(); exp != 0 && !now.Before(exp.Time()) {
		return nil, "", fmt.Errorf("%w: %s expired at %s", ErrExpired, msg.Type(), exp.Time().UTC().Format(time.RFC3339))
	}
	return msg, signer, nil
}

func unmarshalEnvelope(data []byte) (env *record.Envelope, err error) {
	defer func() {
		if r := recover(); r != nil { // never panic on peer input
			env, err = nil, fmt.Errorf("%w: envelope: %v", ErrMalformed, r)
		}
	}()
	env, err = record.UnmarshalEnvelope(data)
	if err != nil {
		return nil, fmt.Errorf("%w: envelope: %v", ErrMalformed, err)
	}
	return env, nil
}
