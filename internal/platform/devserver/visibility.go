package devserver

import (
	"database/sql"
	"fmt"
	"net/url"

	// The pure-Go SQLite driver the server's own SQLite plugin uses, registered as "sqlite".
	_ "modernc.org/sqlite"
)

// Temporal's SQLite visibility schema indexes the run list 58 ways: by every system column and
// every custom search attribute slot, used or not. Each run's records (at start and at close)
// rewrite a row of that table, so every index is an index entry deleted and inserted, and at 50
// concurrent predictions the close records alone took a fifth of the process's CPU (WAL frames
// written, B-trees walked). The embedded server keeps the indexes its users search by: the run
// list itself (newest first), a run's workflow id, type and status, its execution time, its
// parent's and root's workflow ids (the UI's relationships), and the custom keyword attributes
// (Flowise's chatflow and chat ids land in two of them). Every query still answers; one filtering by a dropped column
// reads the table instead of an index, which at this server's scale takes milliseconds.
var droppedVisibilityIndexes = []string{
	"by_history_length", "by_history_size_bytes", "by_execution_duration", "by_state_transition_count",
	"by_task_queue", "by_parent_run_id", "by_root_run_id",
	"by_batcher_user", "by_temporal_scheduled_start_time", "by_temporal_scheduled_by_id",
	"by_temporal_schedule_paused", "by_temporal_namespace_division", "by_temporal_pause_info",
	"by_temporal_worker_deployment_version", "by_temporal_workflow_versioning_behavior",
	"by_temporal_worker_deployment",
	"by_bool_01", "by_bool_02", "by_bool_03", "by_datetime_01", "by_datetime_02", "by_datetime_03",
	"by_double_01", "by_double_02", "by_double_03", "by_int_01", "by_int_02", "by_int_03",
	"by_temporal_bool_01", "by_temporal_bool_02", "by_temporal_datetime_01", "by_temporal_datetime_02",
	"by_temporal_double_01", "by_temporal_double_02", "by_temporal_int_01", "by_temporal_int_02",
	"by_temporal_keyword_01", "by_temporal_keyword_02", "by_temporal_keyword_03", "by_temporal_keyword_04",
	"by_temporal_low_cardinality_keyword_01",
}

// leanVisibility drops the indexes the embedded server does not need from the visibility
// database in file, at every start: idempotent, and a file from before keeps working.
func leanVisibility(file string) error {
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: file}).EscapedPath()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("devserver: open %s: %w", file, err)
	}
	defer db.Close()
	for _, index := range droppedVisibilityIndexes {
		if _, err := db.Exec("DROP INDEX IF EXISTS " + index); err != nil {
			return fmt.Errorf("devserver: drop visibility index %s in %s: %w", index, file, err)
		}
	}
	return nil
}
