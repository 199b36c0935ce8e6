package devserver

import (
	"context"
	"database/sql"
	"fmt"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/persistence"
	"go.temporal.io/server/common/persistence/serialization"
	tsql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"go.temporal.io/server/common/resolver"

	// The pure-Go SQLite driver the server's own SQLite plugin uses, registered as "sqlite".
	_ "modernc.org/sqlite"

	"github.com/flowgate/flowgate/models"
)

// Temporal's SQLite visibility schema indexes the run list 58 ways: by every system column and
// every custom search attribute slot, used or not. Each run's records (at start and at close)
// rewrite a row of that table, so every index is an index entry deleted and inserted, and at 50
// concurrent predictions the close records alone took a fifth of the process's CPU (WAL frames
// written, B-trees walked). The embedded server keeps the indexes its users search by: the run
// list itself (newest first), a run's workflow id, type and status, its execution time, its
// parent's and root's workflow ids (the UI's relationships), and the custom keyword slots the
// namespace's search attributes occupy (Flowise's chatflow and chat ids land in two of the
// ten). Every query still answers; one filtering by a dropped column reads the table instead
// of an index, which at this server's scale takes milliseconds.
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

// keywordSlots is how many custom keyword columns (Keyword01…Keyword10) the schema has.
const keywordSlots = 10

// leanVisibility drops the indexes the embedded server does not need from the visibility
// database in file, at every start: idempotent, and a file from before keeps working. Of the
// custom keyword slots' indexes it keeps those in usedFields (column names such as
// "Keyword03") and drops the others; a used slot whose index an earlier start dropped gets it
// back.
func leanVisibility(file string, usedFields map[string]bool) error {
	db, err := sql.Open("sqlite", models.SQLiteDSN(file, "_pragma=busy_timeout(10000)"))
	if err != nil {
		return fmt.Errorf("devserver: open %s: %w", file, err)
	}
	defer db.Close()
	statements := make([]string, 0, len(droppedVisibilityIndexes)+keywordSlots)
	for _, index := range droppedVisibilityIndexes {
		statements = append(statements, "DROP INDEX IF EXISTS "+index)
	}
	for slot := 1; slot <= keywordSlots; slot++ {
		index, column := fmt.Sprintf("by_keyword_%02d", slot), fmt.Sprintf("Keyword%02d", slot)
		if !usedFields[column] {
			statements = append(statements, "DROP INDEX IF EXISTS "+index)
			continue
		}
		// The schema's own definition of this index.
		statements = append(statements, "CREATE INDEX IF NOT EXISTS "+index+" ON executions_visibility (namespace_id, "+column+
			", (COALESCE(close_time, '9999-12-31 23:59:59+00:00')) DESC, start_time DESC, run_id)")
	}
	for _, statement := range statements {
		if _, err := db.Exec(statement); err != nil {
			return fmt.Errorf("devserver: visibility database %s: %s: %w", file, statement, err)
		}
	}
	return nil
}

// searchAttributeFields reads which visibility columns the custom search attributes of every
// namespace occupy (a column name such as "Keyword03" per attribute): the namespaces share the
// visibility table. The server chose the columns when each namespace was created, or an
// attribute added, in no fixed order, and keeps the choice in the namespace's record; an
// attribute an operator adds while the server runs gets its index at the next start.
func searchAttributeFields(state *config.SQL) (map[string]bool, error) {
	db, err := tsql.NewSQLDB(sqlplugin.DbKindMain, state, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	if err != nil {
		return nil, fmt.Errorf("devserver: open the server's database: %w", err)
	}
	defer func() { _ = db.Close() }()
	serializer := serialization.NewSerializer()
	fields := map[string]bool{}
	pageSize := 100
	filter := sqlplugin.NamespaceFilter{PageSize: &pageSize}
	for {
		rows, err := db.SelectFromNamespace(context.Background(), filter)
		if err != nil {
			return nil, fmt.Errorf("devserver: list namespaces: %w", err)
		}
		for _, row := range rows {
			detail, err := serializer.NamespaceDetailFromBlob(persistence.NewDataBlob(row.Data, row.DataEncoding))
			if err != nil {
				return nil, fmt.Errorf("devserver: decode namespace %q: %w", row.Name, err)
			}
			for field := range detail.GetConfig().GetCustomSearchAttributeAliases() {
				fields[field] = true
			}
		}
		if len(rows) < pageSize {
			return fields, nil
		}
		filter.GreaterThanID = &rows[len(rows)-1].ID
	}
}
