package devserver

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	enumsspb "go.temporal.io/server/api/enums/v1"
	persistencespb "go.temporal.io/server/api/persistence/v1"
	"go.temporal.io/server/chasm"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/persistence"
	"go.temporal.io/server/common/persistence/serialization"
	tsql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/common/resolver"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// countingStore counts the reads of a run that reach the store beneath.
type countingStore struct {
	persistence.ExecutionStore
	reads atomic.Int64
}

func (s *countingStore) GetWorkflowExecution(ctx context.Context, r *persistence.GetWorkflowExecutionRequest) (*persistence.InternalGetWorkflowExecutionResponse, error) {
	s.reads.Add(1)
	return s.ExecutionStore.GetWorkflowExecution(ctx, r)
}

const testShard, testRange = int32(1), int64(1)

// executionStores opens a state database file as the embedded server does and returns its SQL
// execution store (counting the reads that reach it) and the same store keeping new runs.
func executionStores(t *testing.T) (*countingStore, keepingStore) {
	t.Helper()
	conf, err := sqliteStore(filepath.Join(t.TempDir(), "state.db"), "state")
	require.NoError(t, err)
	conf.PluginName = preparedReadsPluginName
	db, err := tsql.NewSQLDB(sqlplugin.DbKindMain, conf, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	ser := serialization.NewSerializer()
	shard, err := ser.ShardInfoToBlob(&persistencespb.ShardInfo{ShardId: testShard, RangeId: testRange})
	require.NoError(t, err)
	_, err = db.InsertIntoShards(context.Background(), &sqlplugin.ShardsRow{ShardID: testShard, RangeID: testRange,
		Data: shard.Data, DataEncoding: shard.EncodingType.String()})
	require.NoError(t, err)
	store, err := tsql.NewSQLExecutionStore(db, log.NewNoopLogger(), ser)
	require.NoError(t, err)
	counted := &countingStore{ExecutionStore: store}
	return counted, keepingStore{ExecutionStore: counted, runs: newKeptRuns()}
}

// creation is the creation of a brand-new running run, as the history service asks for one.
func creation(t *testing.T, workflowID string) *persistence.InternalCreateWorkflowExecutionRequest {
	t.Helper()
	ser := serialization.NewSerializer()
	namespaceID, runID := uuid.NewString(), uuid.NewString()
	start := timestamppb.New(time.Date(2026, 12, 5, 16, 30, 0, 0, time.UTC))
	info := &persistencespb.WorkflowExecutionInfo{NamespaceId: namespaceID, WorkflowId: workflowID,
		TaskQueue: "flowgate", WorkflowTypeName: "Prediction", StartTime: start}
	state := &persistencespb.WorkflowExecutionState{CreateRequestId: uuid.NewString(), RunId: runID,
		State:  enumsspb.WORKFLOW_EXECUTION_STATE_RUNNING,
		Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, StartTime: start}
	infoBlob, err := ser.WorkflowExecutionInfoToBlob(info)
	require.NoError(t, err)
	stateBlob, err := ser.WorkflowExecutionStateToBlob(state)
	require.NoError(t, err)
	return &persistence.InternalCreateWorkflowExecutionRequest{
		ShardID: testShard, RangeID: testRange, Mode: persistence.CreateWorkflowModeBrandNew, ArchetypeID: chasm.WorkflowArchetypeID,
		NewWorkflowSnapshot: persistence.InternalWorkflowSnapshot{
			NamespaceID: namespaceID, WorkflowID: workflowID, RunID: runID,
			ExecutionInfo: info, ExecutionInfoBlob: infoBlob, ExecutionState: state, ExecutionStateBlob: stateBlob,
			NextEventID: 4, LastWriteVersion: 1, DBRecordVersion: 1,
		},
	}
}

func readOf(r *persistence.InternalCreateWorkflowExecutionRequest) *persistence.GetWorkflowExecutionRequest {
	s := r.NewWorkflowSnapshot
	return &persistence.GetWorkflowExecutionRequest{ShardID: r.ShardID, NamespaceID: s.NamespaceID, WorkflowID: s.WorkflowID,
		RunID: s.RunID, ArchetypeID: chasm.WorkflowArchetypeID}
}

// deletion deletes the created run.
func deletion(r *persistence.InternalCreateWorkflowExecutionRequest) *persistence.DeleteWorkflowExecutionRequest {
	read := readOf(r)
	return &persistence.DeleteWorkflowExecutionRequest{ShardID: read.ShardID, NamespaceID: read.NamespaceID,
		WorkflowID: read.WorkflowID, RunID: read.RunID, ArchetypeID: read.ArchetypeID}
}

// requireSameState fails unless two reads of a run's state are the same.
func requireSameState(t *testing.T, want, got *persistence.InternalGetWorkflowExecutionResponse) {
	t.Helper()
	require.Equal(t, want.DBRecordVersion, got.DBRecordVersion)
	w, g := *want.State, *got.State
	require.True(t, proto.Equal(w.ExecutionInfo, g.ExecutionInfo), "execution info")
	require.True(t, proto.Equal(w.ExecutionState, g.ExecutionState), "execution state")
	w.ExecutionInfo, w.ExecutionState, g.ExecutionInfo, g.ExecutionState = nil, nil, nil, nil
	require.Equal(t, w, g)
}

// The completion of a new run's first workflow task reads the run back; that read is answered
// from what its creation wrote, without a query, and is what the store would have read.
func TestANewRunIsReadBackAsTheStoreWroteIt(t *testing.T) {
	ctx := context.Background()
	store, keeping := executionStores(t)
	create := creation(t, "chatflow-1:chat-1")
	_, err := keeping.CreateWorkflowExecution(ctx, create)
	require.NoError(t, err)

	kept, err := keeping.GetWorkflowExecution(ctx, readOf(create))
	require.NoError(t, err)
	require.Zero(t, store.reads.Load(), "the first read back of a new run reached the store")
	stored, err := store.GetWorkflowExecution(ctx, readOf(create))
	require.NoError(t, err)
	requireSameState(t, stored, kept)

	// Once: the history service caches what it read, and a later read (after the run left that
	// cache) is the store's.
	before := store.reads.Load()
	again, err := keeping.GetWorkflowExecution(ctx, readOf(create))
	require.NoError(t, err)
	require.Equal(t, before+1, store.reads.Load())
	requireSameState(t, stored, again)

	// What is kept is a copy: the creator's blobs may change after the creation returns.
	second := creation(t, "chatflow-1:chat-2")
	_, err = keeping.CreateWorkflowExecution(ctx, second)
	require.NoError(t, err)
	second.NewWorkflowSnapshot.ExecutionInfoBlob.Data[0] ^= 0xff
	kept, err = keeping.GetWorkflowExecution(ctx, readOf(second))
	require.NoError(t, err)
	stored, err = store.GetWorkflowExecution(ctx, readOf(second))
	require.NoError(t, err)
	requireSameState(t, stored, kept)
}

// A run written again before its first read is read from the store.
func TestAWriteForgetsAKeptRun(t *testing.T) {
	ctx := context.Background()
	// mutation names the created run as a mutation of it does.
	mutation := func(c *persistence.InternalCreateWorkflowExecutionRequest) *persistence.InternalWorkflowMutation {
		s := c.NewWorkflowSnapshot
		return &persistence.InternalWorkflowMutation{NamespaceID: s.NamespaceID, WorkflowID: s.WorkflowID, RunID: s.RunID}
	}
	type resolution = persistence.InternalConflictResolveWorkflowExecutionRequest
	for name, write := range map[string]func(keeping keepingStore, c *persistence.InternalCreateWorkflowExecutionRequest){
		"update": func(keeping keepingStore, c *persistence.InternalCreateWorkflowExecutionRequest) {
			_ = keeping.UpdateWorkflowExecution(ctx, &persistence.InternalUpdateWorkflowExecutionRequest{ShardID: c.ShardID,
				UpdateWorkflowMutation: *mutation(c)})
		},
		"new run of an update": func(keeping keepingStore, c *persistence.InternalCreateWorkflowExecutionRequest) {
			_ = keeping.UpdateWorkflowExecution(ctx, &persistence.InternalUpdateWorkflowExecutionRequest{ShardID: c.ShardID,
				NewWorkflowSnapshot: &c.NewWorkflowSnapshot})
		},
		"conflict resolution": func(keeping keepingStore, c *persistence.InternalCreateWorkflowExecutionRequest) {
			_ = keeping.ConflictResolveWorkflowExecution(ctx, &resolution{ShardID: c.ShardID, ResetWorkflowSnapshot: c.NewWorkflowSnapshot})
		},
		"current run of a conflict resolution": func(keeping keepingStore, c *persistence.InternalCreateWorkflowExecutionRequest) {
			_ = keeping.ConflictResolveWorkflowExecution(ctx, &resolution{ShardID: c.ShardID, CurrentWorkflowMutation: mutation(c)})
		},
		"new run of a conflict resolution": func(keeping keepingStore, c *persistence.InternalCreateWorkflowExecutionRequest) {
			_ = keeping.ConflictResolveWorkflowExecution(ctx, &resolution{ShardID: c.ShardID, NewWorkflowSnapshot: &c.NewWorkflowSnapshot})
		},
		"set": func(keeping keepingStore, c *persistence.InternalCreateWorkflowExecutionRequest) {
			_ = keeping.SetWorkflowExecution(ctx, &persistence.InternalSetWorkflowExecutionRequest{ShardID: c.ShardID,
				SetWorkflowSnapshot: c.NewWorkflowSnapshot})
		},
		"delete": func(keeping keepingStore, c *persistence.InternalCreateWorkflowExecutionRequest) {
			_ = keeping.DeleteWorkflowExecution(ctx, deletion(c))
		},
	} {
		t.Run(name, func(t *testing.T) {
			store, keeping := executionStores(t)
			keeping.ExecutionStore = noWrites{store}
			create := creation(t, "chatflow-1:chat-1")
			_, err := keeping.CreateWorkflowExecution(ctx, create)
			require.NoError(t, err)
			write(keeping, create)
			_, _ = keeping.GetWorkflowExecution(ctx, readOf(create))
			require.Equal(t, int64(1), store.reads.Load(), "a run written after its creation was read from what the creation wrote")
		})
	}
}

// noWrites takes writes of a run's state without making them: what matters here is only that
// they were asked for.
type noWrites struct{ *countingStore }

func (noWrites) UpdateWorkflowExecution(context.Context, *persistence.InternalUpdateWorkflowExecutionRequest) error {
	return nil
}

func (noWrites) ConflictResolveWorkflowExecution(context.Context, *persistence.InternalConflictResolveWorkflowExecutionRequest) error {
	return nil
}

func (noWrites) SetWorkflowExecution(context.Context, *persistence.InternalSetWorkflowExecutionRequest) error {
	return nil
}

func (noWrites) DeleteWorkflowExecution(context.Context, *persistence.DeleteWorkflowExecutionRequest) error {
	return nil
}

// racingStore writes a run while its creation is under way, after the creation committed: as a
// queue's task of the new run could, before the creation has returned.
type racingStore struct {
	*countingStore
	during func()
}

func (s racingStore) CreateWorkflowExecution(ctx context.Context, r *persistence.InternalCreateWorkflowExecutionRequest) (*persistence.InternalCreateWorkflowExecutionResponse, error) {
	resp, err := s.countingStore.CreateWorkflowExecution(ctx, r)
	s.during()
	return resp, err
}

func TestAWriteDuringTheCreationForgetsTheRun(t *testing.T) {
	ctx := context.Background()
	store, keeping := executionStores(t)
	create := creation(t, "chatflow-1:chat-1")
	racing := keepingStore{runs: keeping.runs}
	racing.ExecutionStore = racingStore{countingStore: store, during: func() {
		require.NoError(t, keeping.DeleteWorkflowExecution(ctx, deletion(create)))
	}}
	_, err := racing.CreateWorkflowExecution(ctx, create)
	require.NoError(t, err)
	_, err = racing.GetWorkflowExecution(ctx, readOf(create))
	require.Error(t, err, "the deleted run was read from what its creation wrote")
	require.Equal(t, int64(1), store.reads.Load())
}

func TestOnlyARunCreatedWithoutMapRowsIsKept(t *testing.T) {
	ctx := context.Background()
	store, keeping := executionStores(t)

	failed := creation(t, "chatflow-1:chat-1")
	failed.RangeID = testRange + 1 // the shard has moved on: the creation is refused
	_, err := keeping.CreateWorkflowExecution(ctx, failed)
	require.Error(t, err)
	require.Empty(t, keeping.runs.runs, "a failed creation left its run kept")
	_, _ = keeping.GetWorkflowExecution(ctx, readOf(failed))
	require.Equal(t, int64(1), store.reads.Load(), "a run whose creation failed was read from the creation")

	signaled := creation(t, "chatflow-1:chat-2")
	signaled.NewWorkflowSnapshot.SignalRequestedIDs = map[string]struct{}{"signal-1": {}}
	_, err = keeping.CreateWorkflowExecution(ctx, signaled)
	require.NoError(t, err)
	read, err := keeping.GetWorkflowExecution(ctx, readOf(signaled))
	require.NoError(t, err)
	require.Equal(t, int64(2), store.reads.Load(), "a run with map rows was read from its creation")
	require.Equal(t, []string{"signal-1"}, read.State.SignalRequestedIDs)
}

// keepCreation keeps a new run about to be created.
func keepCreation(t *testing.T, runs *keptRuns) (*persistence.InternalCreateWorkflowExecutionRequest, executionKey, uint64) {
	t.Helper()
	c := creation(t, "chatflow-1:chat-"+uuid.NewString())
	key, seq, ok := runs.keep(c.ShardID, &c.NewWorkflowSnapshot)
	require.True(t, ok)
	return c, key, seq
}

// Runs that are never read back are pushed out by newer ones, oldest first.
func TestKeptRunsAreBounded(t *testing.T) {
	runs := newKeptRuns()
	var first, last *persistence.InternalCreateWorkflowExecutionRequest
	for i := range maxKeptRuns + 1 {
		c, key, seq := keepCreation(t, runs)
		runs.created(key, seq, true)
		if i == 0 {
			first = c
		}
		last = c
	}
	require.Len(t, runs.runs, maxKeptRuns)
	_, ok := runs.take(readOf(first))
	require.False(t, ok, "the oldest run stayed")
	_, ok = runs.take(readOf(last))
	require.True(t, ok, "the newest run was pushed out")
}

// A run is given out only once its creation has returned: a read during the creation (before
// it committed, or with its outcome unknown) is the store's.
func TestARunIsNotGivenOutBeforeItsCreationReturns(t *testing.T) {
	runs := newKeptRuns()
	c, key, seq := keepCreation(t, runs)
	_, ok := runs.take(readOf(c))
	require.False(t, ok, "given out during its creation")
	runs.created(key, seq, false)
	_, ok = runs.take(readOf(c))
	require.False(t, ok, "given out after its creation failed")
}

// keyOf reads ids as the store does: one run however its UUIDs are spelled.
func TestARunIsKeyedByItsIDsAsUUIDs(t *testing.T) {
	runs := newKeptRuns()
	c, key, seq := keepCreation(t, runs)
	runs.created(key, seq, true)
	read := readOf(c)
	read.RunID = strings.ToUpper(read.RunID)
	_, ok := runs.take(read)
	require.True(t, ok)
	_, _, ok = runs.keep(c.ShardID, &persistence.InternalWorkflowSnapshot{NamespaceID: "not-a-uuid", RunID: c.NewWorkflowSnapshot.RunID,
		ExecutionInfoBlob: &commonpb.DataBlob{}, ExecutionStateBlob: &commonpb.DataBlob{}})
	require.False(t, ok)
}

// In the embedded server, a new run's first read back (the completion of its one workflow
// task, run by a local activity as a prediction's nodes are, or the wait for its result) is
// answered from its creation, and nothing stays kept once the runs have closed.
func TestTheServerReadsNewRunsBackFromTheirCreation(t *testing.T) {
	srv, c := serverWithWorker(t, filepath.Join(t.TempDir(), "temporal.db"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const runs = 3
	for i := range runs {
		require.Equal(t, "HELLO", runUpper(ctx, t, c, fmt.Sprint("chat-", i), "hello"))
	}
	ns, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
	require.NoError(t, err)
	id, err := primitives.ParseUUID(ns.GetNamespaceInfo().GetId())
	require.NoError(t, err)
	srv.keptRuns.mu.Lock()
	defer srv.keptRuns.mu.Unlock()
	require.Equal(t, runs, srv.keptRuns.given[[16]byte(id)], "reads of new runs answered from their creation")
	for key := range srv.keptRuns.runs {
		require.NotEqual(t, [16]byte(id), key.namespace, "a closed run is still kept")
	}
}

// A run whose creation writes rows into any of its maps is not kept: the answer would have to
// be those rows as the store reads them back.
func TestARunWithRowsInAnyMapIsNotKept(t *testing.T) {
	blob := &commonpb.DataBlob{EncodingType: enumspb.ENCODING_TYPE_PROTO3, Data: []byte{1}}
	for name, fill := range map[string]func(*persistence.InternalWorkflowSnapshot){
		"activities": func(s *persistence.InternalWorkflowSnapshot) { s.ActivityInfos = map[int64]*commonpb.DataBlob{5: blob} },
		"timers":     func(s *persistence.InternalWorkflowSnapshot) { s.TimerInfos = map[string]*commonpb.DataBlob{"t": blob} },
		"child workflows": func(s *persistence.InternalWorkflowSnapshot) {
			s.ChildExecutionInfos = map[int64]*commonpb.DataBlob{5: blob}
		},
		"cancel requests": func(s *persistence.InternalWorkflowSnapshot) {
			s.RequestCancelInfos = map[int64]*commonpb.DataBlob{5: blob}
		},
		"signals": func(s *persistence.InternalWorkflowSnapshot) { s.SignalInfos = map[int64]*commonpb.DataBlob{5: blob} },
		"CHASM nodes": func(s *persistence.InternalWorkflowSnapshot) {
			s.ChasmNodes = map[string]persistence.InternalChasmNode{"": {Data: blob}}
		},
		"requested signals":  func(s *persistence.InternalWorkflowSnapshot) { s.SignalRequestedIDs = map[string]struct{}{"s": {}} },
		"no execution state": func(s *persistence.InternalWorkflowSnapshot) { s.ExecutionStateBlob = nil },
	} {
		t.Run(name, func(t *testing.T) {
			c := creation(t, "chatflow-1:chat-1")
			fill(&c.NewWorkflowSnapshot)
			_, _, ok := newKeptRuns().keep(c.ShardID, &c.NewWorkflowSnapshot)
			require.False(t, ok)
		})
	}
}

// Readers racing a creation's end get its run exactly once between them.
func TestARunIsGivenOutOnceToRacingReaders(t *testing.T) {
	runs := newKeptRuns()
	for range 300 {
		c, key, seq := keepCreation(t, runs)
		var given atomic.Int32
		var returned atomic.Bool
		var readers sync.WaitGroup
		for range 3 {
			readers.Go(func() {
				// Reading on for a while after the creation has returned, so that a run given
				// out twice would be.
				for after := 0; after < 100; {
					if returned.Load() {
						after++
					}
					if _, ok := runs.take(readOf(c)); ok {
						given.Add(1)
					}
				}
			})
		}
		runs.created(key, seq, true)
		returned.Store(true)
		readers.Wait()
		require.Equal(t, int32(1), given.Load())
	}
}
