package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"
)

// Values are stored as JSON (see docs/rationale/ledger.md, "Why JSON
// values?"). Decoders are strict: unknown fields are refused and the
// decoded record must be self-consistent, because the file can be damaged
// and a garbled record must surface as ErrCorrupt, not as a wrong state.

// maxValue caps a stored value; anything bigger is damage, not data.
const maxValue = 4 << 20

var errValue = errors.New("bad value")

func decodeStrict(b []byte, v any) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty", errValue)
	}
	if len(b) > maxValue {
		return fmt.Errorf("%w: %d bytes", errValue, len(b))
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", errValue, err)
	}
	if d.More() {
		return fmt.Errorf("%w: trailing data", errValue)
	}
	return nil
}

func encode(v any) ([]byte, error) { return json.Marshal(v) }

func nonNeg(name string, x *big.Int) error {
	if x != nil && x.Sign() < 0 {
		return fmt.Errorf("%w: negative %s", errValue, name)
	}
	return nil
}

func decodeJob(b []byte) (Job, error) {
	var j Job
	if err := decodeStrict(b, &j); err != nil {
		return Job{}, err
	}
	m, ok := jobMachine(j.Role)
	switch {
	case !ok:
		return Job{}, fmt.Errorf("%w: role %q", errValue, j.Role)
	case !m.known(j.State):
		return Job{}, fmt.Errorf("%w: %s state %q", errValue, j.Role, j.State)
	case checkID(j.ID) != nil:
		return Job{}, fmt.Errorf("%w: job id %q", errValue, truncate(j.ID))
	}
	for _, x := range []error{nonNeg("price", j.Price), nonNeg("max_price", j.MaxPrice), nonNeg("voucher", j.Voucher)} {
		if x != nil {
			return Job{}, x
		}
	}
	return j, nil
}

func decodeDeal(b []byte) (Deal, error) {
	var d Deal
	if err := decodeStrict(b, &d); err != nil {
		return Deal{}, err
	}
	if d.Role != RoleClient && d.Role != RoleProvider {
		return Deal{}, fmt.Errorf("%w: role %q", errValue, d.Role)
	}
	if !deals.known(d.State) {
		return Deal{}, fmt.Errorf("%w: deal state %q", errValue, d.State)
	}
	if d.Price == nil || d.Price.Sign() < 0 {
		return Deal{}, fmt.Errorf("%w: deal price", errValue)
	}
	for _, x := range []error{nonNeg("mediator_fee", d.MediatorFee), nonNeg("collateral", d.Collateral)} {
		if x != nil {
			return Deal{}, x
		}
	}
	return d, nil
}

func decodeChannel(b []byte) (Channel, error) {
	var c Channel
	if err := decodeStrict(b, &c); err != nil {
		return Channel{}, err
	}
	if c.Role != RoleClient && c.Role != RoleProvider {
		return Channel{}, fmt.Errorf("%w: role %q", errValue, c.Role)
	}
	if !channels.known(c.State) {
		return Channel{}, fmt.Errorf("%w: channel state %q", errValue, c.State)
	}
	for _, x := range []*big.Int{c.Deposit, c.Redeemed, c.Promised} {
		if x == nil || x.Sign() < 0 {
			return Channel{}, fmt.Errorf("%w: channel amounts", errValue)
		}
	}
	if err := nonNeg("credit", c.Credit); err != nil {
		return Channel{}, err
	}
	if c.Latest != nil {
		if err := checkVoucher(*c.Latest); err != nil {
			return Channel{}, err
		}
	}
	return c, nil
}

func checkVoucher(v Voucher) error {
	if v.Cumulative == nil || v.Cumulative.Sign() < 0 {
		return fmt.Errorf("%w: voucher cumulative", errValue)
	}
	return nonNeg("voucher amount", v.Amount)
}

func decodeVoucher(b []byte) (Voucher, error) {
	var v Voucher
	if err := decodeStrict(b, &v); err != nil {
		return Voucher{}, err
	}
	if err := checkVoucher(v); err != nil {
		return Voucher{}, err
	}
	return v, nil
}

func decodePayment(b []byte) (Payment, error) {
	var p Payment
	if err := decodeStrict(b, &p); err != nil {
		return Payment{}, err
	}
	if !validKind(p.Kind) {
		return Payment{}, fmt.Errorf("%w: payment kind %q", errValue, p.Kind)
	}
	if p.Amount == nil || p.Amount.Sign() < 0 {
		return Payment{}, fmt.Errorf("%w: payment amount", errValue)
	}
	return p, nil
}

func decodeRep(b []byte) (Rep, error) {
	var r Rep
	if err := decodeStrict(b, &r); err != nil {
		return Rep{}, err
	}
	return r, nil
}

func decodeEvent(b []byte) (Event, error) {
	var e Event
	if err := decodeStrict(b, &e); err != nil {
		return Event{}, err
	}
	return e, nil
}

// utc strips the monotonic reading and the zone so that a time encodes the
// same way before and after a round trip (idempotency compares encodings).
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(0).UTC()
}

func sortStrings[S ~string](s []S) { sort.Slice(s, func(i, j int) bool { return s[i] < s[j] }) }
