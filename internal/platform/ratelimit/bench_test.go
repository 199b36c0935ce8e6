package ratelimit

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// benchRule allows far more than any run takes, so every Take is a counted success.
var benchRule = ruleOf(1_000_000, time.Hour)

// benchTake measures serial Takes and concurrent ones, with parallelism goroutines per
// CPU (more for Postgres, whose Takes wait on the network rather than the CPU).
func benchTake(b *testing.B, l *Limiter, parallelism int) {
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := l.Take(ctx, "flow", benchRule, "ip="+strconv.Itoa(i%1024)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var n atomic.Int64
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				if _, err := l.Take(ctx, "flow", benchRule, "ip="+strconv.Itoa(int(i%1024))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkMemoryTake(b *testing.B) {
	benchTake(b, newMemoryLimiter(b), 1)
}

func BenchmarkPostgresTake(b *testing.B) {
	name := migratedDB(b)
	l, _, _ := replica(b, name, Config{StoreTimeout: 10 * time.Second})
	benchTake(b, l, 8)
}

func BenchmarkClientIP(b *testing.B) {
	forged := request("10.0.0.2:41234", "1.1.1.1, 2.2.2.2, 203.0.113.7, 10.0.0.1")
	for _, c := range []struct{ name, numberOfProxies, trustProxy string }{
		{"hops=0", "0", ""},
		{"hops=2", "2", ""},
		{"cidr", "", "10.0.0.0/8, fd00::/8"},
	} {
		res, err := NewIPResolver(c.numberOfProxies, c.trustProxy)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res.ClientIP(forged) == "" {
					b.Fatal("no address")
				}
			}
		})
	}
}
