package market

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BoltJournal is a Journal in a bbolt file with fsync on every Put. The
// ledger package owns the node's ledger.db; BoltJournal is the market's
// own durable store for when node wires no ledger adapter (and for tests).
type BoltJournal struct {
	db *bolt.DB
}

var _ Journal = (*BoltJournal)(nil)

// OpenJournal opens (or creates) a bbolt journal at path.
func OpenJournal(path string) (*BoltJournal, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("market: open journal %s: %w", path, err)
	}
	return &BoltJournal{db: db}, nil
}

// Close closes the file. Safe to call twice.
func (j *BoltJournal) Close() error {
	err := j.db.Close()
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return nil
	}
	return err
}

// Put writes one record durably.
func (j *BoltJournal) Put(bucket, key string, value []byte) error {
	return j.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		return b.Put([]byte(key), value)
	})
}

// Get reads one record; ErrNotFound when absent.
func (j *BoltJournal) Get(bucket, key string) ([]byte, error) {
	var out []byte
	err := j.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return ErrNotFound
		}
		v := b.Get([]byte(key))
		if v == nil {
			return ErrNotFound
		}
		out = append([]byte(nil), v...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %s/%s", err, bucket, key)
	}
	return out, nil
}

// ForEach calls fn for every record of bucket in key order.
func (j *BoltJournal) ForEach(bucket string, fn func(key string, value []byte) error) error {
	return j.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error { return fn(string(k), append([]byte(nil), v...)) })
	})
}
