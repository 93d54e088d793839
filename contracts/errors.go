package contracts

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// Errors decoded from the contract's custom errors. A failed send returns a
// *RevertError that unwraps to one of these, so callers test with errors.Is.
var (
	ErrZeroAmount        = errors.New("contracts: zero amount")                             // stake, requestUnstake, openChannel, topUp with nothing
	ErrBadValue          = errors.New("contracts: value differs from price + mediator fee") // openDeal
	ErrBadParams         = errors.New("contracts: invalid deal or channel parameters")      // openDeal, openChannel
	ErrNotClient         = errors.New("contracts: sender is not the client")
	ErrNotProvider       = errors.New("contracts: sender is not the provider")
	ErrNotMediator       = errors.New("contracts: sender is not the mediator")
	ErrNotParty          = errors.New("contracts: sender is neither client nor provider")
	ErrBadSignature      = errors.New("contracts: signature does not match") // openDeal collateral consent, redeem
	ErrDealExists        = errors.New("contracts: deal already exists")
	ErrBadDealState      = errors.New("contracts: deal is not in the state this call needs") // includes unknown deals
	ErrTooEarly          = errors.New("contracts: too early")
	ErrTooLate           = errors.New("contracts: too late")
	ErrNoMediator        = errors.New("contracts: deal has no mediator")
	ErrInsufficientStake = errors.New("contracts: provider's free stake is too small")
	ErrNothingPending    = errors.New("contracts: nothing pending") // unstake without request, finishExit without startExit
	ErrNothingToWithdraw = errors.New("contracts: no credit to withdraw")
	ErrChannelExists     = errors.New("contracts: channel already exists")
	ErrUnknownChannel    = errors.New("contracts: unknown channel")
	ErrChannelExiting    = errors.New("contracts: channel exit already started")
	ErrChannelFinished   = errors.New("contracts: channel is finished")
	ErrVoucherTooLow     = errors.New("contracts: voucher does not raise the redeemed amount") // replay or lowered amount
	ErrReentrant         = errors.New("contracts: reentrant call")
	ErrAmountOverflow    = errors.New("contracts: amount does not fit in uint96")

	// ErrReverted is returned for a revert whose reason is not one of the
	// contract's errors (out of gas, a transfer to a contract that refuses ether).
	ErrReverted = errors.New("contracts: transaction reverted")
	// ErrGasCap is returned when the estimate exceeds the client's gas cap; nothing is sent.
	ErrGasCap = errors.New("contracts: gas estimate above cap")
	// ErrReceiptTimeout is returned when no receipt came within the receipt timeout.
	// The transaction may still be mined later; its hash is in the wrapped message.
	ErrReceiptTimeout = errors.New("contracts: no receipt before timeout")
	// ErrInvalidSignature is returned by VerifyVoucher and VerifyDeal for malformed signatures.
	ErrInvalidSignature = errors.New("contracts: malformed signature")
)

var revertSentinels = map[string]error{
	"ZeroAmount":                     ErrZeroAmount,
	"BadValue":                       ErrBadValue,
	"BadParams":                      ErrBadParams,
	"NotClient":                      ErrNotClient,
	"NotProvider":                    ErrNotProvider,
	"NotMediator":                    ErrNotMediator,
	"NotParty":                       ErrNotParty,
	"BadSignature":                   ErrBadSignature,
	"DealExists":                     ErrDealExists,
	"BadDealState":                   ErrBadDealState,
	"TooEarly":                       ErrTooEarly,
	"TooLate":                        ErrTooLate,
	"NoMediator":                     ErrNoMediator,
	"InsufficientStake":              ErrInsufficientStake,
	"NothingPending":                 ErrNothingPending,
	"NothingToWithdraw":              ErrNothingToWithdraw,
	"ChannelExists":                  ErrChannelExists,
	"UnknownChannel":                 ErrUnknownChannel,
	"ChannelExiting":                 ErrChannelExiting,
	"ChannelFinished":                ErrChannelFinished,
	"VoucherTooLow":                  ErrVoucherTooLow,
	"ReentrancyGuardReentrantCall":   ErrReentrant,
	"SafeCastOverflowedUintDowncast": ErrAmountOverflow,
}

// RevertError is a revert of the contract decoded from its return data.
type RevertError struct {
	Name string // custom error name, e.g. "TooEarly"; empty when unknown
	Args []any  // decoded arguments of the custom error
	Data []byte // raw revert data
	err  error
}

func (e *RevertError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("%v (data %s)", e.err, hexutil.Encode(e.Data))
	}
	if len(e.Args) == 0 {
		return fmt.Sprintf("%v: %s()", e.err, e.Name)
	}
	return fmt.Sprintf("%v: %s%v", e.err, e.Name, e.Args)
}

// Unwrap returns the sentinel (ErrTooEarly, ...) or ErrReverted.
func (e *RevertError) Unwrap() error { return e.err }

// decodeRevertData maps revert data to a *RevertError.
func decodeRevertData(a *abi.ABI, data []byte) *RevertError {
	re := &RevertError{Data: data, err: ErrReverted}
	if len(data) < 4 {
		return re
	}
	for name, e := range a.Errors {
		if !bytes.Equal(e.ID[:4], data[:4]) {
			continue
		}
		re.Name = name
		if s, ok := revertSentinels[name]; ok {
			re.err = s
		}
		if args, err := e.Inputs.Unpack(data[4:]); err == nil {
			re.Args = args
		}
		return re
	}
	if reason, err := abi.UnpackRevert(data); err == nil {
		re.Name = "Error"
		re.Args = []any{reason}
	}
	return re
}

// decodeRevert turns an RPC error carrying revert data into a *RevertError;
// other errors are returned unchanged.
func decodeRevert(a *abi.ABI, err error) error {
	if err == nil {
		return nil
	}
	var de rpc.DataError
	if errors.As(err, &de) {
		if s, ok := de.ErrorData().(string); ok {
			if data, derr := hexutil.Decode(s); derr == nil {
				return decodeRevertData(a, data)
			}
		}
	}
	if strings.Contains(err.Error(), "execution reverted") {
		return fmt.Errorf("%w: %v", ErrReverted, err)
	}
	return err
}
