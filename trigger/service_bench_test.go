package trigger

import (
	"context"
	"testing"
)

// BenchmarkServiceInvoke measures what the Service adds to an invocation
// (registry check, cap reservation, the log record in a bbolt commit with
// fsync) over an invoker that returns at once, from parallel callers as
// the gateway makes them. market: a paid function, whose record and
// spending are on disk before Invoke returns; local: an unpaid one, whose
// record is committed behind it, batched with others.
func BenchmarkServiceInvoke(b *testing.B) {
	for _, local := range []bool{false, true} {
		name := "market"
		if local {
			name = "local"
		}
		b.Run(name, func(b *testing.B) {
			e := newSvcEnv(b)
			e.market.out = Output{Price: ether("0.000001")}
			e.market.ch = make(chan recCall, b.N+16)
			e.local.ch = make(chan recCall, b.N+16)
			s := e.open(b)
			fn := httpFn("f", "/f")
			fn.DailyCap = ether("1000000")
			if local {
				fn.Local, fn.MaxPrice, fn.DailyCap = true, nil, nil
			}
			if err := s.Deploy(context.Background(), []Function{fn}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Invoke(context.Background(), &fn, Invocation{Trigger: KindHTTP, Detail: "GET /f"}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
