package contracts_test

import (
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/cloudless-network/cloudless/contracts"
)

// secp256k1N is the curve order; s above N/2 is the malleable twin.
var secp256k1N, _ = new(big.Int).SetString("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", 16)

// FuzzVerifyVoucher: the provider recovers the signer of a voucher that
// arrives in an Award (wire.Voucher: channel id, cumulative amount and 65
// signature bytes chosen by the peer). Properties: no panic on any
// signature bytes; errors wrap ErrInvalidSignature and are one line; a
// voucher signed by key k recovers k's address and nothing else recovers
// it for another amount, channel, chain or contract; the high-s twin of a
// valid signature (same signer, malleated) is refused as the contract's
// OpenZeppelin ECDSA does.
func FuzzVerifyVoucher(f *testing.F) {
	f.Add([]byte{1}, uint64(1337), []byte{0xaa}, []byte{9}, []byte{0x03, 0xe8}, make([]byte, 65), uint8(0))
	f.Add([]byte{2}, uint64(31337), []byte{0xbb}, []byte{8}, []byte{1}, []byte{}, uint8(1))
	f.Add([]byte{3}, uint64(1), []byte{}, []byte{}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, append(make([]byte, 64), 28), uint8(2))
	f.Add([]byte{4}, uint64(5), []byte{1}, []byte{2}, []byte{3}, make([]byte, 66), uint8(3))
	f.Fuzz(func(t *testing.T, keySeed []byte, chain uint64, contractB, channelB, cumB, rawSig []byte, mutate uint8) {
		if len(cumB) > 32 { // the wire refuses amounts over 256 bits
			cumB = cumB[:32]
		}
		chainID := new(big.Int).SetUint64(chain)
		contract := common.BytesToAddress(contractB)
		channel := common.BytesToHash(channelB)
		cum := new(big.Int).SetBytes(cumB)

		// Arbitrary signature bytes from a peer.
		if addr, err := contracts.VerifyVoucher(chainID, contract, channel, cum, rawSig); err != nil {
			checkSigErr(t, err)
		} else if addr == (common.Address{}) {
			t.Fatal("recovered the zero address without an error")
		}

		key, err := crypto.ToECDSA(crypto.Keccak256(keySeed))
		if err != nil {
			return // hash outside the curve order: astronomically rare
		}
		me := crypto.PubkeyToAddress(key.PublicKey)
		sig, err := contracts.SignVoucher(key, chainID, contract, channel, cum)
		if err != nil {
			t.Fatal(err)
		}
		got, err := contracts.VerifyVoucher(chainID, contract, channel, cum, sig)
		if err != nil || got != me {
			t.Fatalf("own voucher recovers %s, %v; want %s", got, err, me)
		}
		// Change one field: the signature must not recover our address.
		c2, ch2, cum2, chain2 := contract, channel, new(big.Int).Set(cum), new(big.Int).Set(chainID)
		switch mutate % 4 {
		case 0:
			cum2.Add(cum2, big.NewInt(1))
			if cum2.BitLen() > 256 {
				cum2.SetInt64(0)
			}
		case 1:
			ch2[0] ^= 1
		case 2:
			c2[19] ^= 1
		case 3:
			chain2.Add(chain2, big.NewInt(1))
		}
		if got, err := contracts.VerifyVoucher(chain2, c2, ch2, cum2, sig); err == nil && got == me {
			t.Fatalf("voucher for %s on channel %s verifies for %s on %s (mutation %d)", cum, channel, cum2, ch2, mutate%4)
		}
		// The malleated twin (s' = N - s, v flipped) is refused.
		twin := append([]byte(nil), sig...)
		s := new(big.Int).SetBytes(twin[32:64])
		new(big.Int).Sub(secp256k1N, s).FillBytes(twin[32:64])
		twin[64] ^= 1 // 27 <-> 28
		if got, err := contracts.VerifyVoucher(chainID, contract, channel, cum, twin); err == nil {
			t.Fatalf("high-s twin accepted, recovers %s", got)
		} else {
			checkSigErr(t, err)
		}
	})
}

func checkSigErr(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, contracts.ErrInvalidSignature) {
		t.Fatalf("error does not wrap ErrInvalidSignature: %v", err)
	}
	if strings.ContainsAny(err.Error(), "\n\r") {
		t.Fatalf("error is not one line: %q", err)
	}
}
