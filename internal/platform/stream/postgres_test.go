package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/pgtest"

	"github.com/flowgate/flowgate/models"
)

// newTestDatabase creates a fresh database on the local PostgreSQL server with Flowgate's
// schema and returns its URL.
func newTestDatabase(t *testing.T) string {
	t.Helper()
	cfg := models.DBConfig{Type: "postgres", Host: pgtest.Host, Port: pgtest.Port, Name: pgtest.NewDatabase(t), User: pgtest.User}
	db, err := models.Open(context.Background(), cfg)
	require.NoError(t, err)
	sqlDB, _ := db.DB()
	sqlDB.Close()
	return models.PostgresDSN(cfg)
}

func newPostgres(t *testing.T, dsn string) *Postgres {
	t.Helper()
	p, err := NewPostgres(context.Background(), dsn, true, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

// collect reads n events from sub within a deadline.
func collect(t *testing.T, sub Subscription, n int) []Event {
	t.Helper()
	var got []Event
	deadline := time.After(20 * time.Second)
	for len(got) < n {
		select {
		case <-sub.Ready():
			got = append(got, sub.Drain()...)
		case <-deadline:
			t.Fatalf("received %d of %d events", len(got), n)
		}
	}
	return got
}

// TestPostgresAcrossProcesses publishes on one broker (a worker process) and reads on another
// (an API process): everything arrives, in order; a reader that reconnects with the last id it
// saw, on a third broker (another API replica), gets exactly the rest.
func TestPostgresAcrossProcesses(t *testing.T) {
	dsn := newTestDatabase(t)
	worker, api1, api2 := newPostgres(t, dsn), newPostgres(t, dsn), newPostgres(t, dsn)
	topic := uuid.NewString()

	sub := api1.Subscribe(topic)
	const n = 300
	go func() {
		for i := range n {
			if err := worker.Publish(context.Background(), topic, 1, "token", fmt.Sprint(i)); err != nil {
				panic(err)
			}
		}
	}()
	got := collect(t, sub, n)
	sub.Close()
	for i, ev := range got {
		var s string
		require.NoError(t, json.Unmarshal(ev.Data, &s))
		require.Equal(t, fmt.Sprint(i), s)
		require.Equal(t, int32(1), ev.Attempt)
		if i > 0 {
			require.Greater(t, ev.Seq, got[i-1].Seq)
		}
	}

	resumed := api2.SubscribeAfter(topic, got[99].Seq)
	defer resumed.Close()
	rest := collect(t, resumed, n-100)
	require.Equal(t, got[100].Seq, rest[0].Seq)
	require.Len(t, rest, n-100)
	require.Zero(t, api1.Subscribers(), "a closed subscription leaves nothing behind")
}

func TestPostgresPublishFailsFastWhenTheDatabaseIsGone(t *testing.T) {
	dsn := newTestDatabase(t)
	p := newPostgres(t, dsn)
	p.pool.Close()
	start := time.Now()
	err := p.Publish(context.Background(), "t", 1, "token", "x")
	require.Error(t, err)
	require.Less(t, time.Since(start), opTimeout+time.Second)
}

// TestPostgresConcurrentPublishersLoseNothing has two processes publish to one topic at once,
// as a retried node's new attempt and a stale one can: ids become visible in order, so a
// reader that moves past the highest id it has seen misses none.
func TestPostgresConcurrentPublishersLoseNothing(t *testing.T) {
	dsn := newTestDatabase(t)
	a, b, reader := newPostgres(t, dsn), newPostgres(t, dsn), newPostgres(t, dsn)
	topic := uuid.NewString()
	sub := reader.Subscribe(topic)
	defer sub.Close()
	const each = 200
	var wg sync.WaitGroup
	for _, p := range []*Postgres{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := p.Publish(context.Background(), topic, 1, "token", i); err != nil {
					panic(err)
				}
			}
		}()
	}
	got := collect(t, sub, 2*each)
	wg.Wait()
	require.Len(t, got, 2*each)
	seen := map[int64]bool{}
	for _, ev := range got {
		require.False(t, seen[ev.Seq], "event %d delivered twice", ev.Seq)
		seen[ev.Seq] = true
	}
}
