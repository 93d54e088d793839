package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Values are stored as CBOR (RFC 8949; see docs/rationale/ledger.md, "Why
// CBOR values?"). Files written before that hold JSON values, which are
// still read: a value whose first byte is '{' is JSON (a CBOR record is a
// map, 0xa0–0xbf; '{' would be a 27-byte text string, never a record), so
// an existing ledger keeps working and its records turn into CBOR as they
// are rewritten. Decoders are strict in both formats: unknown fields are
// refused and the decoded record must be self-consistent, because the file
// can be damaged and a garbled record must surface as ErrCorrupt, not as a
// wrong state. A CBOR value must moreover be exactly the encoding of what
// it decodes to (canonical), which refuses duplicate keys, short or long
// hashes and addresses, non-shortest integers, indefinite lengths, foreign
// tags and anything else this encoder would not have written.

// maxValue caps a stored value; anything bigger is damage, not data.
const maxValue = 4 << 20

var errValue = errors.New("bad value")

// CBOR limits below maxValue: records nest at most 3 deep (job →
// providers → assignment → amount) and have fewer than 40 fields.
const (
	cborMaxNested   = 16
	cborMaxMapPairs = 256
)

var (
	cborEnc = mustCBOREnc()
	cborDec = mustCBORDec()
	bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

func mustCBOREnc() cbor.UserBufferEncMode {
	m, err := cbor.EncOptions{
		Sort:          cbor.SortCoreDeterministic,
		ShortestFloat: cbor.ShortestFloat16,
		// Exact to the nanosecond and zone-free (times are UTC, see utc);
		// the zero time is null.
		Time:          cbor.TimeRFC3339Nano,
		TimeTag:       cbor.EncTagNone,
		BigIntConvert: cbor.BigIntConvertShortest, // < 2^64: an integer; above: tag 2 bignum
		IndefLength:   cbor.IndefLengthForbidden,
		NilContainers: cbor.NilContainerAsNull,
		TagsMd:        cbor.TagsAllowed,
		ByteArray:     cbor.ByteArrayToByteSlice, // common.Hash/Address: a 32/20-byte byte string
		// Hashes and addresses as byte strings, not "0x…" text.
		BinaryMarshaler: cbor.BinaryMarshalerNone,
		TextMarshaler:   cbor.TextMarshalerNone,
	}.UserBufferEncMode()
	if err != nil {
		panic(err) // static options; cannot fail
	}
	return m
}

func mustCBORDec() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		MaxNestedLevels:   cborMaxNested,
		MaxMapPairs:       cborMaxMapPairs,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
		// Strings round-trip byte for byte, as JSON's decoder also took
		// any bytes (it replaced bad UTF-8); the canonical check below
		// still refuses everything this encoder would not write.
		UTF8:              cbor.UTF8DecodeInvalid,
		BinaryUnmarshaler: cbor.BinaryUnmarshalerNone,
		TextUnmarshaler:   cbor.TextUnmarshalerNone,
	}.DecMode()
	if err != nil {
		panic(err) // static options; cannot fail
	}
	return m
}

// isJSON reports whether a stored value was written as JSON (before CBOR).
func isJSON(b []byte) bool { return len(b) > 0 && b[0] == '{' }

// decodeStrict decodes a stored value, CBOR or (legacy) JSON, into v (a
// pointer to a record).
func decodeStrict(b []byte, v any) error { return decodeChecked(b, v, true) }

// decodeChecked is decodeStrict; canon false skips the canonical check
// (the re-encode and compare), for bytes that passed it already in the
// same transaction (a deep copy of a record just read, see decodeJobCopy).
func decodeChecked(b []byte, v any, canon bool) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty", errValue)
	}
	if len(b) > maxValue {
		return fmt.Errorf("%w: %d bytes", errValue, len(b))
	}
	if isJSON(b) {
		return decodeJSON(b, v)
	}
	if err := cborDec.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", errValue, err)
	}
	if !canon {
		return nil
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 { // keep no multi-megabyte buffers around
			bufPool.Put(buf)
		}
	}()
	buf.Reset()
	if err := cborEnc.MarshalToBuffer(v, buf); err != nil {
		return fmt.Errorf("%w: %v", errValue, err)
	}
	if !bytes.Equal(buf.Bytes(), b) {
		return fmt.Errorf("%w: not canonical CBOR", errValue)
	}
	return nil
}

// decodeJSON is the decoder of the values written before CBOR.
func decodeJSON(b []byte, v any) error {
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

// encode is the encoding of every stored record.
func encode(v any) ([]byte, error) { return encodeValue(v) }

// encodeValue is swapped for json.Marshal only by tests that write a
// ledger the way builds before CBOR did (the migration test, and the
// benchmarks' JSON baseline).
var encodeValue = cborEnc.Marshal

// canonical returns raw as this build would write the record it decodes
// to: raw itself if it is CBOR, the re-encoding of rec if raw is a legacy
// JSON value. The replay checks compare a record's new encoding with the
// stored bytes, and must not see a difference where only the format
// changed.
func canonical(raw []byte, rec any) []byte {
	if !isJSON(raw) {
		return raw
	}
	b, err := encode(rec)
	if err != nil {
		return raw
	}
	return b
}
func nonNeg(name string, x *big.Int) error {
	if x != nil && x.Sign() < 0 {
		return fmt.Errorf("%w: negative %s", errValue, name)
	}
	return nil
}

func decodeJob(b []byte) (Job, error) { return decodeJobChecked(b, true) }

// decodeJobCopy decodes raw, which getJob decoded and checked as canonical
// in this transaction, into a fresh deep copy (for a mutate to edit)
// without checking it again. Every other check of decodeJob still runs.
func decodeJobCopy(raw []byte) (Job, error) { return decodeJobChecked(raw, false) }

func decodeJobChecked(b []byte, canon bool) (Job, error) {
	var j Job
	if err := decodeChecked(b, &j, canon); err != nil {
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
