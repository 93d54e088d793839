package market

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	bolt "go.etcd.io/bbolt"

	"github.com/cloudless-network/cloudless/ledger"
)

// JournalFile is the name of the store older builds of the market kept
// beside the ledger in a node repo. MigrateJournal folds it into the
// ledger once and renames it JournalFile + ".migrated".
const JournalFile = "market.db"

// Buckets of the old journal.
const (
	oldProviderJobs = "market.provider.jobs"
	oldChannelsIn   = "market.provider.channels"
	oldClientJobs   = "market.client.jobs"
	oldChannelsOut  = "market.client.channels"
	oldReputation   = "market.reputation"
)

// MigrateJournal copies every record of the old market journal at path
// (if the file exists) into l, in one fsynced ledger transaction, then
// renames the file to path + ".migrated". Records the ledger already has
// are left alone, so a migration interrupted before the rename is simply
// run again. It returns how many records were copied.
//
// Jobs keep their market record (Job.Extra) and get the ledger state
// their market state maps to; channels become the ledger's typed
// channels with their best voucher; a reputation score becomes one
// outcome (above 0.5: a success, below: a failure, below 0.1: a wrong
// answer), since the old journal kept a score, not counts.
//
// # Errors
//
// An unreadable file or record, or a record the ledger refuses; nothing is
// written then and the file is not renamed.
func MigrateJournal(ctx context.Context, path string, l *ledger.Ledger) (int, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, ReadOnly: true})
	if err != nil {
		return 0, fmt.Errorf("market: open old journal %s: %w", path, err)
	}
	n := 0
	err = db.View(func(btx *bolt.Tx) error {
		each := func(bucket string, fn func(k string, v []byte) error) error {
			b := btx.Bucket([]byte(bucket))
			if b == nil {
				return nil
			}
			return b.ForEach(func(k, v []byte) error {
				if err := fn(string(k), v); err != nil {
					return fmt.Errorf("%s/%s: %w", bucket, k, err)
				}
				return nil
			})
		}
		return l.Update(ctx, func(tx *ledger.Tx) error {
			n = 0 // the ledger may run this more than once
			// Channels first: jobs refer to them.
			if err := each(oldChannelsIn, func(_ string, v []byte) error {
				var ch inChannel
				if err := json.Unmarshal(v, &ch); err != nil {
					return err
				}
				id := ch.Key.ID()
				if _, err := tx.Channel(id); err == nil {
					return nil
				}
				best, accepted, redeemed := orZero(ch.Best), orZero(ch.Accepted), orZero(ch.Redeemed)
				// The old record has no deposit; the highest amount seen is
				// a floor, and the next voucher above it makes the provider
				// read the chain again.
				dep := maxBig(best, accepted)
				c := ledger.Channel{ID: id, Role: ledger.RoleProvider, State: ledger.ChannelOpen, Client: ch.Key.Client,
					Provider: ch.Key.Provider, Salt: ch.Key.Salt, Deposit: dep, Redeemed: redeemed, Promised: best,
					UnredeemedSince: ch.BestAt, Note: "migrated from market.db"}
				if best.Cmp(accepted) > 0 {
					c.Credit = new(big.Int).Sub(best, accepted)
				}
				var v0 *ledger.Voucher
				if best.Sign() > 0 && len(ch.BestSig) > 0 {
					v0 = &ledger.Voucher{ChannelID: id, Cumulative: best, Signature: ch.BestSig, At: ch.BestAt}
					c.Latest = v0
				}
				if _, err := tx.PutChannel(c); err != nil {
					return err
				}
				if v0 != nil {
					if err := tx.PutVoucher(*v0); err != nil {
						return err
					}
				}
				n++
				return nil
			}); err != nil {
				return err
			}
			if err := each(oldChannelsOut, func(_ string, v []byte) error {
				var ch outChannel
				if err := json.Unmarshal(v, &ch); err != nil {
					return err
				}
				id := ch.Key.ID()
				if _, err := tx.Channel(id); err == nil {
					return nil
				}
				st := ledger.ChannelOpen
				if orZero(ch.Deposit).Sign() == 0 {
					st = ledger.ChannelOpening // the open may not have gone through
				}
				if _, err := tx.PutChannel(ledger.Channel{ID: id, Role: ledger.RoleClient, State: st, Client: ch.Key.Client,
					Provider: ch.Key.Provider, Peer: ch.Provider.String(), Salt: ch.Key.Salt, Deposit: orZero(ch.Deposit),
					Promised: orZero(ch.Promised), Note: "migrated from market.db"}); err != nil {
					return err
				}
				n++
				return nil
			}); err != nil {
				return err
			}
			if err := each(oldProviderJobs, func(_ string, v []byte) error {
				var r ProviderJob
				if err := json.Unmarshal(v, &r); err != nil {
					return err
				}
				if _, err := tx.Job(providerKey(r.Client, r.ID)); err == nil {
					return nil
				}
				n++
				return putProviderJob(tx, &r)
			}); err != nil {
				return err
			}
			if err := each(oldClientJobs, func(_ string, v []byte) error {
				var j Job
				if err := json.Unmarshal(v, &j); err != nil {
					return err
				}
				if _, err := tx.Job(j.ID.String()); err == nil {
					return nil
				}
				for i := range j.Assigned {
					// The old journal did not say whether a deal's open went
					// through; any deal past paying did.
					a := &j.Assigned[i]
					a.DealOpen = a.Deal != nil && a.State != StatePaying && a.State != StateCancelled && !(a.State == StateFailed && a.ResultCID == "" && !a.Stopped)
				}
				n++
				return putClientJob(tx, &j)
			}); err != nil {
				return err
			}
			return each(oldReputation, func(k string, v []byte) error {
				var score float64
				if err := json.Unmarshal(v, &score); err != nil {
					return err
				}
				id, err := peer.Decode(k)
				if err != nil {
					return err
				}
				addr, err := AddressOf(id)
				if err != nil {
					return err
				}
				o := ledger.OutcomeSuccess
				switch {
				case score < 0.1:
					o = ledger.OutcomeDisagreement
				case score < 0.5:
					o = ledger.OutcomeFailure
				case score == 0.5:
					return nil
				}
				if _, err := tx.RecordOutcome(addr, "migrated-from-market.db", o); err != nil {
					return err
				}
				n++
				return nil
			})
		})
	})
	if cerr := db.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("market: migrate %s into the ledger: %w", path, err)
	}
	if err := os.Rename(path, path+".migrated"); err != nil {
		return n, fmt.Errorf("market: migrated %s but could not rename it: %w", path, err)
	}
	return n, nil
}

func maxBig(a, b *big.Int) *big.Int {
	if a.Cmp(b) >= 0 {
		return new(big.Int).Set(a)
	}
	return new(big.Int).Set(b)
}
