package wire_test

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"time"

	"github.com/cloudless-network/cloudless/market/wire"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A provider seals a bid; the client opens it and learns who signed it.
func ExampleSeal() {
	priv, _, _ := crypto.GenerateSecp256k1Key(rand.Reader)
	provider, _ := peer.IDFromPrivateKey(priv)

	bid := &wire.Bid{
		JobID:    wire.NewJobID(),
		Provider: provider,
		Price:    big.NewInt(250_000_000_000_000), // wei
		Expiry:   wire.TimestampOf(time.Now().Add(time.Minute)),
	}
	data, err := wire.Seal(priv, bid)
	if err != nil {
		panic(err)
	}

	msg, signer, err := wire.Open(data, wire.MaxMessageSize)
	if err != nil {
		panic(err)
	}
	got := msg.(*wire.Bid)
	fmt.Println(signer == provider, got.Price, got.Version)
	// Output: true 250000000000000 1
}

// Users write job specs in YAML (or JSON); unknown keys are refused.
func ExampleParseJobSpec() {
	spec, err := wire.ParseJobSpec([]byte(`
module: bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku
resources: {memory: 64MiB, timeout: 2s}
price: {max: "0.001 ether"}
`))
	if err != nil {
		panic(err)
	}
	fmt.Println(spec.Resources.Memory, spec.Resources.Timeout, spec.Resources.MaxOutput, spec.Price.Max)
	// Output: 64MiB 2s 64MiB 1000000000000000
}
