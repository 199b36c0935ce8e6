package devserver

import (
	"context"
	"slices"
	"sync"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/server/common/persistence"
	persistenceclient "go.temporal.io/server/common/persistence/client"
	"go.temporal.io/server/common/primitives"
)

// Temporal's history service creates a run outside its cache of loaded runs (a start builds
// the run's context apart, api.NewWorkflowLeaseAndContext), so the first thing to touch a new
// run reads it back from the store: for a prediction, moments after the start wrote it, the
// completion of its one workflow task or a caller waiting for its result, whichever comes
// first. That read is nine queries (the run's row, six maps, its requested signals and its
// buffered events), 4.5% of all CPU at 50 clients.
//
// The embedded server's execution stores therefore keep what a run's creation wrote until
// that first read, which they answer from it instead of from SQLite. Only a run created with
// no rows in its maps is kept (a new run's maps are empty unless it starts with a signal or
// some such), so the answer is its row alone: the state the store would read back (the same
// bytes of execution info; the store writes the execution state from its proto again, so
// those bytes may order a map differently, with the same content). Every other write of a
// run's state goes through the same stores (one embedded server, one process, one set of
// stores sharing the kept runs; the SQL store's other writes touch other tables), and each
// write forgets the runs it names before it runs: a kept run is only ever the state the
// database holds. A run is kept from before its creation is sent, but given out only once the
// creation has returned, so a write that slips in between forgets it rather than being
// overtaken by it. (A write that forgot a run before its creation was even sent, and
// committed after it, would be missed; only a delete of a run not yet created could be such
// a write, and run ids are fresh UUIDs.)

// maxKeptRuns bounds the runs kept: a run is read back within milliseconds of its creation, so
// only runs that are never read (a start whose caller gave up, say) stay until pushed out.
const maxKeptRuns = 1024

// executionKey names a run as the store keys its rows: the namespace and run ids as the UUIDs the
// store parses them into, so that two spellings of one id are one key.
type executionKey struct {
	shard          int32
	namespace, run [16]byte
	workflow       string
}

// keyOf is the key of a run, or false for ids that are not UUIDs (the store would refuse them;
// ParseUUID takes "" for a nil UUID, hence the length checks).
func keyOf(shard int32, namespaceID, workflowID, runID string) (executionKey, bool) {
	ns, err := primitives.ParseUUID(namespaceID)
	if err != nil || len(ns) != 16 {
		return executionKey{}, false
	}
	run, err := primitives.ParseUUID(runID)
	if err != nil || len(run) != 16 {
		return executionKey{}, false
	}
	return executionKey{shard: shard, namespace: [16]byte(ns), run: [16]byte(run), workflow: workflowID}, true
}

// A keptRun is the state a run's creation wrote. It is ready once the creation has returned.
type keptRun struct {
	seq            uint64
	ready          bool
	executionInfo  *commonpb.DataBlob
	executionState *commonpb.DataBlob
	nextEventID    int64
	dbVersion      int64
}

// keptRuns are the runs kept until their first read, shared by every execution store of one
// server.
type keptRuns struct {
	mu   sync.Mutex
	runs map[executionKey]*keptRun
	// order holds the keys in the order they were kept, a ring of maxKeptRuns, so the oldest
	// is pushed out first; seq tells a slot's run from a later run of the same key.
	order [maxKeptRuns]struct {
		key executionKey
		seq uint64
	}
	seq uint64
	// given counts the reads answered from kept runs by namespace, for tests.
	given map[[16]byte]int
}

func newKeptRuns() *keptRuns {
	return &keptRuns{runs: make(map[executionKey]*keptRun), given: make(map[[16]byte]int)}
}

// keep records a run about to be created from snapshot, not yet given out, and returns its
// sequence number; false when the run is not one to keep (it has map rows, or odd ids).
func (k *keptRuns) keep(shard int32, s *persistence.InternalWorkflowSnapshot) (executionKey, uint64, bool) {
	if len(s.ActivityInfos)+len(s.TimerInfos)+len(s.ChildExecutionInfos)+len(s.RequestCancelInfos)+
		len(s.SignalInfos)+len(s.ChasmNodes)+len(s.SignalRequestedIDs) > 0 ||
		s.ExecutionInfoBlob == nil || s.ExecutionStateBlob == nil {
		return executionKey{}, 0, false
	}
	key, ok := keyOf(shard, s.NamespaceID, s.WorkflowID, s.RunID)
	if !ok {
		return executionKey{}, 0, false
	}
	run := &keptRun{
		executionInfo:  cloneBlob(s.ExecutionInfoBlob),
		executionState: cloneBlob(s.ExecutionStateBlob),
		nextEventID:    s.NextEventID,
		dbVersion:      s.DBRecordVersion,
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.seq++
	run.seq = k.seq
	slot := &k.order[k.seq%maxKeptRuns]
	if old, ok := k.runs[slot.key]; ok && old.seq == slot.seq {
		delete(k.runs, slot.key)
	}
	slot.key, slot.seq = key, run.seq
	k.runs[key] = run
	return key, run.seq, true
}

// created settles the run kept as seq: given out from now on if its creation succeeded and no
// write has forgotten it meanwhile, dropped if the creation failed.
func (k *keptRuns) created(key executionKey, seq uint64, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	run, kept := k.runs[key]
	if !kept || run.seq != seq {
		return
	}
	if ok {
		run.ready = true
	} else {
		delete(k.runs, key)
	}
}

// forget drops the kept state of the runs a write is about to change.
func (k *keptRuns) forget(shard int32, runs ...runRef) {
	var buf [3]executionKey // a write names three runs at most
	keys := buf[:0]
	for _, r := range runs {
		if key, ok := keyOf(shard, r.namespace, r.workflow, r.run); ok {
			keys = append(keys, key)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, key := range keys {
		delete(k.runs, key)
	}
}

// take returns a kept run's state as the store reads it back, once.
func (k *keptRuns) take(r *persistence.GetWorkflowExecutionRequest) (*persistence.InternalGetWorkflowExecutionResponse, bool) {
	key, ok := keyOf(r.ShardID, r.NamespaceID, r.WorkflowID, r.RunID)
	if !ok {
		return nil, false
	}
	k.mu.Lock()
	run, kept := k.runs[key]
	ready := kept && run.ready // read under the lock: created may set it meanwhile
	if ready {
		delete(k.runs, key)
		k.given[key.namespace]++
	}
	k.mu.Unlock()
	if !ready {
		return nil, false
	}
	// The store's read-back of a run whose maps are empty: empty maps and lists, no buffered
	// events, no checksum (SQL stores keep none).
	return &persistence.InternalGetWorkflowExecutionResponse{
		State: &persistence.InternalWorkflowMutableState{
			ActivityInfos:       map[int64]*commonpb.DataBlob{},
			TimerInfos:          map[string]*commonpb.DataBlob{},
			ChildExecutionInfos: map[int64]*commonpb.DataBlob{},
			RequestCancelInfos:  map[int64]*commonpb.DataBlob{},
			SignalInfos:         map[int64]*commonpb.DataBlob{},
			ChasmNodes:          map[string]persistence.InternalChasmNode{},
			SignalRequestedIDs:  []string{},
			ExecutionInfo:       run.executionInfo,
			ExecutionState:      run.executionState,
			NextEventID:         run.nextEventID,
			DBRecordVersion:     run.dbVersion,
		},
		DBRecordVersion: run.dbVersion,
	}, true
}

// cloneBlob copies a blob: the caller keeps its own, and the reader gets one of its own.
func cloneBlob(b *commonpb.DataBlob) *commonpb.DataBlob {
	return &commonpb.DataBlob{EncodingType: b.EncodingType, Data: slices.Clone(b.Data)}
}

// runRef is a run as a write names it.
type runRef struct{ namespace, workflow, run string }

func snapshotIDs(s *persistence.InternalWorkflowSnapshot) runRef {
	return runRef{s.NamespaceID, s.WorkflowID, s.RunID}
}

func mutationIDs(m *persistence.InternalWorkflowMutation) runRef {
	return runRef{m.NamespaceID, m.WorkflowID, m.RunID}
}

// keepingStore is an execution store that keeps new runs until their first read.
type keepingStore struct {
	persistence.ExecutionStore
	runs *keptRuns
}

func (s keepingStore) CreateWorkflowExecution(ctx context.Context, r *persistence.InternalCreateWorkflowExecutionRequest) (*persistence.InternalCreateWorkflowExecutionResponse, error) {
	key, seq, kept := s.runs.keep(r.ShardID, &r.NewWorkflowSnapshot)
	resp, err := s.ExecutionStore.CreateWorkflowExecution(ctx, r)
	if kept {
		s.runs.created(key, seq, err == nil)
	}
	return resp, err
}

func (s keepingStore) GetWorkflowExecution(ctx context.Context, r *persistence.GetWorkflowExecutionRequest) (*persistence.InternalGetWorkflowExecutionResponse, error) {
	if resp, ok := s.runs.take(r); ok {
		return resp, nil
	}
	return s.ExecutionStore.GetWorkflowExecution(ctx, r)
}

func (s keepingStore) UpdateWorkflowExecution(ctx context.Context, r *persistence.InternalUpdateWorkflowExecutionRequest) error {
	ids := []runRef{mutationIDs(&r.UpdateWorkflowMutation)}
	if r.NewWorkflowSnapshot != nil {
		ids = append(ids, snapshotIDs(r.NewWorkflowSnapshot))
	}
	s.runs.forget(r.ShardID, ids...)
	return s.ExecutionStore.UpdateWorkflowExecution(ctx, r)
}

func (s keepingStore) ConflictResolveWorkflowExecution(ctx context.Context, r *persistence.InternalConflictResolveWorkflowExecutionRequest) error {
	ids := []runRef{snapshotIDs(&r.ResetWorkflowSnapshot)}
	if r.NewWorkflowSnapshot != nil {
		ids = append(ids, snapshotIDs(r.NewWorkflowSnapshot))
	}
	if r.CurrentWorkflowMutation != nil {
		ids = append(ids, mutationIDs(r.CurrentWorkflowMutation))
	}
	s.runs.forget(r.ShardID, ids...)
	return s.ExecutionStore.ConflictResolveWorkflowExecution(ctx, r)
}

func (s keepingStore) SetWorkflowExecution(ctx context.Context, r *persistence.InternalSetWorkflowExecutionRequest) error {
	s.runs.forget(r.ShardID, snapshotIDs(&r.SetWorkflowSnapshot))
	return s.ExecutionStore.SetWorkflowExecution(ctx, r)
}

func (s keepingStore) DeleteWorkflowExecution(ctx context.Context, r *persistence.DeleteWorkflowExecutionRequest) error {
	s.runs.forget(r.ShardID, runRef{r.NamespaceID, r.WorkflowID, r.RunID})
	return s.ExecutionStore.DeleteWorkflowExecution(ctx, r)
}

// keepingStores is a data store factory whose execution stores keep new runs.
type keepingStores struct {
	persistence.DataStoreFactory
	runs *keptRuns
}

func (f keepingStores) NewExecutionStore() (persistence.ExecutionStore, error) {
	store, err := f.DataStoreFactory.NewExecutionStore()
	if err != nil {
		return nil, err
	}
	return keepingStore{ExecutionStore: store, runs: f.runs}, nil
}

// keepingNewRuns is the server's persistence factory with its execution stores keeping new
// runs in runs, one set for all of the server's services: any of them may write a run.
func keepingNewRuns(runs *keptRuns) persistenceclient.FactoryProviderFn {
	return func(p persistenceclient.NewFactoryParams) persistenceclient.Factory {
		p.DataStoreFactory = keepingStores{DataStoreFactory: p.DataStoreFactory, runs: runs}
		return persistenceclient.FactoryProvider(p)
	}
}
