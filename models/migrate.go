package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// migration is one versioned schema step. Steps are append-only: a released step never changes,
// so every database reaches the same schema by the same path.
type migration struct {
	Version int
	Name    string
	Up      func(tx *gorm.DB) error
}

// Steps 1 and 2 migrate the live model structs: nothing has been released on them yet. The
// first change to one of those models must freeze a copy of its current shape into these
// steps and add the change as a new step.
var migrations = []migration{
	{1, "chat flows, messages and credentials", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&ChatFlow{}, &ChatMessage{}, &Credential{})
	}},
	{2, "stream events for streaming across processes", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&StreamEvent{})
	}},
}

// schemaMigration records an applied step.
type schemaMigration struct {
	Version   int       `gorm:"column:version;primaryKey;autoIncrement:false"`
	Name      string    `gorm:"column:name"`
	AppliedAt time.Time `gorm:"column:applied_at"`
}

func (schemaMigration) TableName() string { return "flowgate_schema_migrations" }

// migrationLockID is the PostgreSQL advisory lock that serialises migrations ("flowgate" in
// ASCII), so several processes starting at once take turns instead of racing on DDL.
const migrationLockID = 0x666c6f7767617465

// Migrate applies the steps a database has not seen yet. It is safe to run from many processes
// at once: one applies each step, the others find it applied.
func Migrate(db *gorm.DB) error {
	switch db.Dialector.Name() {
	case "postgres":
		return db.Connection(func(conn *gorm.DB) error {
			if err := conn.Exec("SELECT pg_advisory_lock(?)", migrationLockID).Error; err != nil {
				return fmt.Errorf("take migration lock: %w", err)
			}
			defer conn.Exec("SELECT pg_advisory_unlock(?)", migrationLockID)
			return migrate(conn)
		})
	default:
		// SQLite DDL is transactional, and the IMMEDIATE transaction takes the database's
		// write lock at BEGIN, so concurrent starters queue behind it.
		return db.Transaction(migrate)
	}
}

func migrate(db *gorm.DB) error {
	if err := db.AutoMigrate(&schemaMigration{}); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	for _, m := range migrations {
		err := db.Transaction(func(tx *gorm.DB) error {
			var n int64
			if err := tx.Model(&schemaMigration{}).Where("version = ?", m.Version).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if err := m.Up(tx); err != nil {
				return err
			}
			return tx.Create(&schemaMigration{Version: m.Version, Name: m.Name, AppliedAt: time.Now().UTC()}).Error
		})
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
		}
	}
	return nil
}
