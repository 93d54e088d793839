package wire

import (
	"fmt"
	"io/fs"
	"math/big"
	"path"
	"strings"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// checkCID parses a CID; empty is allowed only when optional.
func checkCID(field, s string, optional bool) error {
	if s == "" {
		if optional {
			return nil
		}
		return invalid("%s: missing CID", field)
	}
	if len(s) > MaxCIDLen {
		return invalid("%s: CID longer than %d", field, MaxCIDLen)
	}
	if _, err := cid.Decode(s); err != nil {
		return invalid("%s: %v", field, err)
	}
	return nil
}

// checkWei requires 0 < v < 2^256 (or 0 <= v when zeroOK).
func checkWei(field string, v *big.Int, zeroOK bool) error {
	switch {
	case v == nil:
		if zeroOK {
			return nil
		}
		return invalid("%s: missing amount", field)
	case v.Sign() < 0:
		return invalid("%s: negative amount", field)
	case v.Sign() == 0 && !zeroOK:
		return invalid("%s: amount must be positive", field)
	case v.BitLen() > maxWeiBits:
		return invalid("%s: amount exceeds 256 bits", field)
	}
	return nil
}

func checkPeer(field string, p peer.ID) error {
	if p == "" {
		return invalid("%s: missing peer ID", field)
	}
	if err := p.Validate(); err != nil {
		return invalid("%s: %v", field, err)
	}
	return nil
}

func checkText(field, s string, max int) error {
	if len(s) > max {
		return invalid("%s: longer than %d bytes", field, max)
	}
	return nil
}

// Validate checks a job spec: module and input CIDs parse, argument, env and
// input counts and lengths are bounded, input paths are absolute and clean,
// resources are positive, the price cap is positive, redundancy is in
// 1..MaxRedundancy.
func (s *JobSpec) Validate() error {
	if err := checkCID("module", s.Module, false); err != nil {
		return err
	}
	if err := checkCID("stdin", s.Stdin, true); err != nil {
		return err
	}
	if len(s.Args) > MaxArgs {
		return invalid("args: more than %d", MaxArgs)
	}
	for i, a := range s.Args {
		if err := checkText(fmt.Sprintf("args[%d]", i), a, MaxArgLen); err != nil {
			return err
		}
	}
	if len(s.Env) > MaxEnv {
		return invalid("env: more than %d variables", MaxEnv)
	}
	for k, v := range s.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return invalid("env: bad variable name %.64q", k)
		}
		if strings.ContainsRune(v, 0) || len(k)+len(v) > MaxEnvLen {
			return invalid("env %.64q: value has NUL or is longer than %d", k, MaxEnvLen)
		}
	}
	if len(s.Inputs) > MaxInputs {
		return invalid("inputs: more than %d", MaxInputs)
	}
	seen := make(map[string]bool, len(s.Inputs))
	for i, in := range s.Inputs {
		if err := checkCID(fmt.Sprintf("inputs[%d].cid", i), in.CID, false); err != nil {
			return err
		}
		if len(in.Path) > MaxPathLen || !strings.HasPrefix(in.Path, "/") || path.Clean(in.Path) != in.Path || in.Path == "/" || in.Path == "/out" || strings.HasPrefix(in.Path, "/out/") {
			return invalid("inputs[%d].path %.64q: want a clean absolute path other than / and /out", i, in.Path)
		}
		if seen[in.Path] {
			return invalid("inputs[%d].path %.64q: mounted twice", i, in.Path)
		}
		seen[in.Path] = true
	}
	r := s.Resources
	if r.Memory == 0 || r.Timeout <= 0 || r.MaxOutput == 0 {
		return invalid("resources: memory, timeout and max_output must be positive")
	}
	if err := checkWei("price.max", s.Price.Max, false); err != nil {
		return err
	}
	if s.Redundancy < 1 || s.Redundancy > MaxRedundancy {
		return invalid("redundancy %d: want 1..%d", s.Redundancy, MaxRedundancy)
	}
	return nil
}

// Validate checks an Offer's schema.
func (m *Offer) Validate() error {
	if err := checkPeer("provider", m.Provider); err != nil {
		return err
	}
	if m.Runtime != Runtime {
		return invalid("runtime %.64q: want %s", m.Runtime, Runtime)
	}
	if m.Slots == 0 || m.CPUMillicores == 0 || m.Memory == 0 || m.MaxDuration <= 0 || m.MaxModuleSize == 0 {
		return invalid("offer: slots, cpu, memory, max_duration and max_module_size must be positive")
	}
	if err := checkWei("price.per_job", m.Price.PerJob, true); err != nil {
		return err
	}
	if len(m.Price.Tiers) == 0 || len(m.Price.Tiers) > MaxTiers {
		return invalid("price.tiers: want 1..%d", MaxTiers)
	}
	var prev Size
	for i, t := range m.Price.Tiers {
		if t.MaxMemory <= prev {
			return invalid("price.tiers[%d]: max_memory must increase", i)
		}
		prev = t.MaxMemory
		if err := checkWei(fmt.Sprintf("price.tiers[%d].per_second", i), t.PerSecond, true); err != nil {
			return err
		}
	}
	if m.Payout == [20]byte{} {
		return invalid("payout: missing address")
	}
	if err := checkWei("stake", m.Stake, true); err != nil {
		return err
	}
	if len(m.Addrs) > MaxAddrs {
		return invalid("addrs: more than %d", MaxAddrs)
	}
	for i, a := range m.Addrs {
		if len(a) > MaxAddrLen {
			return invalid("addrs[%d]: longer than %d", i, MaxAddrLen)
		}
		if _, err := ma.NewMultiaddr(a); err != nil {
			return invalid("addrs[%d]: %v", i, err)
		}
	}
	if m.Expiry <= 0 {
		return invalid("offer: missing expiry")
	}
	return nil
}

// PriceFor returns the offer's price for a job with the given memory limit
// and duration (PerJob + tier PerSecond × ceil(seconds)), and false when no
// tier covers the memory.
func (m *Offer) PriceFor(memory Size, d Duration) (*big.Int, bool) {
	for _, t := range m.Price.Tiers {
		if memory <= t.MaxMemory {
			secs := (d.D().Nanoseconds() + 999_999_999) / 1_000_000_000
			p := new(big.Int).Mul(orZero(t.PerSecond), big.NewInt(secs))
			return p.Add(p, orZero(m.Price.PerJob)), true
		}
	}
	return nil, false
}

func orZero(v *big.Int) *big.Int {
	if v == nil {
		return new(big.Int)
	}
	return v
}

// Validate checks a JobRequest's schema.
func (m *JobRequest) Validate() error {
	if m.ID.IsZero() {
		return invalid("job: missing id")
	}
	if err := checkPeer("client", m.Client); err != nil {
		return err
	}
	if m.ClientAddr == [20]byte{} {
		return invalid("job: missing client address")
	}
	if err := m.Spec.Validate(); err != nil {
		return err
	}
	if m.PayMode != PayEscrow && m.PayMode != PayChannel {
		return invalid("pay_mode %.32q: want escrow or channel", string(m.PayMode))
	}
	if m.Expiry <= 0 || m.BidDeadline <= 0 || m.BidDeadline > m.Expiry {
		return invalid("job: bid_deadline and expiry must be set, bid_deadline <= expiry")
	}
	return nil
}

// Validate checks a Bid's schema.
func (m *Bid) Validate() error {
	if m.JobID.IsZero() {
		return invalid("bid: missing job id")
	}
	if err := checkPeer("provider", m.Provider); err != nil {
		return err
	}
	if err := checkWei("price", m.Price, false); err != nil {
		return err
	}
	if m.ExpectedStart < 0 {
		return invalid("bid: negative expected_start")
	}
	if m.Expiry <= 0 {
		return invalid("bid: missing expiry")
	}
	return nil
}

// Validate checks an Award's schema: escrow awards carry a deal ID and no
// voucher; channel awards carry a voucher whose cumulative amount covers the
// price.
func (m *Award) Validate() error {
	if m.JobID.IsZero() {
		return invalid("award: missing job id")
	}
	if err := checkPeer("client", m.Client); err != nil {
		return err
	}
	if err := checkPeer("provider", m.Provider); err != nil {
		return err
	}
	if err := checkWei("price", m.Price, false); err != nil {
		return err
	}
	switch m.PayMode {
	case PayEscrow:
		if (m.DealID == [32]byte{}) || m.Voucher != nil {
			return invalid("award: escrow needs a deal id and no voucher")
		}
	case PayChannel:
		v := m.Voucher
		if v == nil || (v.ChannelID == [32]byte{}) {
			return invalid("award: channel needs a voucher with a channel id")
		}
		if err := checkWei("voucher.cumulative", v.Cumulative, false); err != nil {
			return err
		}
		if v.Cumulative.Cmp(m.Price) < 0 {
			return invalid("award: voucher cumulative below price")
		}
		if len(v.Signature) == 0 || len(v.Signature) > MaxSignatureLn {
			return invalid("award: voucher signature length %d", len(v.Signature))
		}
	default:
		return invalid("pay_mode %.32q: want escrow or channel", string(m.PayMode))
	}
	if m.Expiry <= 0 {
		return invalid("award: missing expiry")
	}
	if q := m.Request; q != nil {
		if q.ID != m.JobID || q.Client != m.Client || q.PayMode != m.PayMode || m.PayMode != PayChannel {
			return invalid("award: a direct award's request must be the same channel job of the same client")
		}
		if err := q.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks a Result's schema: a successful run names a result CID;
// a failed one may carry only an error text.
func (m *Result) Validate() error {
	if m.JobID.IsZero() {
		return invalid("result: missing job id")
	}
	if err := checkPeer("provider", m.Provider); err != nil {
		return err
	}
	if err := checkCID("result_cid", m.ResultCID, m.Error != ""); err != nil {
		return err
	}
	if m.Usage.Wall < 0 {
		return invalid("result: negative wall time")
	}
	if err := checkInline(m); err != nil {
		return err
	}
	return checkText("error", m.Error, MaxTextLen)
}

// checkInline: an inline result names a result CID, holds stdout and
// stderr exactly once, and every other path is "out/" plus a clean
// relative slash path, each path once.
func checkInline(m *Result) error {
	if m.Inline == nil {
		return nil
	}
	if m.ResultCID == "" {
		return invalid("result: inline output without a result CID")
	}
	if len(m.Inline) > MaxInline {
		return invalid("result: more than %d inline files", MaxInline)
	}
	seen := make(map[string]bool, len(m.Inline))
	for _, f := range m.Inline {
		if len(f.Path) > MaxPathLen {
			return invalid("result: inline path longer than %d", MaxPathLen)
		}
		if seen[f.Path] {
			return invalid("result: inline path %q twice", f.Path)
		}
		seen[f.Path] = true
		if f.Path == "stdout" || f.Path == "stderr" {
			continue
		}
		rel, ok := strings.CutPrefix(f.Path, "out/")
		if !ok || rel == "" || !fs.ValidPath(rel) || strings.Contains(rel, "\\") {
			return invalid("result: inline path %q is not stdout, stderr or out/<clean path>", f.Path)
		}
	}
	if !seen["stdout"] || !seen["stderr"] {
		return invalid("result: inline output without stdout and stderr")
	}
	return nil
}

// Validate checks a Cancel's schema.
func (m *Cancel) Validate() error {
	if m.JobID.IsZero() {
		return invalid("cancel: missing job id")
	}
	if err := checkPeer("sender", m.Sender); err != nil {
		return err
	}
	return checkText("reason", m.Reason, MaxTextLen)
}
