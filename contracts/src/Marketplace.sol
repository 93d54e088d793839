// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title cloudless Marketplace
/// @notice Settlement for the cloudless compute marketplace, in native ether:
///  provider collateral, one escrow deal per job, and payment channels with
///  EIP-712 vouchers. Every payout is a credit that its owner withdraws
///  (pull payments).
/// @dev Gas: a deal is stored as one slot (status and a timestamp) keyed by
///  its id, the EIP-712 hash of its parameters; callers pass the parameters
///  back as calldata on every later call. See docs/contracts.md.
contract Marketplace is EIP712, ReentrancyGuardTransient {
    using SafeCast for uint256;

    // ---------------------------------------------------------------- types

    /// @notice The parameters of an escrow deal. Their EIP-712 hash is the
    ///  deal id; the provider signs it to consent to a collateral lock.
    struct DealParams {
        address client;
        address provider;
        address mediator; // zero: no mediator, no dispute
        uint96 price; // paid to the provider on success
        uint96 mediatorFee; // paid to the mediator if a dispute is resolved, else back to the client
        uint96 collateral; // locked from the provider's stake, forfeited to the client on failure
        uint40 deadline; // unix seconds: the result must be submitted by then
        uint40 challengeWindow; // seconds after submission in which the client may dispute
        bytes32 jobHash; // hash of the job spec
    }

    /// @notice Names a channel: its id is keccak256(abi.encode(client, provider, salt)).
    ///  Only the id's slot is stored; calls pass the key back.
    struct ChannelKey {
        address client;
        address provider;
        bytes32 salt;
    }

    /// @notice A signed voucher as passed to redeemMany.
    struct SignedVoucher {
        ChannelKey key;
        uint256 cumulativeAmount;
        bytes signature;
    }

    enum DealStatus {
        None,
        Open,
        Submitted,
        Disputed,
        Closed
    }

    struct Stake {
        uint96 amount; // bonded stake, including locked
        uint96 locked; // collateral of open deals
        uint40 unlockAt; // when the pending unstake may be taken
    }

    // ------------------------------------------------------------ constants

    bytes32 public constant DEAL_TYPEHASH = keccak256(
        "Deal(address client,address provider,address mediator,uint96 price,uint96 mediatorFee,uint96 collateral,uint40 deadline,uint40 challengeWindow,bytes32 jobHash)"
    );
    bytes32 public constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint256 cumulativeAmount)");

    /// @notice Seconds between requestUnstake and unstake.
    uint40 public immutable unstakeDelay;
    /// @notice Seconds a mediator has to resolve a dispute before either party may expire it.
    uint40 public immutable mediationTimeout;
    /// @notice Seconds between startExit and finishExit; the provider may redeem until then.
    uint40 public immutable exitTimeout;

    // ---------------------------------------------------------------- state

    /// @notice Pull-payment balances.
    mapping(address => uint256) public credits;
    mapping(address => Stake) public stakes;
    mapping(address => uint96) public pendingUnstake;
    /// @dev deal id => status (low 8 bits) | timestamp << 8 (submission or dispute time).
    mapping(bytes32 => uint256) private _deals;
    /// @dev channel id => deposit | redeemed << 96 | exitAt << 192 (see _packChannel).
    mapping(bytes32 => uint256) private _channels;

    uint40 private constant FINISHED = type(uint40).max;

    // --------------------------------------------------------------- events

    event Staked(address indexed provider, uint256 amount, uint256 total);
    event UnstakeRequested(address indexed provider, uint256 amount, uint256 unlockAt);
    event Unstaked(address indexed provider, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);

    event DealOpened(
        bytes32 indexed dealId,
        address indexed client,
        address indexed provider,
        address mediator,
        uint96 price,
        uint96 mediatorFee,
        uint96 collateral,
        uint40 deadline,
        uint40 challengeWindow,
        bytes32 jobHash
    );
    event ResultSubmitted(bytes32 indexed dealId, address indexed provider, bytes32 resultHash);
    event DealAccepted(bytes32 indexed dealId, address indexed client);
    event DealClaimed(bytes32 indexed dealId, address indexed provider);
    event DealRefunded(bytes32 indexed dealId, address indexed client, uint256 amount, uint256 slashed);
    event DealDisputed(bytes32 indexed dealId, address indexed client);
    event DealResolved(bytes32 indexed dealId, address indexed mediator, bool forProvider);
    event DisputeExpired(bytes32 indexed dealId);

    event ChannelOpened(
        bytes32 indexed channelId, address indexed client, address indexed provider, bytes32 salt, uint256 deposit
    );
    event ChannelToppedUp(bytes32 indexed channelId, uint256 amount, uint256 deposit);
    event VoucherRedeemed(bytes32 indexed channelId, address indexed provider, uint256 cumulativeAmount, uint256 paid);
    event ChannelExitStarted(bytes32 indexed channelId, uint256 exitAt);
    event ChannelClosed(bytes32 indexed channelId, uint256 refunded);

    // --------------------------------------------------------------- errors

    error ZeroAmount();
    error BadValue(uint256 expected, uint256 got);
    error BadParams();
    error NotClient();
    error NotProvider();
    error NotMediator();
    error NotParty();
    error BadSignature();
    error DealExists(bytes32 dealId);
    error BadDealState(bytes32 dealId, DealStatus status);
    error TooEarly(uint256 notBefore);
    error TooLate(uint256 deadline);
    error NoMediator();
    error InsufficientStake(uint256 free, uint256 needed);
    error NothingPending();
    error NothingToWithdraw();
    error ChannelExists(bytes32 channelId);
    error UnknownChannel(bytes32 channelId);
    error ChannelExiting(bytes32 channelId);
    error ChannelFinished(bytes32 channelId);
    error VoucherTooLow(uint256 redeemed, uint256 cumulativeAmount);

    constructor(uint40 unstakeDelay_, uint40 mediationTimeout_, uint40 exitTimeout_) EIP712("cloudless", "1") {
        unstakeDelay = unstakeDelay_;
        mediationTimeout = mediationTimeout_;
        exitTimeout = exitTimeout_;
    }

    // ------------------------------------------------------------- staking

    /// @notice Adds msg.value to the sender's stake.
    function stake() external payable nonReentrant {
        if (msg.value == 0) revert ZeroAmount();
        Stake storage s = stakes[msg.sender];
        uint96 total = (uint256(s.amount) + msg.value).toUint96();
        s.amount = total;
        emit Staked(msg.sender, msg.value, total);
    }

    /// @notice Moves amount of free stake to the pending unstake and restarts the delay.
    function requestUnstake(uint96 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Stake storage s = stakes[msg.sender];
        uint256 free = s.amount - s.locked;
        if (amount > free) revert InsufficientStake(free, amount);
        s.amount -= amount;
        uint40 unlock = uint40(block.timestamp) + unstakeDelay;
        s.unlockAt = unlock;
        pendingUnstake[msg.sender] += amount;
        emit UnstakeRequested(msg.sender, amount, unlock);
    }

    /// @notice Credits the pending unstake to the sender once the delay passed.
    function unstake() external nonReentrant {
        uint96 amount = pendingUnstake[msg.sender];
        if (amount == 0) revert NothingPending();
        uint40 unlock = stakes[msg.sender].unlockAt;
        if (block.timestamp < unlock) revert TooEarly(unlock);
        pendingUnstake[msg.sender] = 0;
        credits[msg.sender] += amount;
        emit Unstaked(msg.sender, amount);
    }

    // ------------------------------------------------------------ payouts

    /// @notice Sends the sender all its credits.
    function withdraw() external nonReentrant {
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    // -------------------------------------------------------------- deals

    /// @notice The id of a deal: the EIP-712 digest of its parameters.
    function dealId(DealParams calldata p) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(DEAL_TYPEHASH, p)));
    }

    /// @notice Status and timestamp (submission, or dispute time once disputed) of a deal.
    function dealState(bytes32 id) external view returns (DealStatus status, uint40 at) {
        uint256 d = _deals[id];
        return (DealStatus(uint8(d)), uint40(d >> 8));
    }

    /// @notice Opens an escrow deal; msg.value must be price + mediatorFee.
    ///  A collateral needs the provider's signature over the deal id.
    function openDeal(DealParams calldata p, bytes calldata providerSig) external payable nonReentrant returns (bytes32 id) {
        if (p.client != msg.sender) revert NotClient();
        if (
            p.provider == address(0) || p.provider == p.client || p.price == 0 || p.deadline <= block.timestamp
                || p.mediator == p.client || p.mediator == p.provider || (p.mediator == address(0) && p.mediatorFee != 0)
        ) revert BadParams();
        uint256 expected = uint256(p.price) + p.mediatorFee;
        if (msg.value != expected) revert BadValue(expected, msg.value);
        id = dealId(p);
        if (_deals[id] != 0) revert DealExists(id);
        if (p.collateral != 0) {
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(id, providerSig);
            if (err != ECDSA.RecoverError.NoError || signer != p.provider) revert BadSignature();
            Stake storage s = stakes[p.provider];
            uint256 free = s.amount - s.locked;
            if (p.collateral > free) revert InsufficientStake(free, p.collateral);
            s.locked += p.collateral;
        }
        _deals[id] = uint256(DealStatus.Open);
        emit DealOpened(
            id, p.client, p.provider, p.mediator, p.price, p.mediatorFee, p.collateral, p.deadline, p.challengeWindow, p.jobHash
        );
    }

    /// @notice The provider commits to a result by the deadline.
    function submitResult(DealParams calldata p, bytes32 resultHash) external nonReentrant {
        if (msg.sender != p.provider) revert NotProvider();
        bytes32 id = _expect(p, DealStatus.Open);
        if (block.timestamp > p.deadline) revert TooLate(p.deadline);
        _deals[id] = uint256(DealStatus.Submitted) | (block.timestamp << 8);
        emit ResultSubmitted(id, msg.sender, resultHash);
    }

    /// @notice The client accepts a submitted result: the provider is paid.
    function accept(DealParams calldata p) external nonReentrant {
        if (msg.sender != p.client) revert NotClient();
        bytes32 id = _expect(p, DealStatus.Submitted);
        _close(id);
        _payProvider(p);
        emit DealAccepted(id, msg.sender);
    }

    /// @notice The provider takes the price once the challenge window passed without dispute.
    function claim(DealParams calldata p) external nonReentrant {
        if (msg.sender != p.provider) revert NotProvider();
        bytes32 id = _expect(p, DealStatus.Submitted);
        uint256 notBefore = uint40(_deals[id] >> 8) + uint256(p.challengeWindow);
        if (block.timestamp <= notBefore) revert TooEarly(notBefore + 1);
        _close(id);
        _payProvider(p);
        emit DealClaimed(id, msg.sender);
    }

    /// @notice After the deadline with no result, the client gets back the price,
    ///  the mediator fee and the provider's collateral.
    function refund(DealParams calldata p) external nonReentrant {
        if (msg.sender != p.client) revert NotClient();
        bytes32 id = _expect(p, DealStatus.Open);
        if (block.timestamp <= p.deadline) revert TooEarly(uint256(p.deadline) + 1);
        _close(id);
        uint256 slashed = _slash(p);
        uint256 amount = uint256(p.price) + p.mediatorFee + slashed;
        credits[p.client] += amount;
        emit DealRefunded(id, p.client, amount, slashed);
    }

    /// @notice The client disputes a submitted result inside the challenge window.
    function dispute(DealParams calldata p) external nonReentrant {
        if (msg.sender != p.client) revert NotClient();
        if (p.mediator == address(0)) revert NoMediator();
        bytes32 id = _expect(p, DealStatus.Submitted);
        uint256 end = uint40(_deals[id] >> 8) + uint256(p.challengeWindow);
        if (block.timestamp > end) revert TooLate(end);
        _deals[id] = uint256(DealStatus.Disputed) | (block.timestamp << 8);
        emit DealDisputed(id, msg.sender);
    }

    /// @notice The mediator decides a dispute; it earns the mediator fee either way.
    ///  For the provider: price paid, collateral unlocked. For the client: price
    ///  refunded and the collateral forfeited to the client.
    function resolve(DealParams calldata p, bool forProvider) external nonReentrant {
        if (msg.sender != p.mediator) revert NotMediator();
        bytes32 id = _expect(p, DealStatus.Disputed);
        uint256 end = uint40(_deals[id] >> 8) + uint256(mediationTimeout);
        if (block.timestamp > end) revert TooLate(end);
        _close(id);
        if (p.mediatorFee != 0) credits[p.mediator] += p.mediatorFee;
        if (forProvider) {
            _payProviderPrice(p);
        } else {
            credits[p.client] += uint256(p.price) + _slash(p);
        }
        emit DealResolved(id, msg.sender, forProvider);
    }

    /// @notice When the mediator stays silent past the mediation timeout, either
    ///  party ends the dispute: the client gets price and fee back, the
    ///  provider's collateral is unlocked (nobody proved a fault).
    function expireDispute(DealParams calldata p) external nonReentrant {
        if (msg.sender != p.client && msg.sender != p.provider) revert NotParty();
        bytes32 id = _expect(p, DealStatus.Disputed);
        uint256 end = uint40(_deals[id] >> 8) + uint256(mediationTimeout);
        if (block.timestamp <= end) revert TooEarly(end + 1);
        _close(id);
        _unlock(p);
        credits[p.client] += uint256(p.price) + p.mediatorFee;
        emit DisputeExpired(id);
    }

    function _expect(DealParams calldata p, DealStatus want) private view returns (bytes32 id) {
        id = dealId(p);
        DealStatus got = DealStatus(uint8(_deals[id]));
        if (got != want) revert BadDealState(id, got);
    }

    /// @dev Closed deals keep a tombstone so the same signed parameters can never reopen.
    function _close(bytes32 id) private {
        _deals[id] = uint256(DealStatus.Closed);
    }

    function _payProvider(DealParams calldata p) private {
        _payProviderPrice(p);
        if (p.mediatorFee != 0) credits[p.client] += p.mediatorFee;
    }

    function _payProviderPrice(DealParams calldata p) private {
        _unlock(p);
        credits[p.provider] += p.price;
    }

    function _unlock(DealParams calldata p) private {
        if (p.collateral != 0) stakes[p.provider].locked -= p.collateral;
    }

    function _slash(DealParams calldata p) private returns (uint256) {
        if (p.collateral == 0) return 0;
        Stake storage s = stakes[p.provider];
        s.locked -= p.collateral;
        s.amount -= p.collateral;
        return p.collateral;
    }

    // ----------------------------------------------------------- channels

    /// @notice The id of the channel a client opens to a provider with a salt.
    function channelId(ChannelKey calldata k) public pure returns (bytes32) {
        return keccak256(abi.encode(k.client, k.provider, k.salt));
    }

    /// @notice Deposit, redeemed amount and exit time of a channel (exitAt
    ///  type(uint40).max once finished). All zero for an unknown channel.
    function channel(bytes32 id) external view returns (uint96 deposit, uint96 redeemed, uint40 exitAt) {
        return _unpackChannel(_channels[id]);
    }

    /// @notice The EIP-712 digest a client signs for a voucher.
    function voucherDigest(bytes32 id, uint256 cumulativeAmount) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(VOUCHER_TYPEHASH, id, cumulativeAmount)));
    }

    /// @notice Opens a channel from the sender to provider with msg.value as deposit.
    function openChannel(address provider, bytes32 salt) external payable nonReentrant returns (bytes32 id) {
        if (msg.value == 0) revert ZeroAmount();
        if (provider == address(0) || provider == msg.sender) revert BadParams();
        id = keccak256(abi.encode(msg.sender, provider, salt));
        if (_channels[id] != 0) revert ChannelExists(id);
        _channels[id] = _packChannel(msg.value.toUint96(), 0, 0);
        emit ChannelOpened(id, msg.sender, provider, salt, msg.value);
    }

    /// @notice Adds msg.value to a channel's deposit; anyone may pay in, not during an exit.
    function topUp(ChannelKey calldata k) external payable nonReentrant {
        if (msg.value == 0) revert ZeroAmount();
        bytes32 id = channelId(k);
        (uint96 deposit, uint96 redeemed, uint40 exit) = _loadChannel(id);
        if (exit != 0) revert ChannelExiting(id);
        deposit = (uint256(deposit) + msg.value).toUint96();
        _channels[id] = _packChannel(deposit, redeemed, 0);
        emit ChannelToppedUp(id, msg.value, deposit);
    }

    /// @notice The provider redeems the client's voucher for a cumulative amount,
    ///  capped at the deposit; the channel stays open.
    function redeem(ChannelKey calldata k, uint256 cumulativeAmount, bytes calldata signature) external nonReentrant {
        uint256 paid = _redeem(k, cumulativeAmount, signature);
        credits[msg.sender] += paid;
    }

    /// @notice Redeems several vouchers of the sender's channels in one transaction.
    function redeemMany(SignedVoucher[] calldata vouchers) external nonReentrant {
        uint256 total;
        for (uint256 i; i < vouchers.length; ++i) {
            total += _redeem(vouchers[i].key, vouchers[i].cumulativeAmount, vouchers[i].signature);
        }
        credits[msg.sender] += total;
    }

    function _redeem(ChannelKey calldata k, uint256 cumulativeAmount, bytes calldata signature) private returns (uint256 paid) {
        if (msg.sender != k.provider) revert NotProvider();
        bytes32 id = channelId(k);
        (uint96 deposit, uint96 redeemed, uint40 exit) = _loadChannel(id);
        if (exit == FINISHED) revert ChannelFinished(id);
        if (exit != 0 && block.timestamp >= exit) revert TooLate(exit);
        uint256 target = cumulativeAmount < deposit ? cumulativeAmount : deposit;
        if (target <= redeemed) revert VoucherTooLow(redeemed, cumulativeAmount);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(voucherDigest(id, cumulativeAmount), signature);
        if (err != ECDSA.RecoverError.NoError || signer != k.client) revert BadSignature();
        _channels[id] = _packChannel(deposit, uint96(target), exit);
        paid = target - redeemed;
        emit VoucherRedeemed(id, msg.sender, cumulativeAmount, paid);
    }

    /// @notice The client starts leaving the channel; the provider may redeem until exitAt.
    function startExit(ChannelKey calldata k) external nonReentrant {
        if (msg.sender != k.client) revert NotClient();
        bytes32 id = channelId(k);
        (uint96 deposit, uint96 redeemed, uint40 exit) = _loadChannel(id);
        if (exit != 0) revert ChannelExiting(id);
        uint40 at = uint40(block.timestamp) + exitTimeout;
        _channels[id] = _packChannel(deposit, redeemed, at);
        emit ChannelExitStarted(id, at);
    }

    /// @notice After the exit timeout the client gets the unredeemed deposit; the
    ///  channel is finished for good (its id can never be reopened).
    function finishExit(ChannelKey calldata k) external nonReentrant {
        if (msg.sender != k.client) revert NotClient();
        bytes32 id = channelId(k);
        (uint96 deposit, uint96 redeemed, uint40 exit) = _loadChannel(id);
        if (exit == FINISHED) revert ChannelFinished(id);
        if (exit == 0) revert NothingPending();
        if (block.timestamp < exit) revert TooEarly(exit);
        _channels[id] = _packChannel(deposit, deposit, FINISHED);
        uint256 rest = uint256(deposit) - redeemed;
        if (rest != 0) credits[msg.sender] += rest;
        emit ChannelClosed(id, rest);
    }

    function _loadChannel(bytes32 id) private view returns (uint96 deposit, uint96 redeemed, uint40 exit) {
        uint256 c = _channels[id];
        if (c == 0) revert UnknownChannel(id);
        return _unpackChannel(c);
    }

    /// @dev deposit in bits 0-95, redeemed in 96-191, exitAt in 192-231. A live
    ///  channel always has deposit > 0, so the slot is never 0.
    function _packChannel(uint96 deposit, uint96 redeemed, uint40 exit) private pure returns (uint256) {
        return uint256(deposit) | (uint256(redeemed) << 96) | (uint256(exit) << 192);
    }

    function _unpackChannel(uint256 c) private pure returns (uint96 deposit, uint96 redeemed, uint40 exit) {
        return (uint96(c), uint96(c >> 96), uint40(c >> 192));
    }
}
