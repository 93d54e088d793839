package ledger

import (
	"bytes"
	"context"
)

// Reading back what was marked seen, and whether a payment is recorded:
// a process that writes an intent as a seen key before a transaction
// (the mediator's ruling, docs/rationale/disputes.md) finds on restart
// the intents whose follow-up write is missing. Read-only over the
// existing buckets: no layout change.

// SeenKeys returns the keys marked seen in scope (MarkSeen), in key order.
func (tx *Tx) SeenKeys(scope string) ([]string, error) {
	b, err := tx.bucket(bucketSeen)
	if err != nil {
		return nil, err
	}
	prefix := append([]byte(scope), 0)
	var out []string
	cur := b.Cursor()
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		out = append(out, string(k[len(prefix):]))
	}
	return out, nil
}

// HasPayment reports whether a payment with this ID is recorded
// (RecordPayment keeps the first one of an ID).
func (tx *Tx) HasPayment(id string) (bool, error) {
	b, err := tx.bucket(bucketPaymentIDs)
	if err != nil {
		return false, err
	}
	return b.Get([]byte(id)) != nil, nil
}

// SeenKeys: see Tx.SeenKeys.
func (l *Ledger) SeenKeys(ctx context.Context, scope string) ([]string, error) {
	var out []string
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.SeenKeys(scope); return })
	return out, err
}

// HasPayment: see Tx.HasPayment.
func (l *Ledger) HasPayment(ctx context.Context, id string) (bool, error) {
	var out bool
	err := l.view(ctx, func(tx *Tx) (err error) { out, err = tx.HasPayment(id); return })
	return out, err
}
