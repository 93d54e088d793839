// Package contracts is cloudless's settlement on Ethereum: the Solidity
// Marketplace contract (src/Marketplace.sol), its compiled artifacts
// (artifacts/), the Go bindings generated from them with go-ethereum's abigen
// (marketplace_bind.go, DO NOT EDIT) and a settlement Client that the market
// uses.
//
// The contract pays in native ether, two ways:
//
//   - an escrow deal per job: the client locks the price (OpenDeal), the
//     provider commits to a result (SubmitResult), the client accepts or the
//     provider claims after the challenge window, the client is refunded (plus
//     the provider's collateral) when no result came by the deadline, and a
//     dispute goes to the deal's mediator (Dispute, Resolve, ExpireDispute);
//   - a payment channel per client–provider pair: one deposit (OpenChannel,
//     TopUp), then an EIP-712 voucher per job for the cumulative amount
//     (SignVoucher, VerifyVoucher), redeemed by the provider whenever it likes
//     (Redeem, RedeemMany); the client leaves with StartExit and FinishExit.
//
// Every payout is a credit the owner takes with Withdraw (pull payments).
//
// A client:
//
//	c, err := contracts.Dial(ctx, "http://127.0.0.1:8545", contractAddr, key)
//	p := contracts.DealParams{Client: c.Address(), Provider: prov, Price: price,
//		Deadline: uint64(time.Now().Add(time.Hour).Unix()), ChallengeWindow: 600, JobHash: jobHash}
//	id, _, err := c.OpenDeal(ctx, p, nil)
//	...
//	_, err = c.Accept(ctx, p)
//	if errors.Is(err, contracts.ErrBadDealState) { ... }
//
// Sends estimate gas (refusing above WithGasCap), sign with the client's key
// with nonces handed out under a mutex (safe for concurrent use), wait for
// the receipt (WithReceiptTimeout) and turn reverts into *RevertError values
// that unwrap to the sentinel errors (ErrTooEarly, ErrVoucherTooLow, ...).
//
// Subpackage devnet runs go-ethereum's dev-mode chain in process with the
// contract deployed (`cloudless devnet`).
//
// Regenerate artifacts and bindings with `make contracts`; CI runs
// `make contracts-check`. The contract, its flows and security notes are in
// docs/contracts.md; the gas figures in docs/benchmarks/contracts.md.
package contracts
