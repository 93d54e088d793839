package market

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/cloudless-network/cloudless/market/wire"
)

// AuthorLimit is the per-author rate limit of a market gossip topic: each
// author (the peer that signed the gossip message, which gossipsub's
// strict signature check has verified before the topic validator runs)
// gets a token bucket of Burst messages refilled at Rate per second.
// Messages over the limit are not validated further, not delivered and
// not forwarded, so one peer flooding valid-signed offers or job requests
// costs its neighbours a map lookup per message instead of a CBOR decode
// and a signature check, and cannot crowd out other authors.
type AuthorLimit struct {
	// Rate is the sustained messages per second per author.
	Rate float64
	// Burst is how many messages an author may send at once.
	Burst int
	// MaxAuthors bounds the authors tracked per topic; past it, idle
	// buckets are dropped first, then arbitrary ones (memory stays
	// bounded however many identities an attacker makes).
	MaxAuthors int
}

// Default per-author limits of the two market topics.
//
// An honest provider publishes an offer every 30 s and at most one a
// second when its free capacity changes (offerCoalesce), plus one at once
// when it turns from full to free: 2/s with a burst of 10 leaves it a
// wide margin. An honest client gossips one job request per job it cannot
// send directly; 20/s with a burst of 100 is more than one client daemon
// submits (the load test's 16-in-flight clients run about 10 jobs/s
// each on a quiet machine).
var (
	DefaultOfferLimit = AuthorLimit{Rate: 2, Burst: 10, MaxAuthors: 4096}
	DefaultJobLimit   = AuthorLimit{Rate: 20, Burst: 100, MaxAuthors: 4096}
)

// TopicLimit is the default AuthorLimit of a market gossip topic (zero for
// any other topic: no limit).
func TopicLimit(topic string) AuthorLimit {
	switch topic {
	case wire.TopicOffers:
		return DefaultOfferLimit
	case wire.TopicJobs:
		return DefaultJobLimit
	}
	return AuthorLimit{}
}

// authorLimiter applies an AuthorLimit. It is safe for concurrent use.
type authorLimiter struct {
	lim AuthorLimit
	now func() time.Time

	mu      sync.Mutex
	buckets map[peer.ID]*rate.Limiter
	dropped uint64 // messages refused so far (tests, metrics)
}

// newAuthorLimiter returns nil (no limit) when lim.Rate is not positive.
func newAuthorLimiter(lim AuthorLimit, now func() time.Time) *authorLimiter {
	if lim.Rate <= 0 {
		return nil
	}
	if lim.Burst <= 0 {
		lim.Burst = 1
	}
	if lim.MaxAuthors <= 0 {
		lim.MaxAuthors = 4096
	}
	if now == nil {
		now = time.Now
	}
	return &authorLimiter{lim: lim, now: now, buckets: map[peer.ID]*rate.Limiter{}}
}

// allow takes one token from author's bucket and reports whether there
// was one. A nil limiter allows everything.
func (l *authorLimiter) allow(author peer.ID) bool {
	if l == nil {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[author]
	if !ok {
		if len(l.buckets) >= l.lim.MaxAuthors {
			l.evict(now)
		}
		b = rate.NewLimiter(rate.Limit(l.lim.Rate), l.lim.Burst)
		l.buckets[author] = b
	}
	if !b.AllowN(now, 1) {
		l.dropped++
		return false
	}
	return true
}

// evict makes room for one more author: it drops every bucket that has
// refilled (its author is idle, and a fresh bucket is the same thing),
// and if none has, one arbitrary bucket. Called with l.mu held.
func (l *authorLimiter) evict(now time.Time) {
	for p, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.lim.Burst) {
			delete(l.buckets, p)
		}
	}
	if len(l.buckets) < l.lim.MaxAuthors {
		return
	}
	for p := range l.buckets {
		delete(l.buckets, p)
		return
	}
}

// stats returns the tracked authors and the messages refused so far.
func (l *authorLimiter) stats() (authors int, dropped uint64) {
	if l == nil {
		return 0, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets), l.dropped
}
