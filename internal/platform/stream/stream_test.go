package stream

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLocalDeliversInOrderWithoutLoss(t *testing.T) {
	b := NewLocal()
	sub := b.Subscribe("run-1")
	defer sub.Close()

	const n = 10_000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			require.NoError(t, b.Publish(context.Background(), "run-1", 1, "token", i))
		}
	}()
	var got []int
	deadline := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case <-sub.Ready():
			for _, ev := range sub.Drain() {
				require.Equal(t, "token", ev.Name)
				var v int
				require.NoError(t, json.Unmarshal(ev.Data, &v))
				require.Equal(t, int64(len(got)+1), ev.Seq)
				got = append(got, v)
			}
		case <-deadline:
			t.Fatalf("received %d of %d events", len(got), n)
		}
	}
	wg.Wait()
	for i, v := range got {
		require.Equal(t, i, v)
	}
}

func TestLocalTopicsAreSeparateAndClosed(t *testing.T) {
	b := NewLocal()
	a, c := b.Subscribe("a"), b.Subscribe("c")
	require.NoError(t, b.Publish(context.Background(), "a", 1, "token", "for a"))
	require.NoError(t, b.Publish(context.Background(), "nobody", 1, "token", "dropped"))
	require.Len(t, a.Drain(), 1)
	require.Empty(t, c.Drain())
	require.Equal(t, 2, b.Subscribers())
	a.Close()
	c.Close()
	require.Zero(t, b.Subscribers(), "closed subscriptions leave nothing behind")
	require.NoError(t, b.Publish(context.Background(), "a", 1, "token", "after close"))
}

func TestLocalPublishNeverBlocksOnASlowReader(t *testing.T) {
	b := NewLocal()
	sub := b.Subscribe("slow")
	defer sub.Close()
	done := make(chan struct{})
	go func() {
		for range 1000 {
			_ = b.Publish(context.Background(), "slow", 1, "token", "x")
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("publish blocked on a reader that never reads")
	}
	require.Len(t, sub.Drain(), 1000)
}
