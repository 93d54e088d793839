// Code generated via abigen V2 - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package contracts

import (
	"bytes"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = bytes.Equal
	_ = errors.New
	_ = big.NewInt
	_ = common.Big1
	_ = types.BloomLookup
	_ = abi.ConvertType
)

// MarketplaceChannelKey is an auto generated low-level Go binding around an user-defined struct.
type MarketplaceChannelKey struct {
	Client   common.Address
	Provider common.Address
	Salt     [32]byte
}

// MarketplaceDealParams is an auto generated low-level Go binding around an user-defined struct.
type MarketplaceDealParams struct {
	Client          common.Address
	Provider        common.Address
	Mediator        common.Address
	Price           *big.Int
	MediatorFee     *big.Int
	Collateral      *big.Int
	Deadline        *big.Int
	ChallengeWindow *big.Int
	JobHash         [32]byte
}

// MarketplaceSignedVoucher is an auto generated low-level Go binding around an user-defined struct.
type MarketplaceSignedVoucher struct {
	Key              MarketplaceChannelKey
	CumulativeAmount *big.Int
	Signature        []byte
}

// MarketplaceMetaData contains all meta data concerning the Marketplace contract.
var MarketplaceMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"uint40\",\"name\":\"unstakeDelay_\",\"type\":\"uint40\"},{\"internalType\":\"uint40\",\"name\":\"mediationTimeout_\",\"type\":\"uint40\"},{\"internalType\":\"uint40\",\"name\":\"exitTimeout_\",\"type\":\"uint40\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"dealId\",\"type\":\"bytes32\"},{\"internalType\":\"enumMarketplace.DealStatus\",\"name\":\"status\",\"type\":\"uint8\"}],\"name\":\"BadDealState\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"BadParams\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"BadSignature\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"expected\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"got\",\"type\":\"uint256\"}],\"name\":\"BadValue\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"channelId\",\"type\":\"bytes32\"}],\"name\":\"ChannelExists\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"channelId\",\"type\":\"bytes32\"}],\"name\":\"ChannelExiting\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"channelId\",\"type\":\"bytes32\"}],\"name\":\"ChannelFinished\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"dealId\",\"type\":\"bytes32\"}],\"name\":\"DealExists\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"FailedCall\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"balance\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"needed\",\"type\":\"uint256\"}],\"name\":\"InsufficientBalance\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"free\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"needed\",\"type\":\"uint256\"}],\"name\":\"InsufficientStake\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidShortString\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NoMediator\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotClient\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotMediator\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotParty\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotProvider\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NothingPending\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NothingToWithdraw\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ReentrancyGuardReentrantCall\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint8\",\"name\":\"bits\",\"type\":\"uint8\"},{\"internalType\":\"uint256\",\"name\":\"value\",\"type\":\"uint256\"}],\"name\":\"SafeCastOverflowedUintDowncast\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"string\",\"name\":\"str\",\"type\":\"string\"}],\"name\":\"StringTooLong\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"notBefore\",\"type\":\"uint256\"}],\"name\":\"TooEarly\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"deadline\",\"type\":\"uint256\"}],\"name\":\"TooLate\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"channelId\",\"type\":\"bytes32\"}],\"name\":\"UnknownChannel\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"redeemed\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"cumulativeAmount\",\"type\":\"uint256\"}],\"name\":\"VoucherTooLow\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroAmount\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"channelId\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"refunded\",\"type\":\"uint256\"}],\"name\":\"ChannelClosed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"channelId\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"exitAt\",\"type\":\"uint256\"}],\"name\":\"ChannelExitStarted\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"channelId\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"salt\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"deposit\",\"type\":\"uint256\"}],\"name\":\"ChannelOpened\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"channelId\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"deposit\",\"type\":\"uint256\"}],\"name\":\"ChannelToppedUp\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"dealId\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"}],\"name\":\"DealAccepted\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"dealId\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"}],\"name\":\"DealClaimed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"dealId\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"}],\"name\":\"DealDisputed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"dealId\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"address\",\"name\":\"mediator\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint96\",\"name\":\"price\",\"type\":\"uint96\"},{\"indexed\":false,\"internalType\":\"uint96\",\"name\":\"mediatorFee\",\"type\":\"uint96\"},{\"indexed\":false,\"internalType\":\"uint96\",\"name\":\"collateral\",\"type\":\"uint96\"},{\"indexed\":false,\"internalType\":\"uint40\",\"name\":\"deadline\",\"type\":\"uint40\"},{\"indexed\":false,\"internalType\":\"uint40\",\"name\":\"challengeWindow\",\"type\":\"uint40\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"jobHash\",\"type\":\"bytes32\"}],\"name\":\"DealOpened\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"dealId\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"slashed\",\"type\":\"uint256\"}],\"name\":\"DealRefunded\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"dealId\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"mediator\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"bool\",\"name\":\"forProvider\",\"type\":\"bool\"}],\"name\":\"DealResolved\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"dealId\",\"type\":\"bytes32\"}],\"name\":\"DisputeExpired\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[],\"name\":\"EIP712DomainChanged\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"dealId\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"resultHash\",\"type\":\"bytes32\"}],\"name\":\"ResultSubmitted\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"total\",\"type\":\"uint256\"}],\"name\":\"Staked\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"unlockAt\",\"type\":\"uint256\"}],\"name\":\"UnstakeRequested\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"name\":\"Unstaked\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"channelId\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"cumulativeAmount\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"paid\",\"type\":\"uint256\"}],\"name\":\"VoucherRedeemed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"name\":\"Withdrawn\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"DEAL_TYPEHASH\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"VOUCHER_TYPEHASH\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"mediator\",\"type\":\"address\"},{\"internalType\":\"uint96\",\"name\":\"price\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"mediatorFee\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"collateral\",\"type\":\"uint96\"},{\"internalType\":\"uint40\",\"name\":\"deadline\",\"type\":\"uint40\"},{\"internalType\":\"uint40\",\"name\":\"challengeWindow\",\"type\":\"uint40\"},{\"internalType\":\"bytes32\",\"name\":\"jobHash\",\"type\":\"bytes32\"}],\"internalType\":\"structMarketplace.DealParams\",\"name\":\"p\",\"type\":\"tuple\"}],\"name\":\"accept\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"}],\"name\":\"channel\",\"outputs\":[{\"internalType\":\"uint96\",\"name\":\"deposit\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"redeemed\",\"type\":\"uint96\"},{\"internalType\":\"uint40\",\"name\":\"exitAt\",\"type\":\"uint40\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"bytes32\",\"name\":\"salt\",\"type\":\"bytes32\"}],\"internalType\":\"structMarketplace.ChannelKey\",\"name\":\"k\",\"type\":\"tuple\"}],\"name\":\"channelId\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"pure\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"mediator\",\"type\":\"address\"},{\"internalType\":\"uint96\",\"name\":\"price\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"mediatorFee\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"collateral\",\"type\":\"uint96\"},{\"internalType\":\"uint40\",\"name\":\"deadline\",\"type\":\"uint40\"},{\"internalType\":\"uint40\",\"name\":\"challengeWindow\",\"type\":\"uint40\"},{\"internalType\":\"bytes32\",\"name\":\"jobHash\",\"type\":\"bytes32\"}],\"internalType\":\"structMarketplace.DealParams\",\"name\":\"p\",\"type\":\"tuple\"}],\"name\":\"claim\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"name\":\"credits\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"mediator\",\"type\":\"address\"},{\"internalType\":\"uint96\",\"name\":\"price\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"mediatorFee\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"collateral\",\"type\":\"uint96\"},{\"internalType\":\"uint40\",\"name\":\"deadline\",\"type\":\"uint40\"},{\"internalType\":\"uint40\",\"name\":\"challengeWindow\",\"type\":\"uint40\"},{\"internalType\":\"bytes32\",\"name\":\"jobHash\",\"type\":\"bytes32\"}],\"internalType\":\"structMarketplace.DealParams\",\"name\":\"p\",\"type\":\"tuple\"}],\"name\":\"dealId\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"}],\"name\":\"dealState\",\"outputs\":[{\"internalType\":\"enumMarketplace.DealStatus\",\"name\":\"status\",\"type\":\"uint8\"},{\"internalType\":\"uint40\",\"name\":\"at\",\"type\":\"uint40\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"mediator\",\"type\":\"address\"},{\"internalType\":\"uint96\",\"name\":\"price\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"mediatorFee\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"collateral\",\"type\":\"uint96\"},{\"internalType\":\"uint40\",\"name\":\"deadline\",\"type\":\"uint40\"},{\"internalType\":\"uint40\",\"name\":\"challengeWindow\",\"type\":\"uint40\"},{\"internalType\":\"bytes32\",\"name\":\"jobHash\",\"type\":\"bytes32\"}],\"internalType\":\"structMarketplace.DealParams\",\"name\":\"p\",\"type\":\"tuple\"}],\"name\":\"dispute\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"eip712Domain\",\"outputs\":[{\"internalType\":\"bytes1\",\"name\":\"fields\",\"type\":\"bytes1\"},{\"internalType\":\"string\",\"name\":\"name\",\"type\":\"string\"},{\"internalType\":\"string\",\"name\":\"version\",\"type\":\"string\"},{\"internalType\":\"uint256\",\"name\":\"chainId\",\"type\":\"uint256\"},{\"internalType\":\"address\",\"name\":\"verifyingContract\",\"type\":\"address\"},{\"internalType\":\"bytes32\",\"name\":\"salt\",\"type\":\"bytes32\"},{\"internalType\":\"uint256[]\",\"name\":\"extensions\",\"type\":\"uint256[]\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"exitTimeout\",\"outputs\":[{\"internalType\":\"uint40\",\"name\":\"\",\"type\":\"uint40\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"mediator\",\"type\":\"address\"},{\"internalType\":\"uint96\",\"name\":\"price\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"mediatorFee\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"collateral\",\"type\":\"uint96\"},{\"internalType\":\"uint40\",\"name\":\"deadline\",\"type\":\"uint40\"},{\"internalType\":\"uint40\",\"name\":\"challengeWindow\",\"type\":\"uint40\"},{\"internalType\":\"bytes32\",\"name\":\"jobHash\",\"type\":\"bytes32\"}],\"internalType\":\"structMarketplace.DealParams\",\"name\":\"p\",\"type\":\"tuple\"}],\"name\":\"expireDispute\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"bytes32\",\"name\":\"salt\",\"type\":\"bytes32\"}],\"internalType\":\"structMarketplace.ChannelKey\",\"name\":\"k\",\"type\":\"tuple\"}],\"name\":\"finishExit\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"mediationTimeout\",\"outputs\":[{\"internalType\":\"uint40\",\"name\":\"\",\"type\":\"uint40\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"bytes32\",\"name\":\"salt\",\"type\":\"bytes32\"}],\"name\":\"openChannel\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"}],\"stateMutability\":\"payable\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"mediator\",\"type\":\"address\"},{\"internalType\":\"uint96\",\"name\":\"price\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"mediatorFee\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"collateral\",\"type\":\"uint96\"},{\"internalType\":\"uint40\",\"name\":\"deadline\",\"type\":\"uint40\"},{\"internalType\":\"uint40\",\"name\":\"challengeWindow\",\"type\":\"uint40\"},{\"internalType\":\"bytes32\",\"name\":\"jobHash\",\"type\":\"bytes32\"}],\"internalType\":\"structMarketplace.DealParams\",\"name\":\"p\",\"type\":\"tuple\"},{\"internalType\":\"bytes\",\"name\":\"providerSig\",\"type\":\"bytes\"}],\"name\":\"openDeal\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"}],\"stateMutability\":\"payable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"name\":\"pendingUnstake\",\"outputs\":[{\"internalType\":\"uint96\",\"name\":\"\",\"type\":\"uint96\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"bytes32\",\"name\":\"salt\",\"type\":\"bytes32\"}],\"internalType\":\"structMarketplace.ChannelKey\",\"name\":\"k\",\"type\":\"tuple\"},{\"internalType\":\"uint256\",\"name\":\"cumulativeAmount\",\"type\":\"uint256\"},{\"internalType\":\"bytes\",\"name\":\"signature\",\"type\":\"bytes\"}],\"name\":\"redeem\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"bytes32\",\"name\":\"salt\",\"type\":\"bytes32\"}],\"internalType\":\"structMarketplace.ChannelKey\",\"name\":\"key\",\"type\":\"tuple\"},{\"internalType\":\"uint256\",\"name\":\"cumulativeAmount\",\"type\":\"uint256\"},{\"internalType\":\"bytes\",\"name\":\"signature\",\"type\":\"bytes\"}],\"internalType\":\"structMarketplace.SignedVoucher[]\",\"name\":\"vouchers\",\"type\":\"tuple[]\"}],\"name\":\"redeemMany\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"mediator\",\"type\":\"address\"},{\"internalType\":\"uint96\",\"name\":\"price\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"mediatorFee\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"collateral\",\"type\":\"uint96\"},{\"internalType\":\"uint40\",\"name\":\"deadline\",\"type\":\"uint40\"},{\"internalType\":\"uint40\",\"name\":\"challengeWindow\",\"type\":\"uint40\"},{\"internalType\":\"bytes32\",\"name\":\"jobHash\",\"type\":\"bytes32\"}],\"internalType\":\"structMarketplace.DealParams\",\"name\":\"p\",\"type\":\"tuple\"}],\"name\":\"refund\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint96\",\"name\":\"amount\",\"type\":\"uint96\"}],\"name\":\"requestUnstake\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"mediator\",\"type\":\"address\"},{\"internalType\":\"uint96\",\"name\":\"price\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"mediatorFee\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"collateral\",\"type\":\"uint96\"},{\"internalType\":\"uint40\",\"name\":\"deadline\",\"type\":\"uint40\"},{\"internalType\":\"uint40\",\"name\":\"challengeWindow\",\"type\":\"uint40\"},{\"internalType\":\"bytes32\",\"name\":\"jobHash\",\"type\":\"bytes32\"}],\"internalType\":\"structMarketplace.DealParams\",\"name\":\"p\",\"type\":\"tuple\"},{\"internalType\":\"bool\",\"name\":\"forProvider\",\"type\":\"bool\"}],\"name\":\"resolve\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"stake\",\"outputs\":[],\"stateMutability\":\"payable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"name\":\"stakes\",\"outputs\":[{\"internalType\":\"uint96\",\"name\":\"amount\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"locked\",\"type\":\"uint96\"},{\"internalType\":\"uint40\",\"name\":\"unlockAt\",\"type\":\"uint40\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"bytes32\",\"name\":\"salt\",\"type\":\"bytes32\"}],\"internalType\":\"structMarketplace.ChannelKey\",\"name\":\"k\",\"type\":\"tuple\"}],\"name\":\"startExit\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"mediator\",\"type\":\"address\"},{\"internalType\":\"uint96\",\"name\":\"price\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"mediatorFee\",\"type\":\"uint96\"},{\"internalType\":\"uint96\",\"name\":\"collateral\",\"type\":\"uint96\"},{\"internalType\":\"uint40\",\"name\":\"deadline\",\"type\":\"uint40\"},{\"internalType\":\"uint40\",\"name\":\"challengeWindow\",\"type\":\"uint40\"},{\"internalType\":\"bytes32\",\"name\":\"jobHash\",\"type\":\"bytes32\"}],\"internalType\":\"structMarketplace.DealParams\",\"name\":\"p\",\"type\":\"tuple\"},{\"internalType\":\"bytes32\",\"name\":\"resultHash\",\"type\":\"bytes32\"}],\"name\":\"submitResult\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"address\",\"name\":\"client\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"provider\",\"type\":\"address\"},{\"internalType\":\"bytes32\",\"name\":\"salt\",\"type\":\"bytes32\"}],\"internalType\":\"structMarketplace.ChannelKey\",\"name\":\"k\",\"type\":\"tuple\"}],\"name\":\"topUp\",\"outputs\":[],\"stateMutability\":\"payable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"unstake\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"unstakeDelay\",\"outputs\":[{\"internalType\":\"uint40\",\"name\":\"\",\"type\":\"uint40\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"internalType\":\"uint256\",\"name\":\"cumulativeAmount\",\"type\":\"uint256\"}],\"name\":\"voucherDigest\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"withdraw\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"}]",
	ID:  "Marketplace",
	Bin: "0x6101c0604052348015610010575f5ffd5b5060405161400138038061400183398101604081905261002f916101c5565b6040805180820182526009815268636c6f75646c65737360b81b602080830191909152825180840190935260018352603160f81b9083015290610072825f610134565b61012052610081816001610134565b61014052815160208084019190912060e052815190820120610100524660a05261010d60e05161010051604080517f8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f60208201529081019290925260608201524660808201523060a08201525f9060c00160405160208183030381529060405280519060200120905090565b60805250503060c05264ffffffffff9283166101605290821661018052166101a0526103af565b5f60208351101561014f5761014883610166565b9050610160565b8161015a848261029d565b5060ff90505b92915050565b5f5f829050601f81511115610199578260405163305a27a960e01b81526004016101909190610357565b60405180910390fd5b80516101a48261038c565b179392505050565b805164ffffffffff811681146101c0575f5ffd5b919050565b5f5f5f606084860312156101d7575f5ffd5b6101e0846101ac565b92506101ee602085016101ac565b91506101fc604085016101ac565b90509250925092565b634e487b7160e01b5f52604160045260245ffd5b600181811c9082168061022d57607f821691505b60208210810361024b57634e487b7160e01b5f52602260045260245ffd5b50919050565b601f82111561029857805f5260205f20601f840160051c810160208510156102765750805b601f840160051c820191505b81811015610295575f8155600101610282565b50505b505050565b81516001600160401b038111156102b6576102b6610205565b6102ca816102c48454610219565b84610251565b6020601f8211600181146102fc575f83156102e55750848201515b5f19600385901b1c1916600184901b178455610295565b5f84815260208120601f198516915b8281101561032b578785015182556020948501946001909201910161030b565b508482101561034857868401515f19600387901b60f8161c191681555b50505050600190811b01905550565b602081525f82518060208401528060208501604085015e5f604082850101526040601f19601f83011684010191505092915050565b8051602080830151919081101561024b575f1960209190910360031b1b16919050565b60805160a05160c05160e05161010051610120516101405161016051610180516101a051613bc761043a5f395f818161038c0152610d3a01525f81816103590152818161090a0152610ffc01525f81816102b0015261129301525f612d0a01525f612cd901525f61337b01525f61335301525f6132ae01525f6132d801525f6133020152613bc75ff3fe6080604052600436106101db575f3560e01c806380ee75b8116100fd578063af09e7a311610092578063d3ccc4e911610062578063d3ccc4e914610678578063e55aee261461068b578063fc8ad603146106aa578063fe5ff468146106c9575f5ffd5b8063af09e7a3146105d6578063b7d9c80e146105f5578063ce37490a1461062c578063cecae4331461064b575f5ffd5b806394739e87116100cd57806394739e8714610546578063a78bca0714610579578063abf57cbc14610598578063ae71f63a146105b7575f5ffd5b806380ee75b8146104da57806384b0196e146104ed5780638974583f14610514578063932e961114610533575f5ffd5b80633ccfd60b1161017357806356d6ea4f1161014357806356d6ea4f146104275780635e9245e61461047d5780637bed0da91461049c5780637fadd68d146104bb575f5ffd5b80633ccfd60b146103b657806340bd65f8146103ca5780634930249b146103e9578063497e21f214610408575f5ffd5b806335cdaa9a116101ae57806335cdaa9a1461030757806336413e30146103485780633991f7ab1461037b5780633a4b66f1146103ae575f5ffd5b806316934fc4146101df5780632def6620146102895780633222012f1461029f57806333ba8ac7146102e8575b5f5ffd5b3480156101ea575f5ffd5b506102526101f9366004613463565b60036020525f90815260409020546bffffffffffffffffffffffff808216916c010000000000000000000000008104909116907801000000000000000000000000000000000000000000000000900464ffffffffff1683565b604080516bffffffffffffffffffffffff948516815293909216602084015264ffffffffff16908201526060015b60405180910390f35b348015610294575f5ffd5b5061029d6106f4565b005b3480156102aa575f5ffd5b506102d27f000000000000000000000000000000000000000000000000000000000000000081565b60405164ffffffffff9091168152602001610280565b3480156102f3575f5ffd5b5061029d610302366004613493565b61087e565b348015610312575f5ffd5b5061033a7f031d612b50e30b22981d6f74e9bcd893eafa185cedd9ac862bd8f9194c78189781565b604051908152602001610280565b348015610353575f5ffd5b506102d27f000000000000000000000000000000000000000000000000000000000000000081565b348015610386575f5ffd5b506102d27f000000000000000000000000000000000000000000000000000000000000000081565b61029d610adb565b3480156103c1575f5ffd5b5061029d610bc5565b3480156103d5575f5ffd5b5061029d6103e43660046134df565b610c74565b3480156103f4575f5ffd5b5061029d6104033660046134f9565b610e13565b348015610413575f5ffd5b5061029d610422366004613524565b610f44565b348015610432575f5ffd5b50610460610441366004613463565b60046020525f90815260409020546bffffffffffffffffffffffff1681565b6040516bffffffffffffffffffffffff9091168152602001610280565b348015610488575f5ffd5b5061029d61049736600461355a565b611146565b3480156104a7575f5ffd5b5061029d6104b6366004613524565b6113d4565b3480156104c6575f5ffd5b5061029d6104d5366004613524565b611490565b61033a6104e83660046135b8565b611654565b3480156104f8575f5ffd5b50610501611c8d565b6040516102809796959493929190613656565b34801561051f575f5ffd5b5061033a61052e366004613524565b611ceb565b61029d6105413660046134df565b611d43565b348015610551575f5ffd5b5061033a7f5e172d4a19b08b5b7f0354399a080f05a28476f34f987f7cd87e69a4065d4ec081565b348015610584575f5ffd5b5061029d6105933660046134df565b611e89565b3480156105a3575f5ffd5b5061029d6105b2366004613708565b6120bf565b3480156105c2575f5ffd5b5061029d6105d136600461375f565b61210d565b3480156105e1575f5ffd5b5061033a6105f03660046134df565b6121e9565b348015610600575f5ffd5b5061025261060f3660046137d0565b5f9081526006602052604090205490606082901c9060c083901c90565b348015610637575f5ffd5b5061029d610646366004613524565b61224b565b348015610656575f5ffd5b5061066a6106653660046137d0565b6123c9565b60405161028092919061384d565b61033a61068636600461386f565b6123fc565b348015610696575f5ffd5b5061033a6106a5366004613897565b6125bf565b3480156106b5575f5ffd5b5061029d6106c4366004613524565b612604565b3480156106d4575f5ffd5b5061033a6106e3366004613463565b60026020525f908152604090205481565b6106fc61270f565b335f908152600460205260408120546bffffffffffffffffffffffff1690819003610753576040517f175c1aea00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b335f908152600360205260409020547801000000000000000000000000000000000000000000000000900464ffffffffff16428111156107cd576040517f2a35a32400000000000000000000000000000000000000000000000000000000815264ffffffffff821660048201526024015b60405180910390fd5b335f90815260046020908152604080832080547fffffffffffffffffffffffffffffffffffffffff0000000000000000000000001690556002909152812080546bffffffffffffffffffffffff851692906108299084906138e4565b90915550506040516bffffffffffffffffffffffff8316815233907f0f5bb82176feb1b5e747e28471aa92156a04d9f3ab9f45f28e2d704232b93f75906020015b60405180910390a2505061087c612795565b565b61088661270f565b6108966060830160408401613463565b6001600160a01b0316336001600160a01b0316146108e0576040517f1d55f1bb00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f6108ec8360036127bf565b5f81815260056020526040812054919250906109359064ffffffffff7f000000000000000000000000000000000000000000000000000000000000000081169160081c166138e4565b905080421115610974576040517f691e5682000000000000000000000000000000000000000000000000000000008152600481018290526024016107c4565b5f8281526005602052604090206004905561099560a085016080860161355a565b6bffffffffffffffffffffffff1615610a0c576109b860a085016080860161355a565b6bffffffffffffffffffffffff1660025f6109d96060880160408901613463565b6001600160a01b03166001600160a01b031681526020019081526020015f205f828254610a0691906138e4565b90915550505b8215610a2057610a1b84612857565b610a94565b610a29846128c6565b610a39608086016060870161355a565b6bffffffffffffffffffffffff16610a5191906138e4565b60025f610a616020880188613463565b6001600160a01b03166001600160a01b031681526020019081526020015f205f828254610a8e91906138e4565b90915550505b6040518315158152339083907f0909530962b953f9f905e461736556d431465b03a031ca46c2c5a75a8eeb00eb9060200160405180910390a35050610ad7612795565b5050565b610ae361270f565b345f03610b1c576040517f1f2a200500000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b335f9081526003602052604081208054909190610b5190610b4c9034906bffffffffffffffffffffffff166138e4565b612a16565b82547fffffffffffffffffffffffffffffffffffffffff000000000000000000000000166bffffffffffffffffffffffff8216908117845560408051348152602081019290925291925033917f1449c6dd7851abc30abf37f57715f492010519147cc2652fbc38202c18a6ee90910161086a565b610bcd61270f565b335f9081526002602052604081205490819003610c16576040517fd0d04f6000000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b335f8181526002602052604080822091909155517f7084f5476618d8e60b11ef0d7d3f06914655adb8793e28ff7f018d4c76d505d590610c599084815260200190565b60405180910390a2610c6b3382612a6b565b5061087c612795565b610c7c61270f565b610c896020820182613463565b6001600160a01b0316336001600160a01b031614610cd3576040517f20dbc87400000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f610cdd826121e9565b90505f5f5f610ceb84612b10565b9250925092508064ffffffffff165f14610d34576040517f59be593b000000000000000000000000000000000000000000000000000000008152600481018590526024016107c4565b5f610d5f7f0000000000000000000000000000000000000000000000000000000000000000426138f7565b905060c081901b7cffffffffff00000000000000000000000000000000000000000000000016606084901b77ffffffffffffffffffffffff000000000000000000000000166bffffffffffffffffffffffff861617175f86815260066020908152604091829020929092555164ffffffffff8316815286917fe2a688fce7e6465a310565db2d3256fb84102d5164da3c33b09b5b7c786c9e9091015b60405180910390a25050505050610e10612795565b50565b610e1b61270f565b610e2b6040830160208401613463565b6001600160a01b0316336001600160a01b031614610e75576040517f3480e2b200000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f610e818360016127bf565b9050610e9360e0840160c08501613928565b64ffffffffff16421115610eed57610eb160e0840160c08501613928565b6040517f691e568200000000000000000000000000000000000000000000000000000000815264ffffffffff90911660048201526024016107c4565b5f8181526005602090815260409182902060024260081b1790559051838152339183917f78842de91feb7c01fdd3c6ba92ffa4a4d9992388d8718b740b16757bb47f8d5a910160405180910390a350610ad7612795565b610f4c61270f565b610f596020820182613463565b6001600160a01b0316336001600160a01b031614158015610f9b5750610f856040820160208301613463565b6001600160a01b0316336001600160a01b031614155b15610fd2576040517fc8ee2d1d00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f610fde8260036127bf565b5f81815260056020526040812054919250906110279064ffffffffff7f000000000000000000000000000000000000000000000000000000000000000081169160081c166138e4565b90508042116110705761103b8160016138e4565b6040517f2a35a3240000000000000000000000000000000000000000000000000000000081526004016107c491815260200190565b5f8281526005602052604090206004905561108a83612b72565b61109a60a084016080850161355a565b6bffffffffffffffffffffffff166110b8608085016060860161355a565b6bffffffffffffffffffffffff166110d091906138e4565b60025f6110e06020870187613463565b6001600160a01b03166001600160a01b031681526020019081526020015f205f82825461110d91906138e4565b909155505060405182907f4e84f69c9996ba4f23a5c7e423575705e2771782e207f9b2f109ecaf06dfe65d905f90a25050610e10612795565b61114e61270f565b806bffffffffffffffffffffffff165f03611195576040517f1f2a200500000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b335f90815260036020526040812080549091906111d2906bffffffffffffffffffffffff6c01000000000000000000000000820481169116613941565b6bffffffffffffffffffffffff16905080836bffffffffffffffffffffffff161115611241576040517f45be0a26000000000000000000000000000000000000000000000000000000008152600481018290526bffffffffffffffffffffffff841660248201526044016107c4565b8154839083905f906112629084906bffffffffffffffffffffffff16613941565b92506101000a8154816bffffffffffffffffffffffff02191690836bffffffffffffffffffffffff1602179055505f7f0000000000000000000000000000000000000000000000000000000000000000426112bd91906138f7565b83547fffffff0000000000ffffffffffffffffffffffffffffffffffffffffffffffff16780100000000000000000000000000000000000000000000000064ffffffffff831602178455335f908152600460205260408120805492935086929091906113389084906bffffffffffffffffffffffff16613965565b92506101000a8154816bffffffffffffffffffffffff02191690836bffffffffffffffffffffffff160217905550336001600160a01b03167f57e41df54512c76148b5ba9b643d149752b0d35e493b969bd017d0a3fe5228cf85836040516113c19291906bffffffffffffffffffffffff92909216825264ffffffffff16602082015260400190565b60405180910390a2505050610e10612795565b6113dc61270f565b6113e96020820182613463565b6001600160a01b0316336001600160a01b031614611433576040517f20dbc87400000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f61143f8260026127bf565b5f81815260056020526040902060049055905061145b82612c2f565b604051339082907f75382310d2b72fa4969dd20fd79faf5e3111aafbdbf24c336098eaf9c90c1424905f90a350610e10612795565b61149861270f565b6114a56020820182613463565b6001600160a01b0316336001600160a01b0316146114ef576040517f20dbc87400000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f6114fb8260016127bf565b905061150d60e0830160c08401613928565b64ffffffffff16421161153c5761152a60e0830160c08401613928565b61103b9064ffffffffff1660016138e4565b5f81815260056020526040812060049055611556836128c6565b90505f8161156a60a086016080870161355a565b6bffffffffffffffffffffffff16611588608087016060880161355a565b6bffffffffffffffffffffffff166115a091906138e4565b6115aa91906138e4565b90508060025f6115bd6020880188613463565b6001600160a01b03166001600160a01b031681526020019081526020015f205f8282546115ea91906138e4565b909155506115fd90506020850185613463565b6001600160a01b0316837ffdad1513bd6c41fdc7dba351ca9988d23dbdba1cc376a0bff70f73aee32d09038385604051611641929190918252602082015260400190565b60405180910390a3505050610e10612795565b5f61165d61270f565b3361166b6020860186613463565b6001600160a01b0316146116ab576040517f20dbc87400000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f6116bc6040860160208701613463565b6001600160a01b031614806116fd57506116d96020850185613463565b6001600160a01b03166116f26040860160208701613463565b6001600160a01b0316145b806117235750611713608085016060860161355a565b6bffffffffffffffffffffffff16155b8061174457504261173a60e0860160c08701613928565b64ffffffffff1611155b8061177b57506117576020850185613463565b6001600160a01b03166117706060860160408701613463565b6001600160a01b0316145b806117b557506117916040850160208601613463565b6001600160a01b03166117aa6060860160408701613463565b6001600160a01b0316145b806117fe57505f6117cc6060860160408701613463565b6001600160a01b03161480156117fe57506117ed60a085016080860161355a565b6bffffffffffffffffffffffff1615155b15611835576040517f019af63700000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f61184660a086016080870161355a565b6bffffffffffffffffffffffff16611864608087016060880161355a565b6bffffffffffffffffffffffff1661187c91906138e4565b90508034146118c0576040517f8c54e309000000000000000000000000000000000000000000000000000000008152600481018290523460248201526044016107c4565b6118c985611ceb565b5f8181526005602052604090205490925015611914576040517fb3e2817b000000000000000000000000000000000000000000000000000000008152600481018390526024016107c4565b61192460c0860160a0870161355a565b6bffffffffffffffffffffffff1615611b55575f5f6119788487878080601f0160208091040260200160405190810160405280939291908181526020018383808284375f92019190915250612c8992505050565b5090925090505f816003811115611991576119916137e7565b1415806119bf57506119a96040880160208901613463565b6001600160a01b0316826001600160a01b031614155b156119f6576040517f5cd5d23300000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f600381611a0a60408b0160208c01613463565b6001600160a01b0316815260208101919091526040015f9081208054909250611a53906bffffffffffffffffffffffff6c01000000000000000000000000820481169116613941565b6bffffffffffffffffffffffff16905080611a7460c08b0160a08c0161355a565b6bffffffffffffffffffffffff161115611ae25780611a9960c08b0160a08c0161355a565b6040517f45be0a2600000000000000000000000000000000000000000000000000000000815260048101929092526bffffffffffffffffffffffff1660248201526044016107c4565b611af260c08a0160a08b0161355a565b82548390600c90611b229084906c0100000000000000000000000090046bffffffffffffffffffffffff16613965565b92506101000a8154816bffffffffffffffffffffffff02191690836bffffffffffffffffffffffff160217905550505050505b5f8281526005602090815260409182902060019055611b78918701908701613463565b6001600160a01b0316611b8e6020870187613463565b6001600160a01b0316837f4fe99f981d52706a5b589baf2764b27b0bb85e0b3f7570ca9e4f48369abc6ee6611bc960608a0160408b01613463565b611bd960808b0160608c0161355a565b611be960a08c0160808d0161355a565b611bf960c08d0160a08e0161355a565b611c0960e08e0160c08f01613928565b8d60e0016020810190611c1c9190613928565b604080516001600160a01b0390971687526bffffffffffffffffffffffff9586166020880152938516938601939093529216606084015264ffffffffff91821660808401521660a08201526101008a013560c082015260e00160405180910390a450611c86612795565b9392505050565b5f6060805f5f5f6060611c9e612cd2565b611ca6612d03565b604080515f808252602082019092527f0f000000000000000000000000000000000000000000000000000000000000009b939a50919850469750309650945092509050565b5f611d3d7f031d612b50e30b22981d6f74e9bcd893eafa185cedd9ac862bd8f9194c78189783604051602001611d22929190613989565b60405160208183030381529060405280519060200120612d30565b92915050565b611d4b61270f565b345f03611d84576040517f1f2a200500000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f611d8e826121e9565b90505f5f5f611d9c84612b10565b9250925092508064ffffffffff165f14611de5576040517f59be593b000000000000000000000000000000000000000000000000000000008152600481018590526024016107c4565b611e00610b4c346bffffffffffffffffffffffff86166138e4565b5f858152600660209081526040918290206bffffffffffffffffffffffff841677ffffffffffffffffffffffff000000000000000000000000606088901b16811790915582513481529182015291945085917f9cccb87b8f66309aa4e78924a7f8bbe8cb5ddd377aa929dd7a622132781856aa910160405180910390a250505050610e10612795565b611e9161270f565b611e9e6020820182613463565b6001600160a01b0316336001600160a01b031614611ee8576040517f20dbc87400000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f611ef2826121e9565b90505f5f5f611f0084612b10565b919450925090507fffffffffffffffffffffffffffffffffffffffffffffffffffffff000000000164ffffffffff821601611f6a576040517f0aad820d000000000000000000000000000000000000000000000000000000008152600481018590526024016107c4565b8064ffffffffff165f03611faa576040517f175c1aea00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b8064ffffffffff16421015611ff4576040517f2a35a32400000000000000000000000000000000000000000000000000000000815264ffffffffff821660048201526024016107c4565b5f8481526006602052604081206bffffffffffffffffffffffff80861677ffffffffffffffffffffffff000000000000000000000000606088901b1681177cffffffffff000000000000000000000000000000000000000000000000179092556120619190851690613a8b565b9050801561208d57335f90815260026020526040812080548392906120879084906138e4565b90915550505b847f74e9aa18d6bb2c4887e76896296ce0a296a2e8315bb319b08b7607ff92fbef7982604051610dfb91815260200190565b6120c761270f565b5f6120d485858585612d77565b335f908152600260205260408120805492935083929091906120f79084906138e4565b9250508190555050612107612795565b50505050565b61211561270f565b5f5f5b828110156121ba576121a684848381811061213557612135613a9e565b90506020028101906121479190613acb565b85858481811061215957612159613a9e565b905060200281019061216b9190613acb565b6060013586868581811061218157612181613a9e565b90506020028101906121939190613acb565b6121a1906080810190613b07565b612d77565b6121b090836138e4565b9150600101612118565b50335f90815260026020526040812080548392906121d99084906138e4565b9250508190555050610ad7612795565b5f6121f76020830183613463565b6122076040840160208501613463565b604080516001600160a01b03938416602082015292909116828201528301356060820152608001604051602081830303815290604052805190602001209050919050565b61225361270f565b6122606020820182613463565b6001600160a01b0316336001600160a01b0316146122aa576040517f20dbc87400000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f6122bb6060830160408401613463565b6001600160a01b0316036122fb576040517ff391386400000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f6123078260026127bf565b90505f61231b610100840160e08501613928565b5f838152600560205260409020546123409164ffffffffff9081169160081c166138e4565b90508042111561237f576040517f691e5682000000000000000000000000000000000000000000000000000000008152600481018290526024016107c4565b5f8281526005602052604080822060034260081b17905551339184917ff545ed94f2dba7a41bb3d8f481a0acfcaa90e34ff3c51b8a9c237549c5eacfdd9190a35050610e10612795565b5f81815260056020526040812054819060ff811660048111156123ee576123ee6137e7565b9460089190911c9350915050565b5f61240561270f565b345f0361243e576040517f1f2a200500000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b6001600160a01b038316158061245c57506001600160a01b03831633145b15612493576040517f019af63700000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b604080513360208201526001600160a01b0385169181019190915260608101839052608001604080517fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe081840301815291815281516020928301205f818152600690935291205490915015612537576040517fa940c060000000000000000000000000000000000000000000000000000000008152600481018290526024016107c4565b61255461254334612a16565b6bffffffffffffffffffffffff1690565b5f828152600660205260409081902091909155516001600160a01b03841690339083907f5374a3ffc1e37e63a1eedad4ca3ec84033d425da00af3a667c66f52cf7212d3c906125af9087903490918252602082015260400190565b60405180910390a4611d3d612795565b604080517f5e172d4a19b08b5b7f0354399a080f05a28476f34f987f7cd87e69a4065d4ec06020820152908101839052606081018290525f90611c8690608001611d22565b61260c61270f565b61261c6040820160208301613463565b6001600160a01b0316336001600160a01b031614612666576040517f3480e2b200000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f6126728260026127bf565b90505f612686610100840160e08501613928565b5f838152600560205260409020546126ab9164ffffffffff9081169160081c166138e4565b90508042116126bf5761103b8160016138e4565b5f828152600560205260409020600490556126d983612c2f565b604051339083907f38ae2020e0ffe939a39171c24f1743b597358063d4160241bc2ade4915daab3a905f90a35050610e10612795565b7f9b779b17422d0df92223018b32b4d1fa46e071723d6817e2486d003becc55f005c15612768576040517f3ee5aeb500000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b61087c60017f9b779b17422d0df92223018b32b4d1fa46e071723d6817e2486d003becc55f005b906130cb565b61087c5f7f9b779b17422d0df92223018b32b4d1fa46e071723d6817e2486d003becc55f0061278f565b5f6127c983611ceb565b5f818152600560205260408120549192509060ff1660048111156127ef576127ef6137e7565b9050826004811115612803576128036137e7565b816004811115612815576128156137e7565b146128505781816040517f243320030000000000000000000000000000000000000000000000000000000081526004016107c4929190613b68565b5092915050565b61286081612b72565b612870608082016060830161355a565b6bffffffffffffffffffffffff1660025f6128916040850160208601613463565b6001600160a01b03166001600160a01b031681526020019081526020015f205f8282546128be91906138e4565b909155505050565b5f6128d760c0830160a0840161355a565b6bffffffffffffffffffffffff165f036128f257505f919050565b5f6003816129066040860160208701613463565b6001600160a01b0316815260208101919091526040015f20905061293060c0840160a0850161355a565b81548290600c906129609084906c0100000000000000000000000090046bffffffffffffffffffffffff16613941565b92506101000a8154816bffffffffffffffffffffffff02191690836bffffffffffffffffffffffff1602179055508260a00160208101906129a1919061355a565b815482905f906129c09084906bffffffffffffffffffffffff16613941565b92506101000a8154816bffffffffffffffffffffffff02191690836bffffffffffffffffffffffff1602179055508260a0016020810190612a01919061355a565b6bffffffffffffffffffffffff169392505050565b5f6bffffffffffffffffffffffff821115612a67576040517f6dfcc65000000000000000000000000000000000000000000000000000000000815260606004820152602481018390526044016107c4565b5090565b80471015612aae576040517fcf479181000000000000000000000000000000000000000000000000000000008152476004820152602481018290526044016107c4565b5f5f836001600160a01b0316836040515f6040518083038185875af1925050503d805f8114612af8576040519150601f19603f3d011682016040523d82523d5f602084013e612afd565b606091505b50915091508161210757612107816130d2565b5f8181526006602052604081205481908190808203612b5e576040517fb08fc1cb000000000000000000000000000000000000000000000000000000008152600481018690526024016107c4565b94606086901c945060c086901c9350915050565b612b8260c0820160a0830161355a565b6bffffffffffffffffffffffff1615610e1057612ba560c0820160a0830161355a565b60035f612bb86040850160208601613463565b6001600160a01b0316815260208101919091526040015f208054600c90612bfe9084906c0100000000000000000000000090046bffffffffffffffffffffffff16613941565b92506101000a8154816bffffffffffffffffffffffff02191690836bffffffffffffffffffffffff16021790555050565b612c3881612857565b612c4860a082016080830161355a565b6bffffffffffffffffffffffff1615610e1057612c6b60a082016080830161355a565b6bffffffffffffffffffffffff1660025f6128916020850185613463565b5f5f5f8351604103612cc0576020840151604085015160608601515f1a612cb288828585613113565b955095509550505050612ccb565b505081515f91506002905b9250925092565b6060612cfe7f00000000000000000000000000000000000000000000000000000000000000005f6131f9565b905090565b6060612cfe7f000000000000000000000000000000000000000000000000000000000000000060016131f9565b5f611d3d612d3c6132a2565b836040517f19010000000000000000000000000000000000000000000000000000000000008152600281019290925260228201526042902090565b5f612d886040860160208701613463565b6001600160a01b0316336001600160a01b031614612dd2576040517f3480e2b200000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f612ddc866121e9565b90505f5f5f612dea84612b10565b919450925090507fffffffffffffffffffffffffffffffffffffffffffffffffffffff000000000164ffffffffff821601612e54576040517f0aad820d000000000000000000000000000000000000000000000000000000008152600481018590526024016107c4565b64ffffffffff811615801590612e7157508064ffffffffff164210155b15612eb1576040517f691e568200000000000000000000000000000000000000000000000000000000815264ffffffffff821660048201526024016107c4565b5f836bffffffffffffffffffffffff168910612edb57836bffffffffffffffffffffffff16612edd565b885b9050826bffffffffffffffffffffffff168111612f3d576040517f643f783e0000000000000000000000000000000000000000000000000000000081526bffffffffffffffffffffffff84166004820152602481018a90526044016107c4565b5f5f612f87612f4c888d6125bf565b8b8b8080601f0160208091040260200160405190810160405280939291908181526020018383808284375f92019190915250612c8992505050565b5090925090505f816003811115612fa057612fa06137e7565b141580612fcb5750612fb560208d018d613463565b6001600160a01b0316826001600160a01b031614155b15613002576040517f5cd5d23300000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b60c084901b7cffffffffff00000000000000000000000000000000000000000000000016606084901b77ffffffffffffffffffffffff000000000000000000000000166bffffffffffffffffffffffff881617175f8881526006602052604090205561307c6bffffffffffffffffffffffff861684613a8b565b604080518d815260208101839052919950339189917fbc57dafc7848b79ab363dd3944b63d336de4c36dfa1f582b30bca7ca3c810607910160405180910390a350505050505050949350505050565b80825d5050565b8051156130e157805160208201fd5b6040517fd6bda27500000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f80807f7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a084111561314c57505f915060039050826131ef565b604080515f808252602082018084528a905260ff891692820192909252606081018790526080810186905260019060a0016020604051602081039080840390855afa15801561319d573d5f5f3e3d5ffd5b50506040517fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe001519150506001600160a01b0381166131e657505f9250600191508290506131ef565b92505f91508190505b9450945094915050565b606060ff83146132135761320c836133cb565b9050611d3d565b81805461321f90613b7c565b80601f016020809104026020016040519081016040528092919081815260200182805461324b90613b7c565b80156132965780601f1061326d57610100808354040283529160200191613296565b820191905f5260205f20905b81548152906001019060200180831161327957829003601f168201915b50505050509050611d3d565b5f306001600160a01b037f0000000000000000000000000000000000000000000000000000000000000000161480156132fa57507f000000000000000000000000000000000000000000000000000000000000000046145b1561332457507f000000000000000000000000000000000000000000000000000000000000000090565b612cfe604080517f8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f60208201527f0000000000000000000000000000000000000000000000000000000000000000918101919091527f000000000000000000000000000000000000000000000000000000000000000060608201524660808201523060a08201525f9060c00160405160208183030381529060405280519060200120905090565b60605f6133d783613408565b6040805160208082528183019092529192505f91906020820181803683375050509182525060208101929092525090565b5f60ff8216601f811115611d3d576040517fb3512b0c00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b80356001600160a01b038116811461345e575f5ffd5b919050565b5f60208284031215613473575f5ffd5b611c8682613448565b5f610120828403121561348d575f5ffd5b50919050565b5f5f61014083850312156134a5575f5ffd5b6134af848461347c565b915061012083013580151581146134c4575f5ffd5b809150509250929050565b5f6060828403121561348d575f5ffd5b5f606082840312156134ef575f5ffd5b611c8683836134cf565b5f5f610140838503121561350b575f5ffd5b613515848461347c565b94610120939093013593505050565b5f6101208284031215613535575f5ffd5b611c86838361347c565b80356bffffffffffffffffffffffff8116811461345e575f5ffd5b5f6020828403121561356a575f5ffd5b611c868261353f565b5f5f83601f840112613583575f5ffd5b50813567ffffffffffffffff81111561359a575f5ffd5b6020830191508360208285010111156135b1575f5ffd5b9250929050565b5f5f5f61014084860312156135cb575f5ffd5b6135d5858561347c565b925061012084013567ffffffffffffffff8111156135f1575f5ffd5b6135fd86828701613573565b9497909650939450505050565b5f81518084528060208401602086015e5f6020828601015260207fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe0601f83011685010191505092915050565b7fff000000000000000000000000000000000000000000000000000000000000008816815260e060208201525f61369060e083018961360a565b82810360408401526136a2818961360a565b606084018890526001600160a01b038716608085015260a0840186905283810360c0850152845180825260208087019350909101905f5b818110156136f75783518352602093840193909201916001016136d9565b50909b9a5050505050505050505050565b5f5f5f5f60a0858703121561371b575f5ffd5b61372586866134cf565b935060608501359250608085013567ffffffffffffffff811115613747575f5ffd5b61375387828801613573565b95989497509550505050565b5f5f60208385031215613770575f5ffd5b823567ffffffffffffffff811115613786575f5ffd5b8301601f81018513613796575f5ffd5b803567ffffffffffffffff8111156137ac575f5ffd5b8560208260051b84010111156137c0575f5ffd5b6020919091019590945092505050565b5f602082840312156137e0575f5ffd5b5035919050565b7f4e487b71000000000000000000000000000000000000000000000000000000005f52602160045260245ffd5b60058110613849577f4e487b71000000000000000000000000000000000000000000000000000000005f52602160045260245ffd5b9052565b6040810161385b8285613814565b64ffffffffff831660208301529392505050565b5f5f60408385031215613880575f5ffd5b61388983613448565b946020939093013593505050565b5f5f604083850312156138a8575f5ffd5b50508035926020909101359150565b7f4e487b71000000000000000000000000000000000000000000000000000000005f52601160045260245ffd5b80820180821115611d3d57611d3d6138b7565b64ffffffffff8181168382160190811115611d3d57611d3d6138b7565b803564ffffffffff8116811461345e575f5ffd5b5f60208284031215613938575f5ffd5b611c8682613914565b6bffffffffffffffffffffffff8281168282160390811115611d3d57611d3d6138b7565b6bffffffffffffffffffffffff8181168382160190811115611d3d57611d3d6138b7565b82815261014081016001600160a01b036139a284613448565b1660208301526001600160a01b036139bc60208501613448565b1660408301526139ce60408401613448565b6001600160a01b0381166060840152506139ea6060840161353f565b6bffffffffffffffffffffffff8116608084015250613a0b6080840161353f565b6bffffffffffffffffffffffff811660a084015250613a2c60a0840161353f565b6bffffffffffffffffffffffff811660c084015250613a4d60c08401613914565b64ffffffffff811660e084015250613a6760e08401613914565b64ffffffffff81166101008401525061010092909201356101209190910152919050565b81810381811115611d3d57611d3d6138b7565b7f4e487b71000000000000000000000000000000000000000000000000000000005f52603260045260245ffd5b5f82357fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff61833603018112613afd575f5ffd5b9190910192915050565b5f5f83357fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe1843603018112613b3a575f5ffd5b83018035915067ffffffffffffffff821115613b54575f5ffd5b6020019150368190038213156135b1575f5ffd5b82815260408101611c866020830184613814565b600181811c90821680613b9057607f821691505b60208210810361348d577f4e487b71000000000000000000000000000000000000000000000000000000005f52602260045260245ffd",
}

// Marketplace is an auto generated Go binding around an Ethereum contract.
type Marketplace struct {
	abi abi.ABI
}

// NewMarketplace creates a new instance of Marketplace.
func NewMarketplace() *Marketplace {
	parsed, err := MarketplaceMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &Marketplace{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *Marketplace) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackConstructor is the Go binding used to pack the parameters required for
// contract deployment.
//
// Solidity: constructor(uint40 unstakeDelay_, uint40 mediationTimeout_, uint40 exitTimeout_) returns()
func (marketplace *Marketplace) PackConstructor(unstakeDelay_ *big.Int, mediationTimeout_ *big.Int, exitTimeout_ *big.Int) []byte {
	enc, err := marketplace.abi.Pack("", unstakeDelay_, mediationTimeout_, exitTimeout_)
	if err != nil {
		panic(err)
	}
	return enc
}

// PackDEALTYPEHASH is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x35cdaa9a.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function DEAL_TYPEHASH() view returns(bytes32)
func (marketplace *Marketplace) PackDEALTYPEHASH() []byte {
	enc, err := marketplace.abi.Pack("DEAL_TYPEHASH")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackDEALTYPEHASH is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x35cdaa9a.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function DEAL_TYPEHASH() view returns(bytes32)
func (marketplace *Marketplace) TryPackDEALTYPEHASH() ([]byte, error) {
	return marketplace.abi.Pack("DEAL_TYPEHASH")
}

// UnpackDEALTYPEHASH is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x35cdaa9a.
//
// Solidity: function DEAL_TYPEHASH() view returns(bytes32)
func (marketplace *Marketplace) UnpackDEALTYPEHASH(data []byte) ([32]byte, error) {
	out, err := marketplace.abi.Unpack("DEAL_TYPEHASH", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackVOUCHERTYPEHASH is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x94739e87.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function VOUCHER_TYPEHASH() view returns(bytes32)
func (marketplace *Marketplace) PackVOUCHERTYPEHASH() []byte {
	enc, err := marketplace.abi.Pack("VOUCHER_TYPEHASH")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackVOUCHERTYPEHASH is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x94739e87.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function VOUCHER_TYPEHASH() view returns(bytes32)
func (marketplace *Marketplace) TryPackVOUCHERTYPEHASH() ([]byte, error) {
	return marketplace.abi.Pack("VOUCHER_TYPEHASH")
}

// UnpackVOUCHERTYPEHASH is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x94739e87.
//
// Solidity: function VOUCHER_TYPEHASH() view returns(bytes32)
func (marketplace *Marketplace) UnpackVOUCHERTYPEHASH(data []byte) ([32]byte, error) {
	out, err := marketplace.abi.Unpack("VOUCHER_TYPEHASH", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackAccept is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x7bed0da9.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function accept((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p) returns()
func (marketplace *Marketplace) PackAccept(p MarketplaceDealParams) []byte {
	enc, err := marketplace.abi.Pack("accept", p)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackAccept is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x7bed0da9.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function accept((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p) returns()
func (marketplace *Marketplace) TryPackAccept(p MarketplaceDealParams) ([]byte, error) {
	return marketplace.abi.Pack("accept", p)
}

// PackChannel is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb7d9c80e.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function channel(bytes32 id) view returns(uint96 deposit, uint96 redeemed, uint40 exitAt)
func (marketplace *Marketplace) PackChannel(id [32]byte) []byte {
	enc, err := marketplace.abi.Pack("channel", id)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackChannel is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb7d9c80e.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function channel(bytes32 id) view returns(uint96 deposit, uint96 redeemed, uint40 exitAt)
func (marketplace *Marketplace) TryPackChannel(id [32]byte) ([]byte, error) {
	return marketplace.abi.Pack("channel", id)
}

// ChannelOutput serves as a container for the return parameters of contract
// method Channel.
type ChannelOutput struct {
	Deposit  *big.Int
	Redeemed *big.Int
	ExitAt   *big.Int
}

// UnpackChannel is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xb7d9c80e.
//
// Solidity: function channel(bytes32 id) view returns(uint96 deposit, uint96 redeemed, uint40 exitAt)
func (marketplace *Marketplace) UnpackChannel(data []byte) (ChannelOutput, error) {
	out, err := marketplace.abi.Unpack("channel", data)
	outstruct := new(ChannelOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.Deposit = abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	outstruct.Redeemed = abi.ConvertType(out[1], new(big.Int)).(*big.Int)
	outstruct.ExitAt = abi.ConvertType(out[2], new(big.Int)).(*big.Int)
	return *outstruct, nil
}

// PackChannelId is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xaf09e7a3.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function channelId((address,address,bytes32) k) pure returns(bytes32)
func (marketplace *Marketplace) PackChannelId(k MarketplaceChannelKey) []byte {
	enc, err := marketplace.abi.Pack("channelId", k)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackChannelId is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xaf09e7a3.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function channelId((address,address,bytes32) k) pure returns(bytes32)
func (marketplace *Marketplace) TryPackChannelId(k MarketplaceChannelKey) ([]byte, error) {
	return marketplace.abi.Pack("channelId", k)
}

// UnpackChannelId is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xaf09e7a3.
//
// Solidity: function channelId((address,address,bytes32) k) pure returns(bytes32)
func (marketplace *Marketplace) UnpackChannelId(data []byte) ([32]byte, error) {
	out, err := marketplace.abi.Unpack("channelId", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackClaim is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfc8ad603.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function claim((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p) returns()
func (marketplace *Marketplace) PackClaim(p MarketplaceDealParams) []byte {
	enc, err := marketplace.abi.Pack("claim", p)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackClaim is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfc8ad603.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function claim((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p) returns()
func (marketplace *Marketplace) TryPackClaim(p MarketplaceDealParams) ([]byte, error) {
	return marketplace.abi.Pack("claim", p)
}

// PackCredits is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfe5ff468.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function credits(address ) view returns(uint256)
func (marketplace *Marketplace) PackCredits(arg0 common.Address) []byte {
	enc, err := marketplace.abi.Pack("credits", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackCredits is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfe5ff468.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function credits(address ) view returns(uint256)
func (marketplace *Marketplace) TryPackCredits(arg0 common.Address) ([]byte, error) {
	return marketplace.abi.Pack("credits", arg0)
}

// UnpackCredits is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xfe5ff468.
//
// Solidity: function credits(address ) view returns(uint256)
func (marketplace *Marketplace) UnpackCredits(data []byte) (*big.Int, error) {
	out, err := marketplace.abi.Unpack("credits", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackDealId is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8974583f.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function dealId((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p) view returns(bytes32)
func (marketplace *Marketplace) PackDealId(p MarketplaceDealParams) []byte {
	enc, err := marketplace.abi.Pack("dealId", p)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackDealId is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8974583f.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function dealId((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p) view returns(bytes32)
func (marketplace *Marketplace) TryPackDealId(p MarketplaceDealParams) ([]byte, error) {
	return marketplace.abi.Pack("dealId", p)
}

// UnpackDealId is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x8974583f.
//
// Solidity: function dealId((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p) view returns(bytes32)
func (marketplace *Marketplace) UnpackDealId(data []byte) ([32]byte, error) {
	out, err := marketplace.abi.Unpack("dealId", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackDealState is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xcecae433.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function dealState(bytes32 id) view returns(uint8 status, uint40 at)
func (marketplace *Marketplace) PackDealState(id [32]byte) []byte {
	enc, err := marketplace.abi.Pack("dealState", id)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackDealState is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xcecae433.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function dealState(bytes32 id) view returns(uint8 status, uint40 at)
func (marketplace *Marketplace) TryPackDealState(id [32]byte) ([]byte, error) {
	return marketplace.abi.Pack("dealState", id)
}

// DealStateOutput serves as a container for the return parameters of contract
// method DealState.
type DealStateOutput struct {
	Status uint8
	At     *big.Int
}

// UnpackDealState is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xcecae433.
//
// Solidity: function dealState(bytes32 id) view returns(uint8 status, uint40 at)
func (marketplace *Marketplace) UnpackDealState(data []byte) (DealStateOutput, error) {
	out, err := marketplace.abi.Unpack("dealState", data)
	outstruct := new(DealStateOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.Status = *abi.ConvertType(out[0], new(uint8)).(*uint8)
	outstruct.At = abi.ConvertType(out[1], new(big.Int)).(*big.Int)
	return *outstruct, nil
}

// PackDispute is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xce37490a.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function dispute((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p) returns()
func (marketplace *Marketplace) PackDispute(p MarketplaceDealParams) []byte {
	enc, err := marketplace.abi.Pack("dispute", p)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackDispute is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xce37490a.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function dispute((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p) returns()
func (marketplace *Marketplace) TryPackDispute(p MarketplaceDealParams) ([]byte, error) {
	return marketplace.abi.Pack("dispute", p)
}

// PackEip712Domain is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x84b0196e.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function eip712Domain() view returns(bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)
func (marketplace *Marketplace) PackEip712Domain() []byte {
	enc, err := marketplace.abi.Pack("eip712Domain")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackEip712Domain is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x84b0196e.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function eip712Domain() view returns(bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)
func (marketplace *Marketplace) TryPackEip712Domain() ([]byte, error) {
	return marketplace.abi.Pack("eip712Domain")
}

// Eip712DomainOutput serves as a container for the return parameters of contract
// method Eip712Domain.
type Eip712DomainOutput struct {
	Fields            [1]byte
	Name              string
	Version           string
	ChainId           *big.Int
	VerifyingContract common.Address
	Salt              [32]byte
	Extensions        []*big.Int
}

// UnpackEip712Domain is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x84b0196e.
//
// Solidity: function eip712Domain() view returns(bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)
func (marketplace *Marketplace) UnpackEip712Domain(data []byte) (Eip712DomainOutput, error) {
	out, err := marketplace.abi.Unpack("eip712Domain", data)
	outstruct := new(Eip712DomainOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.Fields = *abi.ConvertType(out[0], new([1]byte)).(*[1]byte)
	outstruct.Name = *abi.ConvertType(out[1], new(string)).(*string)
	outstruct.Version = *abi.ConvertType(out[2], new(string)).(*string)
	outstruct.ChainId = abi.ConvertType(out[3], new(big.Int)).(*big.Int)
	outstruct.VerifyingContract = *abi.ConvertType(out[4], new(common.Address)).(*common.Address)
	outstruct.Salt = *abi.ConvertType(out[5], new([32]byte)).(*[32]byte)
	outstruct.Extensions = *abi.ConvertType(out[6], new([]*big.Int)).(*[]*big.Int)
	return *outstruct, nil
}

// PackExitTimeout is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3991f7ab.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function exitTimeout() view returns(uint40)
func (marketplace *Marketplace) PackExitTimeout() []byte {
	enc, err := marketplace.abi.Pack("exitTimeout")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackExitTimeout is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3991f7ab.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function exitTimeout() view returns(uint40)
func (marketplace *Marketplace) TryPackExitTimeout() ([]byte, error) {
	return marketplace.abi.Pack("exitTimeout")
}

// UnpackExitTimeout is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x3991f7ab.
//
// Solidity: function exitTimeout() view returns(uint40)
func (marketplace *Marketplace) UnpackExitTimeout(data []byte) (*big.Int, error) {
	out, err := marketplace.abi.Unpack("exitTimeout", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackExpireDispute is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x497e21f2.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function expireDispute((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p) returns()
func (marketplace *Marketplace) PackExpireDispute(p MarketplaceDealParams) []byte {
	enc, err := marketplace.abi.Pack("expireDispute", p)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackExpireDispute is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x497e21f2.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function expireDispute((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p) returns()
func (marketplace *Marketplace) TryPackExpireDispute(p MarketplaceDealParams) ([]byte, error) {
	return marketplace.abi.Pack("expireDispute", p)
}

// PackFinishExit is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa78bca07.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function finishExit((address,address,bytes32) k) returns()
func (marketplace *Marketplace) PackFinishExit(k MarketplaceChannelKey) []byte {
	enc, err := marketplace.abi.Pack("finishExit", k)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackFinishExit is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa78bca07.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function finishExit((address,address,bytes32) k) returns()
func (marketplace *Marketplace) TryPackFinishExit(k MarketplaceChannelKey) ([]byte, error) {
	return marketplace.abi.Pack("finishExit", k)
}

// PackMediationTimeout is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x36413e30.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function mediationTimeout() view returns(uint40)
func (marketplace *Marketplace) PackMediationTimeout() []byte {
	enc, err := marketplace.abi.Pack("mediationTimeout")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackMediationTimeout is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x36413e30.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function mediationTimeout() view returns(uint40)
func (marketplace *Marketplace) TryPackMediationTimeout() ([]byte, error) {
	return marketplace.abi.Pack("mediationTimeout")
}

// UnpackMediationTimeout is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x36413e30.
//
// Solidity: function mediationTimeout() view returns(uint40)
func (marketplace *Marketplace) UnpackMediationTimeout(data []byte) (*big.Int, error) {
	out, err := marketplace.abi.Unpack("mediationTimeout", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackOpenChannel is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd3ccc4e9.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function openChannel(address provider, bytes32 salt) payable returns(bytes32 id)
func (marketplace *Marketplace) PackOpenChannel(provider common.Address, salt [32]byte) []byte {
	enc, err := marketplace.abi.Pack("openChannel", provider, salt)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackOpenChannel is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd3ccc4e9.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function openChannel(address provider, bytes32 salt) payable returns(bytes32 id)
func (marketplace *Marketplace) TryPackOpenChannel(provider common.Address, salt [32]byte) ([]byte, error) {
	return marketplace.abi.Pack("openChannel", provider, salt)
}

// UnpackOpenChannel is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xd3ccc4e9.
//
// Solidity: function openChannel(address provider, bytes32 salt) payable returns(bytes32 id)
func (marketplace *Marketplace) UnpackOpenChannel(data []byte) ([32]byte, error) {
	out, err := marketplace.abi.Unpack("openChannel", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackOpenDeal is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x80ee75b8.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function openDeal((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p, bytes providerSig) payable returns(bytes32 id)
func (marketplace *Marketplace) PackOpenDeal(p MarketplaceDealParams, providerSig []byte) []byte {
	enc, err := marketplace.abi.Pack("openDeal", p, providerSig)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackOpenDeal is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x80ee75b8.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function openDeal((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p, bytes providerSig) payable returns(bytes32 id)
func (marketplace *Marketplace) TryPackOpenDeal(p MarketplaceDealParams, providerSig []byte) ([]byte, error) {
	return marketplace.abi.Pack("openDeal", p, providerSig)
}

// UnpackOpenDeal is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x80ee75b8.
//
// Solidity: function openDeal((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p, bytes providerSig) payable returns(bytes32 id)
func (marketplace *Marketplace) UnpackOpenDeal(data []byte) ([32]byte, error) {
	out, err := marketplace.abi.Unpack("openDeal", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackPendingUnstake is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x56d6ea4f.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function pendingUnstake(address ) view returns(uint96)
func (marketplace *Marketplace) PackPendingUnstake(arg0 common.Address) []byte {
	enc, err := marketplace.abi.Pack("pendingUnstake", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackPendingUnstake is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x56d6ea4f.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function pendingUnstake(address ) view returns(uint96)
func (marketplace *Marketplace) TryPackPendingUnstake(arg0 common.Address) ([]byte, error) {
	return marketplace.abi.Pack("pendingUnstake", arg0)
}

// UnpackPendingUnstake is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x56d6ea4f.
//
// Solidity: function pendingUnstake(address ) view returns(uint96)
func (marketplace *Marketplace) UnpackPendingUnstake(data []byte) (*big.Int, error) {
	out, err := marketplace.abi.Unpack("pendingUnstake", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackRedeem is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xabf57cbc.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function redeem((address,address,bytes32) k, uint256 cumulativeAmount, bytes signature) returns()
func (marketplace *Marketplace) PackRedeem(k MarketplaceChannelKey, cumulativeAmount *big.Int, signature []byte) []byte {
	enc, err := marketplace.abi.Pack("redeem", k, cumulativeAmount, signature)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRedeem is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xabf57cbc.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function redeem((address,address,bytes32) k, uint256 cumulativeAmount, bytes signature) returns()
func (marketplace *Marketplace) TryPackRedeem(k MarketplaceChannelKey, cumulativeAmount *big.Int, signature []byte) ([]byte, error) {
	return marketplace.abi.Pack("redeem", k, cumulativeAmount, signature)
}

// PackRedeemMany is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xae71f63a.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function redeemMany(((address,address,bytes32),uint256,bytes)[] vouchers) returns()
func (marketplace *Marketplace) PackRedeemMany(vouchers []MarketplaceSignedVoucher) []byte {
	enc, err := marketplace.abi.Pack("redeemMany", vouchers)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRedeemMany is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xae71f63a.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function redeemMany(((address,address,bytes32),uint256,bytes)[] vouchers) returns()
func (marketplace *Marketplace) TryPackRedeemMany(vouchers []MarketplaceSignedVoucher) ([]byte, error) {
	return marketplace.abi.Pack("redeemMany", vouchers)
}

// PackRefund is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x7fadd68d.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function refund((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p) returns()
func (marketplace *Marketplace) PackRefund(p MarketplaceDealParams) []byte {
	enc, err := marketplace.abi.Pack("refund", p)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRefund is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x7fadd68d.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function refund((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p) returns()
func (marketplace *Marketplace) TryPackRefund(p MarketplaceDealParams) ([]byte, error) {
	return marketplace.abi.Pack("refund", p)
}

// PackRequestUnstake is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x5e9245e6.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function requestUnstake(uint96 amount) returns()
func (marketplace *Marketplace) PackRequestUnstake(amount *big.Int) []byte {
	enc, err := marketplace.abi.Pack("requestUnstake", amount)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRequestUnstake is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x5e9245e6.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function requestUnstake(uint96 amount) returns()
func (marketplace *Marketplace) TryPackRequestUnstake(amount *big.Int) ([]byte, error) {
	return marketplace.abi.Pack("requestUnstake", amount)
}

// PackResolve is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x33ba8ac7.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function resolve((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p, bool forProvider) returns()
func (marketplace *Marketplace) PackResolve(p MarketplaceDealParams, forProvider bool) []byte {
	enc, err := marketplace.abi.Pack("resolve", p, forProvider)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackResolve is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x33ba8ac7.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function resolve((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p, bool forProvider) returns()
func (marketplace *Marketplace) TryPackResolve(p MarketplaceDealParams, forProvider bool) ([]byte, error) {
	return marketplace.abi.Pack("resolve", p, forProvider)
}

// PackStake is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3a4b66f1.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function stake() payable returns()
func (marketplace *Marketplace) PackStake() []byte {
	enc, err := marketplace.abi.Pack("stake")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackStake is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3a4b66f1.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function stake() payable returns()
func (marketplace *Marketplace) TryPackStake() ([]byte, error) {
	return marketplace.abi.Pack("stake")
}

// PackStakes is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x16934fc4.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function stakes(address ) view returns(uint96 amount, uint96 locked, uint40 unlockAt)
func (marketplace *Marketplace) PackStakes(arg0 common.Address) []byte {
	enc, err := marketplace.abi.Pack("stakes", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackStakes is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x16934fc4.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function stakes(address ) view returns(uint96 amount, uint96 locked, uint40 unlockAt)
func (marketplace *Marketplace) TryPackStakes(arg0 common.Address) ([]byte, error) {
	return marketplace.abi.Pack("stakes", arg0)
}

// StakesOutput serves as a container for the return parameters of contract
// method Stakes.
type StakesOutput struct {
	Amount   *big.Int
	Locked   *big.Int
	UnlockAt *big.Int
}

// UnpackStakes is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x16934fc4.
//
// Solidity: function stakes(address ) view returns(uint96 amount, uint96 locked, uint40 unlockAt)
func (marketplace *Marketplace) UnpackStakes(data []byte) (StakesOutput, error) {
	out, err := marketplace.abi.Unpack("stakes", data)
	outstruct := new(StakesOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.Amount = abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	outstruct.Locked = abi.ConvertType(out[1], new(big.Int)).(*big.Int)
	outstruct.UnlockAt = abi.ConvertType(out[2], new(big.Int)).(*big.Int)
	return *outstruct, nil
}

// PackStartExit is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x40bd65f8.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function startExit((address,address,bytes32) k) returns()
func (marketplace *Marketplace) PackStartExit(k MarketplaceChannelKey) []byte {
	enc, err := marketplace.abi.Pack("startExit", k)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackStartExit is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x40bd65f8.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function startExit((address,address,bytes32) k) returns()
func (marketplace *Marketplace) TryPackStartExit(k MarketplaceChannelKey) ([]byte, error) {
	return marketplace.abi.Pack("startExit", k)
}

// PackSubmitResult is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x4930249b.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function submitResult((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p, bytes32 resultHash) returns()
func (marketplace *Marketplace) PackSubmitResult(p MarketplaceDealParams, resultHash [32]byte) []byte {
	enc, err := marketplace.abi.Pack("submitResult", p, resultHash)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSubmitResult is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x4930249b.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function submitResult((address,address,address,uint96,uint96,uint96,uint40,uint40,bytes32) p, bytes32 resultHash) returns()
func (marketplace *Marketplace) TryPackSubmitResult(p MarketplaceDealParams, resultHash [32]byte) ([]byte, error) {
	return marketplace.abi.Pack("submitResult", p, resultHash)
}

// PackTopUp is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x932e9611.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function topUp((address,address,bytes32) k) payable returns()
func (marketplace *Marketplace) PackTopUp(k MarketplaceChannelKey) []byte {
	enc, err := marketplace.abi.Pack("topUp", k)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackTopUp is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x932e9611.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function topUp((address,address,bytes32) k) payable returns()
func (marketplace *Marketplace) TryPackTopUp(k MarketplaceChannelKey) ([]byte, error) {
	return marketplace.abi.Pack("topUp", k)
}

// PackUnstake is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2def6620.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function unstake() returns()
func (marketplace *Marketplace) PackUnstake() []byte {
	enc, err := marketplace.abi.Pack("unstake")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackUnstake is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2def6620.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function unstake() returns()
func (marketplace *Marketplace) TryPackUnstake() ([]byte, error) {
	return marketplace.abi.Pack("unstake")
}

// PackUnstakeDelay is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3222012f.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function unstakeDelay() view returns(uint40)
func (marketplace *Marketplace) PackUnstakeDelay() []byte {
	enc, err := marketplace.abi.Pack("unstakeDelay")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackUnstakeDelay is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3222012f.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function unstakeDelay() view returns(uint40)
func (marketplace *Marketplace) TryPackUnstakeDelay() ([]byte, error) {
	return marketplace.abi.Pack("unstakeDelay")
}

// UnpackUnstakeDelay is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x3222012f.
//
// Solidity: function unstakeDelay() view returns(uint40)
func (marketplace *Marketplace) UnpackUnstakeDelay(data []byte) (*big.Int, error) {
	out, err := marketplace.abi.Unpack("unstakeDelay", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackVoucherDigest is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xe55aee26.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function voucherDigest(bytes32 id, uint256 cumulativeAmount) view returns(bytes32)
func (marketplace *Marketplace) PackVoucherDigest(id [32]byte, cumulativeAmount *big.Int) []byte {
	enc, err := marketplace.abi.Pack("voucherDigest", id, cumulativeAmount)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackVoucherDigest is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xe55aee26.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function voucherDigest(bytes32 id, uint256 cumulativeAmount) view returns(bytes32)
func (marketplace *Marketplace) TryPackVoucherDigest(id [32]byte, cumulativeAmount *big.Int) ([]byte, error) {
	return marketplace.abi.Pack("voucherDigest", id, cumulativeAmount)
}

// UnpackVoucherDigest is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xe55aee26.
//
// Solidity: function voucherDigest(bytes32 id, uint256 cumulativeAmount) view returns(bytes32)
func (marketplace *Marketplace) UnpackVoucherDigest(data []byte) ([32]byte, error) {
	out, err := marketplace.abi.Unpack("voucherDigest", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackWithdraw is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3ccfd60b.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function withdraw() returns()
func (marketplace *Marketplace) PackWithdraw() []byte {
	enc, err := marketplace.abi.Pack("withdraw")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackWithdraw is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3ccfd60b.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function withdraw() returns()
func (marketplace *Marketplace) TryPackWithdraw() ([]byte, error) {
	return marketplace.abi.Pack("withdraw")
}

// MarketplaceChannelClosed represents a ChannelClosed event raised by the Marketplace contract.
type MarketplaceChannelClosed struct {
	ChannelId [32]byte
	Refunded  *big.Int
	Raw       *types.Log // Blockchain specific contextual infos
}

const MarketplaceChannelClosedEventName = "ChannelClosed"

// ContractEventName returns the user-defined event name.
func (MarketplaceChannelClosed) ContractEventName() string {
	return MarketplaceChannelClosedEventName
}

// UnpackChannelClosedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event ChannelClosed(bytes32 indexed channelId, uint256 refunded)
func (marketplace *Marketplace) UnpackChannelClosedEvent(log *types.Log) (*MarketplaceChannelClosed, error) {
	event := "ChannelClosed"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceChannelClosed)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceChannelExitStarted represents a ChannelExitStarted event raised by the Marketplace contract.
type MarketplaceChannelExitStarted struct {
	ChannelId [32]byte
	ExitAt    *big.Int
	Raw       *types.Log // Blockchain specific contextual infos
}

const MarketplaceChannelExitStartedEventName = "ChannelExitStarted"

// ContractEventName returns the user-defined event name.
func (MarketplaceChannelExitStarted) ContractEventName() string {
	return MarketplaceChannelExitStartedEventName
}

// UnpackChannelExitStartedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event ChannelExitStarted(bytes32 indexed channelId, uint256 exitAt)
func (marketplace *Marketplace) UnpackChannelExitStartedEvent(log *types.Log) (*MarketplaceChannelExitStarted, error) {
	event := "ChannelExitStarted"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceChannelExitStarted)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceChannelOpened represents a ChannelOpened event raised by the Marketplace contract.
type MarketplaceChannelOpened struct {
	ChannelId [32]byte
	Client    common.Address
	Provider  common.Address
	Salt      [32]byte
	Deposit   *big.Int
	Raw       *types.Log // Blockchain specific contextual infos
}

const MarketplaceChannelOpenedEventName = "ChannelOpened"

// ContractEventName returns the user-defined event name.
func (MarketplaceChannelOpened) ContractEventName() string {
	return MarketplaceChannelOpenedEventName
}

// UnpackChannelOpenedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event ChannelOpened(bytes32 indexed channelId, address indexed client, address indexed provider, bytes32 salt, uint256 deposit)
func (marketplace *Marketplace) UnpackChannelOpenedEvent(log *types.Log) (*MarketplaceChannelOpened, error) {
	event := "ChannelOpened"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceChannelOpened)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceChannelToppedUp represents a ChannelToppedUp event raised by the Marketplace contract.
type MarketplaceChannelToppedUp struct {
	ChannelId [32]byte
	Amount    *big.Int
	Deposit   *big.Int
	Raw       *types.Log // Blockchain specific contextual infos
}

const MarketplaceChannelToppedUpEventName = "ChannelToppedUp"

// ContractEventName returns the user-defined event name.
func (MarketplaceChannelToppedUp) ContractEventName() string {
	return MarketplaceChannelToppedUpEventName
}

// UnpackChannelToppedUpEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event ChannelToppedUp(bytes32 indexed channelId, uint256 amount, uint256 deposit)
func (marketplace *Marketplace) UnpackChannelToppedUpEvent(log *types.Log) (*MarketplaceChannelToppedUp, error) {
	event := "ChannelToppedUp"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceChannelToppedUp)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceDealAccepted represents a DealAccepted event raised by the Marketplace contract.
type MarketplaceDealAccepted struct {
	DealId [32]byte
	Client common.Address
	Raw    *types.Log // Blockchain specific contextual infos
}

const MarketplaceDealAcceptedEventName = "DealAccepted"

// ContractEventName returns the user-defined event name.
func (MarketplaceDealAccepted) ContractEventName() string {
	return MarketplaceDealAcceptedEventName
}

// UnpackDealAcceptedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event DealAccepted(bytes32 indexed dealId, address indexed client)
func (marketplace *Marketplace) UnpackDealAcceptedEvent(log *types.Log) (*MarketplaceDealAccepted, error) {
	event := "DealAccepted"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceDealAccepted)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceDealClaimed represents a DealClaimed event raised by the Marketplace contract.
type MarketplaceDealClaimed struct {
	DealId   [32]byte
	Provider common.Address
	Raw      *types.Log // Blockchain specific contextual infos
}

const MarketplaceDealClaimedEventName = "DealClaimed"

// ContractEventName returns the user-defined event name.
func (MarketplaceDealClaimed) ContractEventName() string {
	return MarketplaceDealClaimedEventName
}

// UnpackDealClaimedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event DealClaimed(bytes32 indexed dealId, address indexed provider)
func (marketplace *Marketplace) UnpackDealClaimedEvent(log *types.Log) (*MarketplaceDealClaimed, error) {
	event := "DealClaimed"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceDealClaimed)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceDealDisputed represents a DealDisputed event raised by the Marketplace contract.
type MarketplaceDealDisputed struct {
	DealId [32]byte
	Client common.Address
	Raw    *types.Log // Blockchain specific contextual infos
}

const MarketplaceDealDisputedEventName = "DealDisputed"

// ContractEventName returns the user-defined event name.
func (MarketplaceDealDisputed) ContractEventName() string {
	return MarketplaceDealDisputedEventName
}

// UnpackDealDisputedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event DealDisputed(bytes32 indexed dealId, address indexed client)
func (marketplace *Marketplace) UnpackDealDisputedEvent(log *types.Log) (*MarketplaceDealDisputed, error) {
	event := "DealDisputed"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceDealDisputed)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceDealOpened represents a DealOpened event raised by the Marketplace contract.
type MarketplaceDealOpened struct {
	DealId          [32]byte
	Client          common.Address
	Provider        common.Address
	Mediator        common.Address
	Price           *big.Int
	MediatorFee     *big.Int
	Collateral      *big.Int
	Deadline        *big.Int
	ChallengeWindow *big.Int
	JobHash         [32]byte
	Raw             *types.Log // Blockchain specific contextual infos
}

const MarketplaceDealOpenedEventName = "DealOpened"

// ContractEventName returns the user-defined event name.
func (MarketplaceDealOpened) ContractEventName() string {
	return MarketplaceDealOpenedEventName
}

// UnpackDealOpenedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event DealOpened(bytes32 indexed dealId, address indexed client, address indexed provider, address mediator, uint96 price, uint96 mediatorFee, uint96 collateral, uint40 deadline, uint40 challengeWindow, bytes32 jobHash)
func (marketplace *Marketplace) UnpackDealOpenedEvent(log *types.Log) (*MarketplaceDealOpened, error) {
	event := "DealOpened"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceDealOpened)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceDealRefunded represents a DealRefunded event raised by the Marketplace contract.
type MarketplaceDealRefunded struct {
	DealId  [32]byte
	Client  common.Address
	Amount  *big.Int
	Slashed *big.Int
	Raw     *types.Log // Blockchain specific contextual infos
}

const MarketplaceDealRefundedEventName = "DealRefunded"

// ContractEventName returns the user-defined event name.
func (MarketplaceDealRefunded) ContractEventName() string {
	return MarketplaceDealRefundedEventName
}

// UnpackDealRefundedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event DealRefunded(bytes32 indexed dealId, address indexed client, uint256 amount, uint256 slashed)
func (marketplace *Marketplace) UnpackDealRefundedEvent(log *types.Log) (*MarketplaceDealRefunded, error) {
	event := "DealRefunded"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceDealRefunded)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceDealResolved represents a DealResolved event raised by the Marketplace contract.
type MarketplaceDealResolved struct {
	DealId      [32]byte
	Mediator    common.Address
	ForProvider bool
	Raw         *types.Log // Blockchain specific contextual infos
}

const MarketplaceDealResolvedEventName = "DealResolved"

// ContractEventName returns the user-defined event name.
func (MarketplaceDealResolved) ContractEventName() string {
	return MarketplaceDealResolvedEventName
}

// UnpackDealResolvedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event DealResolved(bytes32 indexed dealId, address indexed mediator, bool forProvider)
func (marketplace *Marketplace) UnpackDealResolvedEvent(log *types.Log) (*MarketplaceDealResolved, error) {
	event := "DealResolved"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceDealResolved)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceDisputeExpired represents a DisputeExpired event raised by the Marketplace contract.
type MarketplaceDisputeExpired struct {
	DealId [32]byte
	Raw    *types.Log // Blockchain specific contextual infos
}

const MarketplaceDisputeExpiredEventName = "DisputeExpired"

// ContractEventName returns the user-defined event name.
func (MarketplaceDisputeExpired) ContractEventName() string {
	return MarketplaceDisputeExpiredEventName
}

// UnpackDisputeExpiredEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event DisputeExpired(bytes32 indexed dealId)
func (marketplace *Marketplace) UnpackDisputeExpiredEvent(log *types.Log) (*MarketplaceDisputeExpired, error) {
	event := "DisputeExpired"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceDisputeExpired)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceEIP712DomainChanged represents a EIP712DomainChanged event raised by the Marketplace contract.
type MarketplaceEIP712DomainChanged struct {
	Raw *types.Log // Blockchain specific contextual infos
}

const MarketplaceEIP712DomainChangedEventName = "EIP712DomainChanged"

// ContractEventName returns the user-defined event name.
func (MarketplaceEIP712DomainChanged) ContractEventName() string {
	return MarketplaceEIP712DomainChangedEventName
}

// UnpackEIP712DomainChangedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event EIP712DomainChanged()
func (marketplace *Marketplace) UnpackEIP712DomainChangedEvent(log *types.Log) (*MarketplaceEIP712DomainChanged, error) {
	event := "EIP712DomainChanged"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceEIP712DomainChanged)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceResultSubmitted represents a ResultSubmitted event raised by the Marketplace contract.
type MarketplaceResultSubmitted struct {
	DealId     [32]byte
	Provider   common.Address
	ResultHash [32]byte
	Raw        *types.Log // Blockchain specific contextual infos
}

const MarketplaceResultSubmittedEventName = "ResultSubmitted"

// ContractEventName returns the user-defined event name.
func (MarketplaceResultSubmitted) ContractEventName() string {
	return MarketplaceResultSubmittedEventName
}

// UnpackResultSubmittedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event ResultSubmitted(bytes32 indexed dealId, address indexed provider, bytes32 resultHash)
func (marketplace *Marketplace) UnpackResultSubmittedEvent(log *types.Log) (*MarketplaceResultSubmitted, error) {
	event := "ResultSubmitted"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceResultSubmitted)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceStaked represents a Staked event raised by the Marketplace contract.
type MarketplaceStaked struct {
	Provider common.Address
	Amount   *big.Int
	Total    *big.Int
	Raw      *types.Log // Blockchain specific contextual infos
}

const MarketplaceStakedEventName = "Staked"

// ContractEventName returns the user-defined event name.
func (MarketplaceStaked) ContractEventName() string {
	return MarketplaceStakedEventName
}

// UnpackStakedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Staked(address indexed provider, uint256 amount, uint256 total)
func (marketplace *Marketplace) UnpackStakedEvent(log *types.Log) (*MarketplaceStaked, error) {
	event := "Staked"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceStaked)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceUnstakeRequested represents a UnstakeRequested event raised by the Marketplace contract.
type MarketplaceUnstakeRequested struct {
	Provider common.Address
	Amount   *big.Int
	UnlockAt *big.Int
	Raw      *types.Log // Blockchain specific contextual infos
}

const MarketplaceUnstakeRequestedEventName = "UnstakeRequested"

// ContractEventName returns the user-defined event name.
func (MarketplaceUnstakeRequested) ContractEventName() string {
	return MarketplaceUnstakeRequestedEventName
}

// UnpackUnstakeRequestedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event UnstakeRequested(address indexed provider, uint256 amount, uint256 unlockAt)
func (marketplace *Marketplace) UnpackUnstakeRequestedEvent(log *types.Log) (*MarketplaceUnstakeRequested, error) {
	event := "UnstakeRequested"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceUnstakeRequested)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceUnstaked represents a Unstaked event raised by the Marketplace contract.
type MarketplaceUnstaked struct {
	Provider common.Address
	Amount   *big.Int
	Raw      *types.Log // Blockchain specific contextual infos
}

const MarketplaceUnstakedEventName = "Unstaked"

// ContractEventName returns the user-defined event name.
func (MarketplaceUnstaked) ContractEventName() string {
	return MarketplaceUnstakedEventName
}

// UnpackUnstakedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Unstaked(address indexed provider, uint256 amount)
func (marketplace *Marketplace) UnpackUnstakedEvent(log *types.Log) (*MarketplaceUnstaked, error) {
	event := "Unstaked"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceUnstaked)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceVoucherRedeemed represents a VoucherRedeemed event raised by the Marketplace contract.
type MarketplaceVoucherRedeemed struct {
	ChannelId        [32]byte
	Provider         common.Address
	CumulativeAmount *big.Int
	Paid             *big.Int
	Raw              *types.Log // Blockchain specific contextual infos
}

const MarketplaceVoucherRedeemedEventName = "VoucherRedeemed"

// ContractEventName returns the user-defined event name.
func (MarketplaceVoucherRedeemed) ContractEventName() string {
	return MarketplaceVoucherRedeemedEventName
}

// UnpackVoucherRedeemedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event VoucherRedeemed(bytes32 indexed channelId, address indexed provider, uint256 cumulativeAmount, uint256 paid)
func (marketplace *Marketplace) UnpackVoucherRedeemedEvent(log *types.Log) (*MarketplaceVoucherRedeemed, error) {
	event := "VoucherRedeemed"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceVoucherRedeemed)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// MarketplaceWithdrawn represents a Withdrawn event raised by the Marketplace contract.
type MarketplaceWithdrawn struct {
	Account common.Address
	Amount  *big.Int
	Raw     *types.Log // Blockchain specific contextual infos
}

const MarketplaceWithdrawnEventName = "Withdrawn"

// ContractEventName returns the user-defined event name.
func (MarketplaceWithdrawn) ContractEventName() string {
	return MarketplaceWithdrawnEventName
}

// UnpackWithdrawnEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Withdrawn(address indexed account, uint256 amount)
func (marketplace *Marketplace) UnpackWithdrawnEvent(log *types.Log) (*MarketplaceWithdrawn, error) {
	event := "Withdrawn"
	if len(log.Topics) == 0 || log.Topics[0] != marketplace.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(MarketplaceWithdrawn)
	if len(log.Data) > 0 {
		if err := marketplace.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range marketplace.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// UnpackError attempts to decode the provided error data using user-defined
// error definitions.
func (marketplace *Marketplace) UnpackError(raw []byte) (any, error) {
	if bytes.Equal(raw[:4], marketplace.abi.Errors["BadDealState"].ID.Bytes()[:4]) {
		return marketplace.UnpackBadDealStateError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["BadParams"].ID.Bytes()[:4]) {
		return marketplace.UnpackBadParamsError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["BadSignature"].ID.Bytes()[:4]) {
		return marketplace.UnpackBadSignatureError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["BadValue"].ID.Bytes()[:4]) {
		return marketplace.UnpackBadValueError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["ChannelExists"].ID.Bytes()[:4]) {
		return marketplace.UnpackChannelExistsError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["ChannelExiting"].ID.Bytes()[:4]) {
		return marketplace.UnpackChannelExitingError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["ChannelFinished"].ID.Bytes()[:4]) {
		return marketplace.UnpackChannelFinishedError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["DealExists"].ID.Bytes()[:4]) {
		return marketplace.UnpackDealExistsError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["FailedCall"].ID.Bytes()[:4]) {
		return marketplace.UnpackFailedCallError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["InsufficientBalance"].ID.Bytes()[:4]) {
		return marketplace.UnpackInsufficientBalanceError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["InsufficientStake"].ID.Bytes()[:4]) {
		return marketplace.UnpackInsufficientStakeError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["InvalidShortString"].ID.Bytes()[:4]) {
		return marketplace.UnpackInvalidShortStringError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["NoMediator"].ID.Bytes()[:4]) {
		return marketplace.UnpackNoMediatorError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["NotClient"].ID.Bytes()[:4]) {
		return marketplace.UnpackNotClientError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["NotMediator"].ID.Bytes()[:4]) {
		return marketplace.UnpackNotMediatorError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["NotParty"].ID.Bytes()[:4]) {
		return marketplace.UnpackNotPartyError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["NotProvider"].ID.Bytes()[:4]) {
		return marketplace.UnpackNotProviderError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["NothingPending"].ID.Bytes()[:4]) {
		return marketplace.UnpackNothingPendingError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["NothingToWithdraw"].ID.Bytes()[:4]) {
		return marketplace.UnpackNothingToWithdrawError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["ReentrancyGuardReentrantCall"].ID.Bytes()[:4]) {
		return marketplace.UnpackReentrancyGuardReentrantCallError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["SafeCastOverflowedUintDowncast"].ID.Bytes()[:4]) {
		return marketplace.UnpackSafeCastOverflowedUintDowncastError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["StringTooLong"].ID.Bytes()[:4]) {
		return marketplace.UnpackStringTooLongError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["TooEarly"].ID.Bytes()[:4]) {
		return marketplace.UnpackTooEarlyError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["TooLate"].ID.Bytes()[:4]) {
		return marketplace.UnpackTooLateError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["UnknownChannel"].ID.Bytes()[:4]) {
		return marketplace.UnpackUnknownChannelError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["VoucherTooLow"].ID.Bytes()[:4]) {
		return marketplace.UnpackVoucherTooLowError(raw[4:])
	}
	if bytes.Equal(raw[:4], marketplace.abi.Errors["ZeroAmount"].ID.Bytes()[:4]) {
		return marketplace.UnpackZeroAmountError(raw[4:])
	}
	return nil, errors.New("Unknown error")
}

// MarketplaceBadDealState represents a BadDealState error raised by the Marketplace contract.
type MarketplaceBadDealState struct {
	DealId [32]byte
	Status uint8
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BadDealState(bytes32 dealId, uint8 status)
func MarketplaceBadDealStateErrorID() common.Hash {
	return common.HexToHash("0x2433200365421c9090924ac66c6acc7479d0525df3f4affc830a899ec52982dc")
}

// UnpackBadDealStateError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BadDealState(bytes32 dealId, uint8 status)
func (marketplace *Marketplace) UnpackBadDealStateError(raw []byte) (*MarketplaceBadDealState, error) {
	out := new(MarketplaceBadDealState)
	if err := marketplace.abi.UnpackIntoInterface(out, "BadDealState", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceBadParams represents a BadParams error raised by the Marketplace contract.
type MarketplaceBadParams struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BadParams()
func MarketplaceBadParamsErrorID() common.Hash {
	return common.HexToHash("0x019af6379de0e1c5d9ed7bc9cadaf094fc9efb595904a561b64245c59cd9399f")
}

// UnpackBadParamsError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BadParams()
func (marketplace *Marketplace) UnpackBadParamsError(raw []byte) (*MarketplaceBadParams, error) {
	out := new(MarketplaceBadParams)
	if err := marketplace.abi.UnpackIntoInterface(out, "BadParams", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceBadSignature represents a BadSignature error raised by the Marketplace contract.
type MarketplaceBadSignature struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BadSignature()
func MarketplaceBadSignatureErrorID() common.Hash {
	return common.HexToHash("0x5cd5d2335541c4f2ed05fbe44f397e8b79f8e2333157122d2dab06e378ef7685")
}

// UnpackBadSignatureError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BadSignature()
func (marketplace *Marketplace) UnpackBadSignatureError(raw []byte) (*MarketplaceBadSignature, error) {
	out := new(MarketplaceBadSignature)
	if err := marketplace.abi.UnpackIntoInterface(out, "BadSignature", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceBadValue represents a BadValue error raised by the Marketplace contract.
type MarketplaceBadValue struct {
	Expected *big.Int
	Got      *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BadValue(uint256 expected, uint256 got)
func MarketplaceBadValueErrorID() common.Hash {
	return common.HexToHash("0x8c54e3091117be9621f1d084bb1df95b753eb26f2c0a73717088a736ad3be0cb")
}

// UnpackBadValueError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BadValue(uint256 expected, uint256 got)
func (marketplace *Marketplace) UnpackBadValueError(raw []byte) (*MarketplaceBadValue, error) {
	out := new(MarketplaceBadValue)
	if err := marketplace.abi.UnpackIntoInterface(out, "BadValue", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceChannelExists represents a ChannelExists error raised by the Marketplace contract.
type MarketplaceChannelExists struct {
	ChannelId [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ChannelExists(bytes32 channelId)
func MarketplaceChannelExistsErrorID() common.Hash {
	return common.HexToHash("0xa940c060494e4a8725ceaaeed5009635eed00c41d329b627de1735c400b10517")
}

// UnpackChannelExistsError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ChannelExists(bytes32 channelId)
func (marketplace *Marketplace) UnpackChannelExistsError(raw []byte) (*MarketplaceChannelExists, error) {
	out := new(MarketplaceChannelExists)
	if err := marketplace.abi.UnpackIntoInterface(out, "ChannelExists", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceChannelExiting represents a ChannelExiting error raised by the Marketplace contract.
type MarketplaceChannelExiting struct {
	ChannelId [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ChannelExiting(bytes32 channelId)
func MarketplaceChannelExitingErrorID() common.Hash {
	return common.HexToHash("0x59be593b067a8ace0add5a3fce7cbab10c65b061f41f32b969329535c1395f03")
}

// UnpackChannelExitingError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ChannelExiting(bytes32 channelId)
func (marketplace *Marketplace) UnpackChannelExitingError(raw []byte) (*MarketplaceChannelExiting, error) {
	out := new(MarketplaceChannelExiting)
	if err := marketplace.abi.UnpackIntoInterface(out, "ChannelExiting", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceChannelFinished represents a ChannelFinished error raised by the Marketplace contract.
type MarketplaceChannelFinished struct {
	ChannelId [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ChannelFinished(bytes32 channelId)
func MarketplaceChannelFinishedErrorID() common.Hash {
	return common.HexToHash("0x0aad820de95289136c535e621cbdfcfa7f4395ff41dfcdc95485e23081ee8a64")
}

// UnpackChannelFinishedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ChannelFinished(bytes32 channelId)
func (marketplace *Marketplace) UnpackChannelFinishedError(raw []byte) (*MarketplaceChannelFinished, error) {
	out := new(MarketplaceChannelFinished)
	if err := marketplace.abi.UnpackIntoInterface(out, "ChannelFinished", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceDealExists represents a DealExists error raised by the Marketplace contract.
type MarketplaceDealExists struct {
	DealId [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error DealExists(bytes32 dealId)
func MarketplaceDealExistsErrorID() common.Hash {
	return common.HexToHash("0xb3e2817b959853b0c0e422419836f9dcbdcac91a2744580c66e7c31a5ce43308")
}

// UnpackDealExistsError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error DealExists(bytes32 dealId)
func (marketplace *Marketplace) UnpackDealExistsError(raw []byte) (*MarketplaceDealExists, error) {
	out := new(MarketplaceDealExists)
	if err := marketplace.abi.UnpackIntoInterface(out, "DealExists", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceFailedCall represents a FailedCall error raised by the Marketplace contract.
type MarketplaceFailedCall struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error FailedCall()
func MarketplaceFailedCallErrorID() common.Hash {
	return common.HexToHash("0xd6bda27508c0fb6d8a39b4b122878dab26f731a7d4e4abe711dd3731899052a4")
}

// UnpackFailedCallError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error FailedCall()
func (marketplace *Marketplace) UnpackFailedCallError(raw []byte) (*MarketplaceFailedCall, error) {
	out := new(MarketplaceFailedCall)
	if err := marketplace.abi.UnpackIntoInterface(out, "FailedCall", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceInsufficientBalance represents a InsufficientBalance error raised by the Marketplace contract.
type MarketplaceInsufficientBalance struct {
	Balance *big.Int
	Needed  *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error InsufficientBalance(uint256 balance, uint256 needed)
func MarketplaceInsufficientBalanceErrorID() common.Hash {
	return common.HexToHash("0xcf4791818fba6e019216eb4864093b4947f674afada5d305e57d598b641dad1d")
}

// UnpackInsufficientBalanceError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error InsufficientBalance(uint256 balance, uint256 needed)
func (marketplace *Marketplace) UnpackInsufficientBalanceError(raw []byte) (*MarketplaceInsufficientBalance, error) {
	out := new(MarketplaceInsufficientBalance)
	if err := marketplace.abi.UnpackIntoInterface(out, "InsufficientBalance", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceInsufficientStake represents a InsufficientStake error raised by the Marketplace contract.
type MarketplaceInsufficientStake struct {
	Free   *big.Int
	Needed *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error InsufficientStake(uint256 free, uint256 needed)
func MarketplaceInsufficientStakeErrorID() common.Hash {
	return common.HexToHash("0x45be0a261a88f9fedc41221879f08865d5e8d6053c877967e6e8e39e5697e6d5")
}

// UnpackInsufficientStakeError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error InsufficientStake(uint256 free, uint256 needed)
func (marketplace *Marketplace) UnpackInsufficientStakeError(raw []byte) (*MarketplaceInsufficientStake, error) {
	out := new(MarketplaceInsufficientStake)
	if err := marketplace.abi.UnpackIntoInterface(out, "InsufficientStake", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceInvalidShortString represents a InvalidShortString error raised by the Marketplace contract.
type MarketplaceInvalidShortString struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error InvalidShortString()
func MarketplaceInvalidShortStringErrorID() common.Hash {
	return common.HexToHash("0xb3512b0c6163e5f0bafab72bb631b9d58cd7a731b082f910338aa21c83d5c274")
}

// UnpackInvalidShortStringError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error InvalidShortString()
func (marketplace *Marketplace) UnpackInvalidShortStringError(raw []byte) (*MarketplaceInvalidShortString, error) {
	out := new(MarketplaceInvalidShortString)
	if err := marketplace.abi.UnpackIntoInterface(out, "InvalidShortString", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceNoMediator represents a NoMediator error raised by the Marketplace contract.
type MarketplaceNoMediator struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NoMediator()
func MarketplaceNoMediatorErrorID() common.Hash {
	return common.HexToHash("0xf39138641fe00aac73a8e0f8ede6968bdd0e01a9462ce8b30a28164353ecc941")
}

// UnpackNoMediatorError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NoMediator()
func (marketplace *Marketplace) UnpackNoMediatorError(raw []byte) (*MarketplaceNoMediator, error) {
	out := new(MarketplaceNoMediator)
	if err := marketplace.abi.UnpackIntoInterface(out, "NoMediator", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceNotClient represents a NotClient error raised by the Marketplace contract.
type MarketplaceNotClient struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotClient()
func MarketplaceNotClientErrorID() common.Hash {
	return common.HexToHash("0x20dbc8744d453df555874a9fb4bfc2e2a9c4bad22c5742928ec789edbc038b43")
}

// UnpackNotClientError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotClient()
func (marketplace *Marketplace) UnpackNotClientError(raw []byte) (*MarketplaceNotClient, error) {
	out := new(MarketplaceNotClient)
	if err := marketplace.abi.UnpackIntoInterface(out, "NotClient", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceNotMediator represents a NotMediator error raised by the Marketplace contract.
type MarketplaceNotMediator struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotMediator()
func MarketplaceNotMediatorErrorID() common.Hash {
	return common.HexToHash("0x1d55f1bbaa9cb10671377c68733fe8f407aad7996102c7e491af1bd4266add64")
}

// UnpackNotMediatorError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotMediator()
func (marketplace *Marketplace) UnpackNotMediatorError(raw []byte) (*MarketplaceNotMediator, error) {
	out := new(MarketplaceNotMediator)
	if err := marketplace.abi.UnpackIntoInterface(out, "NotMediator", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceNotParty represents a NotParty error raised by the Marketplace contract.
type MarketplaceNotParty struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotParty()
func MarketplaceNotPartyErrorID() common.Hash {
	return common.HexToHash("0xc8ee2d1dcdc54797129d4113062e4bfe3ac027672aadd1ffbf80ae5744584b0a")
}

// UnpackNotPartyError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotParty()
func (marketplace *Marketplace) UnpackNotPartyError(raw []byte) (*MarketplaceNotParty, error) {
	out := new(MarketplaceNotParty)
	if err := marketplace.abi.UnpackIntoInterface(out, "NotParty", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceNotProvider represents a NotProvider error raised by the Marketplace contract.
type MarketplaceNotProvider struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotProvider()
func MarketplaceNotProviderErrorID() common.Hash {
	return common.HexToHash("0x3480e2b2462e4d9c2f0abe23c91f502123880203393e4f268e0c489e4ec3b3a0")
}

// UnpackNotProviderError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotProvider()
func (marketplace *Marketplace) UnpackNotProviderError(raw []byte) (*MarketplaceNotProvider, error) {
	out := new(MarketplaceNotProvider)
	if err := marketplace.abi.UnpackIntoInterface(out, "NotProvider", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceNothingPending represents a NothingPending error raised by the Marketplace contract.
type MarketplaceNothingPending struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NothingPending()
func MarketplaceNothingPendingErrorID() common.Hash {
	return common.HexToHash("0x175c1aea8c453b556720d39e3cb0e313105d00199d98e8a01c1a820f7ffae2f3")
}

// UnpackNothingPendingError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NothingPending()
func (marketplace *Marketplace) UnpackNothingPendingError(raw []byte) (*MarketplaceNothingPending, error) {
	out := new(MarketplaceNothingPending)
	if err := marketplace.abi.UnpackIntoInterface(out, "NothingPending", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceNothingToWithdraw represents a NothingToWithdraw error raised by the Marketplace contract.
type MarketplaceNothingToWithdraw struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NothingToWithdraw()
func MarketplaceNothingToWithdrawErrorID() common.Hash {
	return common.HexToHash("0xd0d04f60bf4f7629141a1f00f5d2908fa0f3e15bf4cbf8bb8edc6fcbdf2509fa")
}

// UnpackNothingToWithdrawError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NothingToWithdraw()
func (marketplace *Marketplace) UnpackNothingToWithdrawError(raw []byte) (*MarketplaceNothingToWithdraw, error) {
	out := new(MarketplaceNothingToWithdraw)
	if err := marketplace.abi.UnpackIntoInterface(out, "NothingToWithdraw", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceReentrancyGuardReentrantCall represents a ReentrancyGuardReentrantCall error raised by the Marketplace contract.
type MarketplaceReentrancyGuardReentrantCall struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ReentrancyGuardReentrantCall()
func MarketplaceReentrancyGuardReentrantCallErrorID() common.Hash {
	return common.HexToHash("0x3ee5aeb571de7fc460830b4d0017439a1ca56fb0bc39062227ade4fe4a24c1ca")
}

// UnpackReentrancyGuardReentrantCallError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ReentrancyGuardReentrantCall()
func (marketplace *Marketplace) UnpackReentrancyGuardReentrantCallError(raw []byte) (*MarketplaceReentrancyGuardReentrantCall, error) {
	out := new(MarketplaceReentrancyGuardReentrantCall)
	if err := marketplace.abi.UnpackIntoInterface(out, "ReentrancyGuardReentrantCall", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceSafeCastOverflowedUintDowncast represents a SafeCastOverflowedUintDowncast error raised by the Marketplace contract.
type MarketplaceSafeCastOverflowedUintDowncast struct {
	Bits  uint8
	Value *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error SafeCastOverflowedUintDowncast(uint8 bits, uint256 value)
func MarketplaceSafeCastOverflowedUintDowncastErrorID() common.Hash {
	return common.HexToHash("0x6dfcc6503a32754ce7a89698e18201fc5294fd4aad43edefee786f88423b1a12")
}

// UnpackSafeCastOverflowedUintDowncastError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error SafeCastOverflowedUintDowncast(uint8 bits, uint256 value)
func (marketplace *Marketplace) UnpackSafeCastOverflowedUintDowncastError(raw []byte) (*MarketplaceSafeCastOverflowedUintDowncast, error) {
	out := new(MarketplaceSafeCastOverflowedUintDowncast)
	if err := marketplace.abi.UnpackIntoInterface(out, "SafeCastOverflowedUintDowncast", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceStringTooLong represents a StringTooLong error raised by the Marketplace contract.
type MarketplaceStringTooLong struct {
	Str string
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error StringTooLong(string str)
func MarketplaceStringTooLongErrorID() common.Hash {
	return common.HexToHash("0x305a27a93f8e33b7392df0a0f91d6fc63847395853c45991eec52dbf24d72381")
}

// UnpackStringTooLongError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error StringTooLong(string str)
func (marketplace *Marketplace) UnpackStringTooLongError(raw []byte) (*MarketplaceStringTooLong, error) {
	out := new(MarketplaceStringTooLong)
	if err := marketplace.abi.UnpackIntoInterface(out, "StringTooLong", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceTooEarly represents a TooEarly error raised by the Marketplace contract.
type MarketplaceTooEarly struct {
	NotBefore *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error TooEarly(uint256 notBefore)
func MarketplaceTooEarlyErrorID() common.Hash {
	return common.HexToHash("0x2a35a3246d5070e2b118858c24c2c4d23eaebe645b92ab746b92dd600c35a9d7")
}

// UnpackTooEarlyError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error TooEarly(uint256 notBefore)
func (marketplace *Marketplace) UnpackTooEarlyError(raw []byte) (*MarketplaceTooEarly, error) {
	out := new(MarketplaceTooEarly)
	if err := marketplace.abi.UnpackIntoInterface(out, "TooEarly", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceTooLate represents a TooLate error raised by the Marketplace contract.
type MarketplaceTooLate struct {
	Deadline *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error TooLate(uint256 deadline)
func MarketplaceTooLateErrorID() common.Hash {
	return common.HexToHash("0x691e5682c05af91a82d806fceac093f8891d2c453dfc42c67196c1ccdb7b8be1")
}

// UnpackTooLateError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error TooLate(uint256 deadline)
func (marketplace *Marketplace) UnpackTooLateError(raw []byte) (*MarketplaceTooLate, error) {
	out := new(MarketplaceTooLate)
	if err := marketplace.abi.UnpackIntoInterface(out, "TooLate", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceUnknownChannel represents a UnknownChannel error raised by the Marketplace contract.
type MarketplaceUnknownChannel struct {
	ChannelId [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error UnknownChannel(bytes32 channelId)
func MarketplaceUnknownChannelErrorID() common.Hash {
	return common.HexToHash("0xb08fc1cb7d4c5a62cfc36d1d52273872c8ad5c540953a2c17c0a39912130100d")
}

// UnpackUnknownChannelError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error UnknownChannel(bytes32 channelId)
func (marketplace *Marketplace) UnpackUnknownChannelError(raw []byte) (*MarketplaceUnknownChannel, error) {
	out := new(MarketplaceUnknownChannel)
	if err := marketplace.abi.UnpackIntoInterface(out, "UnknownChannel", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceVoucherTooLow represents a VoucherTooLow error raised by the Marketplace contract.
type MarketplaceVoucherTooLow struct {
	Redeemed         *big.Int
	CumulativeAmount *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error VoucherTooLow(uint256 redeemed, uint256 cumulativeAmount)
func MarketplaceVoucherTooLowErrorID() common.Hash {
	return common.HexToHash("0x643f783e4e80da3fefafe0f9004f458f0a9eb9d267f61e9f37b8a340ab3181b4")
}

// UnpackVoucherTooLowError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error VoucherTooLow(uint256 redeemed, uint256 cumulativeAmount)
func (marketplace *Marketplace) UnpackVoucherTooLowError(raw []byte) (*MarketplaceVoucherTooLow, error) {
	out := new(MarketplaceVoucherTooLow)
	if err := marketplace.abi.UnpackIntoInterface(out, "VoucherTooLow", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// MarketplaceZeroAmount represents a ZeroAmount error raised by the Marketplace contract.
type MarketplaceZeroAmount struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroAmount()
func MarketplaceZeroAmountErrorID() common.Hash {
	return common.HexToHash("0x1f2a2005cb66a8e145327e8814e243a0996aec9bfe1e15a495778b1236dbd485")
}

// UnpackZeroAmountError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroAmount()
func (marketplace *Marketplace) UnpackZeroAmountError(raw []byte) (*MarketplaceZeroAmount, error) {
	out := new(MarketplaceZeroAmount)
	if err := marketplace.abi.UnpackIntoInterface(out, "ZeroAmount", raw); err != nil {
		return nil, err
	}
	return out, nil
}
