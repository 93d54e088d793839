package contracts_test

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/cloudless-network/cloudless/contracts"
)

// A client pays a provider per job with vouchers for the running total; the
// provider checks each one off chain and redeems only the latest.
func ExampleSignVoucher() {
	clientKey, _ := crypto.HexToECDSA("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
	client := crypto.PubkeyToAddress(clientKey.PublicKey)
	provider := common.HexToAddress("0x00000000000000000000000000000000000000b0")
	chainID, marketplace := big.NewInt(1337), common.HexToAddress("0x00000000000000000000000000000000000000c0")

	key := contracts.ChannelKey{Client: client, Provider: provider, Salt: common.Hash{1}}
	total := new(big.Int)
	var sig []byte
	for job := 0; job < 3; job++ {
		total.Add(total, big.NewInt(1_000_000_000)) // 1 gwei per job
		sig, _ = contracts.SignVoucher(clientKey, chainID, marketplace, key.ID(), total)
	}
	signer, err := contracts.VerifyVoucher(chainID, marketplace, key.ID(), total, sig)
	fmt.Println(signer == client, err, total)
	// Output: true <nil> 3000000000
}
