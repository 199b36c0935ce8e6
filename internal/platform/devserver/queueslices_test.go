package devserver

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/server/common/collection"
	"go.temporal.io/server/common/definition"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/predicates"
	ctasks "go.temporal.io/server/common/tasks"
	"go.temporal.io/server/service/history/queues"
	"go.temporal.io/server/service/history/tasks"
)

// A history queue's reader merges every new range of tasks into its last slice. The test
// builds Temporal's own slices with the server's settings, loads a range of one namespace's
// tasks, checkpoints it with every task still pending, and merges the next range: the merge
// must leave the loaded tasks alone. With Temporal's default the checkpoint narrowed the
// slice to the namespace, and the merge then walked every loaded task (the queue's reader
// merges its slices again on every new range, so it did so on each).
func TestANewRangeMergesWithoutWalkingTheLoadedTasks(t *testing.T) {
	settings := dynamicconfig.NewCollection(dynamicConfig(), log.NewNoopLogger())
	maxPredicateSize := dynamicconfig.QueueMaxPredicateSize.Get(settings)
	maxPendingKeys := dynamicconfig.QueueShrinkPredicateMaxPendingKeys.Get(settings)

	const loaded = 100
	walks := 0
	newSlice := func(from, to int64) *queues.SliceImpl {
		pages := func(r queues.Range) collection.PaginationFn[tasks.Task] {
			return func([]byte) ([]tasks.Task, []byte, error) {
				// Only the first loaded ids of a slice's range hold a task.
				var page []tasks.Task
				for id := r.InclusiveMin.TaskID; id < r.ExclusiveMax.TaskID && id < from+loaded; id++ {
					page = append(page, &tasks.WorkflowTask{
						WorkflowKey: definition.NewWorkflowKey("namespace-id", "workflow", "run"),
						TaskID:      id,
					})
				}
				return page, nil, nil
			}
		}
		pending := queues.ExecutableFactoryFn(func(_ int64, task tasks.Task) queues.Executable {
			return &pendingTask{task: task, walks: &walks}
		})
		scope := queues.NewScope(queues.NewRange(tasks.NewImmediateKey(from), tasks.NewImmediateKey(to)),
			predicates.Universal[tasks.Task]())
		return queues.NewSlice(pages, pending, sliceMonitor{}, scope, queues.GrouperNamespaceID{},
			maxPredicateSize, maxPendingKeys, metrics.NoopMetricsHandler)
	}

	first := newSlice(1, 1+loaded)
	executables, err := first.SelectTasks(queues.DefaultReaderId, 2*loaded)
	require.NoError(t, err)
	require.Len(t, executables, loaded)
	require.False(t, first.MoreTasks())
	first.ShrinkScope() // the checkpoint: all loaded, none done
	require.True(t, first.Scope().Predicate.Equals(predicates.Universal[tasks.Task]()),
		"the checkpoint narrowed the slice's filter to %v", first.Scope().Predicate)

	walks = 0
	merged := first.MergeWithSlice(newSlice(1+loaded, 1+2*loaded))
	require.Len(t, merged, 1, "the new range was merged by splitting the slices")
	require.Zero(t, walks, "merging the new range walked the loaded tasks")
	require.Equal(t, tasks.NewImmediateKey(1), merged[0].Scope().Range.InclusiveMin)
	require.Equal(t, tasks.NewImmediateKey(1+2*loaded), merged[0].Scope().Range.ExclusiveMax)
}

// pendingTask is a loaded task whose processing has not finished. It counts the reads of its
// key, which a slice makes of each task whenever it walks them; a method the slices are not
// expected to call panics (the embedded Executable is nil).
type pendingTask struct {
	queues.Executable
	task  tasks.Task
	walks *int
}

func (p *pendingTask) GetKey() tasks.Key {
	*p.walks++
	return p.task.GetKey()
}

func (p *pendingTask) GetNamespaceID() string { return p.task.GetNamespaceID() }

func (p *pendingTask) State() ctasks.State { return ctasks.TaskStatePending }

// sliceMonitor takes the pending counts slices report, which a queue's checkpoints and
// alerts read.
type sliceMonitor struct{ queues.Monitor }

func (sliceMonitor) SetSlicePendingTaskCount(queues.Slice, int) {}
func (sliceMonitor) RemoveSlice(queues.Slice)                   {}
