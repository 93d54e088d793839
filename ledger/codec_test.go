package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/fxamacker/cbor/v2"
)

// bigWei is above 2^64, so it is stored as a CBOR bignum (tag 2).
var bigWei, _ = new(big.Int).SetString("123456789012345678901234567890", 10)

// sampleJob has every field set, with the values that are easy to get
// wrong: amounts above 2^64, a negative exit code, nanosecond times, empty
// versus nil byte slices, bad UTF-8 in a peer-supplied string.
func sampleJob() Job {
	at := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)
	return Job{
		ID: "0xabc@12D3KooWclient", Role: RoleClient, State: JobAwarded, Created: at, Updated: at.Add(time.Second),
		Client: "12D3KooWclient", ClientAddr: addr(1), Provider: "12D3KooWprov", Payout: addr(2),
		Module: "bafkreiexampleexampleexampleexampleexampleexample", PayMode: "escrow",
		Price: bigWei, MaxPrice: big.NewInt(1), Deadline: at.Add(time.Hour), DealID: hash(1), ChannelID: hash(2),
		Voucher: big.NewInt(0), ResultCID: "bafyresult", OutputHash: hash(3), ExitCode: -2,
		Providers: []Assignment{
			{Provider: "p1", Payout: addr(3), Price: bigWei, DealID: hash(4), Voucher: big.NewInt(7), ExitCode: 1, Verdict: "agree"},
			{Provider: "p2"},
		},
		Attempts: 2, Request: bytes.Repeat([]byte{1}, 600), Award: []byte{}, Result: bytes.Repeat([]byte{3}, 500),
		Extra: []byte(`{"state":"awarded"}`), Error: "peer said \xff\xfe", Note: "n",
	}
}

func sampleDeal() Deal {
	at := time.Date(2026, 11, 23, 10, 0, 0, 1, time.UTC)
	return Deal{ID: hash(1), Role: RoleProvider, State: DealSubmitted, JobID: "j", Client: addr(1), Provider: addr(2),
		Mediator: addr(3), Price: bigWei, MediatorFee: big.NewInt(0), Collateral: big.NewInt(5), Deadline: 1 << 40,
		ChallengeWindow: 60, JobHash: hash(2), ResultHash: hash(3), SubmittedAt: 17, ForProvider: true,
		OpenTx: hash(4), CloseTx: hash(5), Created: at, Updated: at, Note: "x"}
}

func sampleChannel() Channel {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	v := Voucher{ChannelID: hash(9), Cumulative: bigWei, Signature: bytes.Repeat([]byte{7}, 65), JobID: "j", Amount: big.NewInt(3), At: at}
	return Channel{ID: hash(9), Role: RoleProvider, State: ChannelOpen, Client: addr(1), Provider: addr(2), Peer: "p",
		Salt: hash(8), Deposit: new(big.Int).Lsh(bigWei, 10), Redeemed: big.NewInt(0), Promised: bigWei, Credit: big.NewInt(1),
		Latest: &v, UnredeemedSince: at, ExitAt: 99, OpenTx: hash(7), Created: at, Updated: at}
}

// TestCodecRoundTrip: every record comes back exactly (amounts, hashes,
// addresses, times to the nanosecond), in CBOR and, for old files, JSON.
func TestCodecRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, tc := range []struct {
		name   string
		rec    any
		decode func([]byte) (any, error)
	}{
		{"job", sampleJob(), func(b []byte) (any, error) { return decodeJob(b) }},
		{"minimal job", Job{ID: "a", Role: RoleProvider, State: JobAwarded}, func(b []byte) (any, error) { return decodeJob(b) }},
		{"deal", sampleDeal(), func(b []byte) (any, error) { return decodeDeal(b) }},
		{"channel", sampleChannel(), func(b []byte) (any, error) { return decodeChannel(b) }},
		{"voucher", *sampleChannel().Latest, func(b []byte) (any, error) { return decodeVoucher(b) }},
		{"voucher nil signature", Voucher{ChannelID: hash(1), Cumulative: big.NewInt(0)}, func(b []byte) (any, error) { return decodeVoucher(b) }},
		{"payment", Payment{ID: "p", Kind: PaymentEarned, Amount: bigWei, JobID: "j", Ref: hash(1), Tx: hash(2), Peer: addr(1), At: at, Note: "n"},
			func(b []byte) (any, error) { return decodePayment(b) }},
		{"rep", Rep{Provider: addr(1), Successes: 1 << 63, Failures: 2, Disagreements: 3, Updated: at}, func(b []byte) (any, error) { return decodeRep(b) }},
		{"event", Event{Seq: 1, Kind: "job", ID: "a", JobID: "a", From: "", To: "requested", At: at, Note: "why"}, func(b []byte) (any, error) { return decodeEvent(b) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := encode(tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			if isJSON(b) || b[0]>>5 != 5 {
				t.Fatalf("not a CBOR map: % x", b[:1])
			}
			got, err := tc.decode(b)
			if err != nil {
				t.Fatalf("decode: %v\n%x", err, b)
			}
			if !sameRecord(got, tc.rec) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tc.rec)
			}
			// The old format still decodes to the same record (save the bad
			// UTF-8, which JSON replaced with U+FFFD).
			js, err := json.Marshal(tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			old, err := tc.decode(js)
			if err != nil {
				t.Fatalf("decode JSON: %v", err)
			}
			if b2, _ := encode(old); tc.name != "job" && !bytes.Equal(b2, b) {
				t.Errorf("JSON and CBOR decode to different records:\n%+v\n%+v", old, got)
			}
		})
	}
}

// TestCodecStrict: a CBOR value that is not exactly what this encoder
// writes is refused, like the JSON decoder refused unknown fields.
func TestCodecStrict(t *testing.T) {
	good, err := encode(Event{Seq: 1, Kind: "job", ID: "a", JobID: "a", To: "requested", At: time.Unix(1, 0).UTC()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeEvent(good); err != nil {
		t.Fatal(err)
	}
	// mapOf builds a CBOR map from key/value pairs in the given order.
	mapOf := func(kv ...any) []byte {
		var b []byte
		b = append(b, 0xa0+byte(len(kv)/2))
		for _, x := range kv {
			e, err := cbor.Marshal(x)
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, e...)
		}
		return b
	}
	deal := sampleDeal()
	dealCBOR, _ := encode(deal)
	short := bytes.Replace(dealCBOR, append([]byte{0x58, 0x20}, hash(2).Bytes()...), append([]byte{0x58, 0x1f}, hash(2).Bytes()[1:]...), 1)
	if bytes.Equal(short, dealCBOR) {
		t.Fatal("test bug: hash not found")
	}
	for name, b := range map[string][]byte{
		"unknown field":     mapOf("seq", 1, "kind", "job", "id", "a", "job_id", "a", "from", "", "to", "x", "at", "1970-01-01T00:00:01Z", "zzz", 1),
		"duplicate key":     mapOf("seq", 1, "seq", 2),
		"trailing data":     append(append([]byte{}, good...), 0x00),
		"truncated":         good[:len(good)-1],
		"not a map":         {0x83, 0x01, 0x02, 0x03},
		"wrong key case":    mapOf("Seq", 1),
		"non-shortest int":  []byte{0xa1, 0x63, 's', 'e', 'q', 0x18, 0x01},
		"indefinite map":    {0xbf, 0x63, 's', 'e', 'q', 0x01, 0xff},
		"time as integer":   mapOf("at", 1),
		"foreign tag":       append([]byte{0xa1, 0x63, 's', 'e', 'q', 0xc1}, 0x01),
		"short hash":        short,
		"null":              {0xf6},
		"empty":             {},
		"too big":           append([]byte{0x5a, 0x00, 0x40, 0x00, 0x01}, make([]byte, maxValue+1)...),
		"json unknown":      []byte(`{"seq":1,"zzz":1}`),
		"json trailing":     []byte(`{"seq":1} {}`),
		"text '{' not json": {0x7b},
	} {
		if _, err := decodeEvent(b); !errors.Is(err, errValue) {
			t.Errorf("%s: decoded (%v)", name, err)
		}
	}
	if _, err := decodeDeal(short); err == nil || !strings.Contains(err.Error(), "canonical") {
		t.Errorf("short hash: %v", err)
	}
	// The self-consistency checks still run on CBOR values.
	neg := sampleDeal()
	neg.Price = big.NewInt(-1)
	if b, _ := encode(neg); true {
		if _, err := decodeDeal(b); !errors.Is(err, errValue) {
			t.Errorf("negative price: %v", err)
		}
	}
	j := sampleJob()
	j.State = "nonsense"
	if b, _ := encode(j); true {
		if _, err := decodeJob(b); !errors.Is(err, errValue) {
			t.Errorf("unknown state: %v", err)
		}
	}
}

// TestCodecCommonTypes pins the representation of the Ethereum types: a
// hash is a 32-byte and an address a 20-byte byte string, an amount below
// 2^64 an integer and above it a bignum.
func TestCodecCommonTypes(t *testing.T) {
	p := Payment{ID: "p", Kind: PaymentGas, Amount: big.NewInt(5), Tx: common.HexToHash("0x01"), Peer: common.HexToAddress("0x02")}
	b, err := encode(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := cbor.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if tx, ok := m["tx"].([]byte); !ok || len(tx) != 32 || tx[31] != 1 {
		t.Errorf("tx %T %v", m["tx"], m["tx"])
	}
	if pe, ok := m["peer"].([]byte); !ok || len(pe) != 20 || pe[19] != 2 {
		t.Errorf("peer %T %v", m["peer"], m["peer"])
	}
	if a, ok := m["amount"].(uint64); !ok || a != 5 {
		t.Errorf("amount %T %v", m["amount"], m["amount"])
	}
	if _, ok := m["ref"]; ok {
		t.Error("zero hash not omitted")
	}
	p.Amount = bigWei
	b, _ = encode(p)
	if !bytes.Contains(b, append([]byte{0xc2, 0x40 + byte(len(bigWei.Bytes()))}, bigWei.Bytes()...)) {
		t.Errorf("amount above 2^64 is not a tag-2 bignum: %x", b)
	}
}

// sameRecord compares two records by value: as JSON (amounts in
// decimal, times to the nanosecond, hashes in hex, nested pointers
// followed) and, for the strings JSON would mangle, as printed.
func sameRecord(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil || !bytes.Equal(ja, jb) {
		return false
	}
	if ja, ok := a.(Job); ok {
		return ja.Error == b.(Job).Error && ja.Note == b.(Job).Note
	}
	return true
}
