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

// A step that migrates a live model struct must be rewritten to a frozen copy (as
// credentialV1) the first time that model changes, so the step keeps creating what it always
// created and the change arrives as a step of its own.
var migrations = []migration{
	{1, "chat flows, messages and credentials", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&ChatFlow{}, &ChatMessage{}, &credentialV1{})
	}},
	{2, "stream events for streaming across processes", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&StreamEvent{})
	}},
	{3, "key id per credential", func(tx *gorm.DB) error {
		return tx.Migrator().AddColumn(&Credential{}, "KeyID")
	}},
	{4, "variables", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&Variable{})
	}},
	{5, "api keys", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&apiKeyV5{})
	}},
	{6, "agentflow executions", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&Execution{})
	}},
	{7, "custom tools", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&Tool{})
	}},
	{8, "document stores, their chunks and built-in vectors", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&DocumentStore{}, &DocumentStoreFileChunk{}, &DocStoreVector{})
	}},
	{9, "api key fingerprints", func(tx *gorm.DB) error {
		// Existing keys keep NULL: only their plaintext gives the fingerprint, so each gets
		// it when it next verifies. The checks make the step safe on a table that already
		// has the column.
		m := tx.Migrator()
		if !m.HasColumn(&APIKey{}, "Fingerprint") {
			if err := m.AddColumn(&APIKey{}, "Fingerprint"); err != nil {
				return err
			}
		}
		if !m.HasIndex(&APIKey{}, "Fingerprint") {
			return m.CreateIndex(&APIKey{}, "Fingerprint")
		}
		return nil
	}},
	{10, "chat message feedback and leads", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&ChatMessageFeedback{}, &Lead{})
	}},
}

// credentialV1 is the credential table as step 1 created it.
type credentialV1 struct {
	ID             string    `gorm:"column:id;primaryKey;type:varchar(36)"`
	Name           string    `gorm:"column:name;not null"`
	CredentialName string    `gorm:"column:credentialName;not null"`
	EncryptedData  string    `gorm:"column:encryptedData;type:text;not null"`
	CreatedDate    time.Time `gorm:"column:createdDate;not null"`
	UpdatedDate    time.Time `gorm:"column:updatedDate;not null"`
}

func (credentialV1) TableName() string { return "credential" }

// apiKeyV5 is the api key table as step 5 created it.
type apiKeyV5 struct {
	ID          string    `gorm:"column:id;primaryKey;type:varchar(36)"`
	KeyName     string    `gorm:"column:keyName;not null"`
	Prefix      string    `gorm:"column:keyPrefix;type:varchar(16);not null;index"`
	APISecret   string    `gorm:"column:apiSecret;type:text;not null"`
	CreatedDate time.Time `gorm:"column:createdDate;not null"`
	UpdatedDate time.Time `gorm:"column:updatedDate;not null"`
}

func (apiKeyV5) TableName() string { return "apikey" }

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
