package market

import (
	"hash/maphash"
	"math/big"
	"sort"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/market/wire"
)

// MaxBookSize caps the offer book: one offer per provider, at most this
// many providers; when full, the offer expiring soonest is dropped.
const MaxBookSize = 10_000

// Book is the offer book: the latest unexpired offer of every provider
// heard on wire.TopicOffers. It is safe for concurrent use.
type Book struct {
	mu     sync.Mutex
	offers map[peer.ID]*wire.Offer
	now    func() time.Time
	// ties orders equal quotes in Fitting: a random seed per book, so
	// every node ranks equal-priced providers in its own random order.
	ties maphash.Seed
}

// NewBook returns an empty book; now is the clock (nil: time.Now).
func NewBook(now func() time.Time) *Book {
	if now == nil {
		now = time.Now
	}
	return &Book{offers: map[peer.ID]*wire.Offer{}, now: now, ties: maphash.MakeSeed()}
}

// Add records an opened offer. A lower or equal Seq than the one held is
// ignored (superseded); an expired offer is ignored. It reports whether
// the offer was kept.
func (b *Book) Add(o *wire.Offer) bool {
	now := b.now()
	if !now.Before(o.Expiry.Time()) {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.offers[o.Provider]; ok && old.Seq >= o.Seq && now.Before(old.Expiry.Time()) {
		return false
	}
	if _, ok := b.offers[o.Provider]; !ok && len(b.offers) >= MaxBookSize {
		b.pruneLocked(now)
		if len(b.offers) >= MaxBookSize {
			var victim peer.ID
			var soonest wire.Timestamp
			for p, x := range b.offers {
				if victim == "" || x.Expiry < soonest {
					victim, soonest = p, x.Expiry
				}
			}
			delete(b.offers, victim)
		}
	}
	b.offers[o.Provider] = o
	return true
}

func (b *Book) pruneLocked(now time.Time) {
	for p, o := range b.offers {
		if !now.Before(o.Expiry.Time()) {
			delete(b.offers, p)
		}
	}
}

// Get returns a provider's current offer.
func (b *Book) Get(p peer.ID) (*wire.Offer, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.offers[p]
	if ok && !b.now().Before(o.Expiry.Time()) {
		delete(b.offers, p)
		return nil, false
	}
	return o, ok
}

// Offers returns the unexpired offers, cheapest per-job price first.
func (b *Book) Offers() []*wire.Offer {
	b.mu.Lock()
	b.pruneLocked(b.now())
	out := make([]*wire.Offer, 0, len(b.offers))
	for _, o := range b.offers {
		out = append(out, o)
	}
	b.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		c := orZero(out[i].Price.PerJob).Cmp(orZero(out[j].Price.PerJob))
		if c != 0 {
			return c < 0
		}
		return out[i].Provider < out[j].Provider
	})
	return out
}

// Fitting returns the offers that can run spec within its price cap, with
// their quoted price, cheapest first, skipping the excluded providers.
// Quotes of equal price come in an order random to this book (a hash of
// the provider under the book's own seed): clients, each with its book,
// spread their requests and load over all the equal-priced providers
// instead of all asking the same first few, while one client keeps
// asking the same ones, whose channel it has opened and which have its
// modules cached (docs/rationale/scale.md, "Why a random tie-break, drawn
// once per book").
func (b *Book) Fitting(spec *wire.JobSpec, exclude map[peer.ID]bool) []Quote {
	var out []Quote
	for _, o := range b.Offers() {
		if exclude[o.Provider] || o.Slots == 0 || o.Memory < spec.Resources.Memory || o.MaxDuration < spec.Resources.Timeout {
			continue
		}
		p, ok := o.PriceFor(spec.Resources.Memory, spec.Resources.Timeout)
		if !ok || (spec.Price.Max != nil && p.Cmp(spec.Price.Max) > 0) {
			continue
		}
		out = append(out, Quote{Offer: o, Price: p})
	}
	rank := make(map[peer.ID]uint64, len(out))
	for _, q := range out {
		rank[q.Offer.Provider] = maphash.String(b.ties, string(q.Offer.Provider))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if c := out[i].Price.Cmp(out[j].Price); c != 0 {
			return c < 0
		}
		return rank[out[i].Offer.Provider] < rank[out[j].Offer.Provider]
	})
	return out
}

// Quote is an offer with its price for one job.
type Quote struct {
	Offer *wire.Offer
	Price *big.Int
}

// Len is the number of offers held (expired ones included until pruned).
func (b *Book) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.offers)
}

func orZero(v *big.Int) *big.Int {
	if v == nil {
		return new(big.Int)
	}
	return v
}
