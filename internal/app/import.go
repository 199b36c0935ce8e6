package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/platform/flowiseimport"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/models"
)

// FlowiseImport is what `flowgate import` reads: a Flowise deployment's database, or a Flowise
// export file.
type FlowiseImport struct {
	// Source is the Flowise deployment (its DATABASE_* and key settings); nil with ExportFile.
	Source *flowiseimport.Source
	// ExportFile is a file of Flowise's Settings → Export.
	ExportFile string
	// Messages also moves chat messages, feedback, leads and agentflow executions from a
	// database (an export file brings what it holds).
	Messages bool
	// SkipRestrictedKeys leaves out the API keys whose Flowise permissions were not full (in
	// Flowgate a key may call every route).
	SkipRestrictedKeys bool
	DryRun             bool
}

// maxExportFile bounds an export file read by the command: it is read whole into memory.
const maxExportFile = 1 << 30

// ImportFlowise moves a Flowise deployment's data into the Flowgate cfg describes (its
// database, encryption key and API key store). It reads everything, and opens every
// credential, before it writes anything.
func ImportFlowise(ctx context.Context, cfg config.Config, in FlowiseImport, log *slog.Logger) (flowiseimport.Report, error) {
	start := time.Now()
	var (
		data   *flowiseimport.Data
		source string
		err    error
	)
	switch {
	case in.ExportFile != "":
		source = "Flowise export file " + in.ExportFile
		data, err = readExportFile(in.ExportFile)
	case in.Source != nil:
		source = in.Source.Describe()
		if sameDatabase(*in.Source, cfg.Database) {
			return flowiseimport.Report{}, errors.New("the Flowise database and Flowgate's are the same: give Flowgate a database of its own (DATABASE_* in Flowgate's environment)")
		}
		data, err = flowiseimport.ReadDatabase(ctx, *in.Source, in.Messages)
	default:
		return flowiseimport.Report{}, errors.New("nothing to import: give a Flowise database or an export file")
	}
	if err != nil {
		return flowiseimport.Report{Source: source}, err
	}
	if in.SkipRestrictedKeys {
		data.SkipRestrictedKeys()
	}
	db, cipher, err := destination(ctx, cfg, in.DryRun)
	if err != nil {
		return flowiseimport.Report{Source: source}, err
	}
	a := &App{cfg: cfg, db: db}
	defer a.close()
	// Credentials sealed with a key that cannot open the ones already here would be lost to
	// every process that can.
	if err := checkKey(ctx, models.NewStore(db), cipher, log); err != nil {
		return flowiseimport.Report{Source: source}, err
	}
	rep, err := flowiseimport.Apply(ctx, flowiseimport.Destination{DB: db, Cipher: cipher, Keys: a.keyStore(),
		KeysInDB: cfg.APIKeyStorageType == "db"}, data, in.DryRun)
	rep.Source, rep.Elapsed = source, time.Since(start)
	return rep, err
}

// destination opens Flowgate's database and key for an import. A dry run creates nothing: the
// database is opened read-only and unmigrated (one not created yet is an empty one in memory,
// so everything counts as new), and the key is only read (none yet: a throwaway key seals
// what is counted, as the real run's new key will).
func destination(ctx context.Context, cfg config.Config, dryRun bool) (*gorm.DB, *secrets.Cipher, error) {
	if !dryRun {
		db, err := models.Open(ctx, cfg.Database)
		if err != nil {
			return nil, nil, err
		}
		cipher, err := newCipher(ctx, cfg)
		if err != nil {
			closeDB(db)
			return nil, nil, err
		}
		return db, cipher, nil
	}
	db, err := models.OpenReadOnly(ctx, cfg.Database)
	if errors.Is(err, models.ErrNoDatabase) {
		db, err = models.OpenMemory(ctx)
	}
	if err != nil {
		return nil, nil, err
	}
	key, err := secrets.ReadKey(ctx, keySource(cfg))
	if errors.Is(err, fs.ErrNotExist) {
		key, err = secrets.NewKey(uuid.NewString(), "dry run: Flowgate has no key yet"), nil
	}
	if err != nil {
		closeDB(db)
		return nil, nil, fmt.Errorf("resolve encryption key: %w", err)
	}
	return db, secrets.NewCipher(key), nil
}

func closeDB(db *gorm.DB) {
	if s, err := db.DB(); err == nil {
		_ = s.Close()
	}
}

func readExportFile(path string) (*flowiseimport.Data, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read export file: %w", err)
	}
	defer f.Close()
	return flowiseimport.ParseExport(f, maxExportFile)
}

// sameDatabase reports whether the Flowise source is Flowgate's own database.
func sameDatabase(src flowiseimport.Source, dst models.DBConfig) bool {
	s := src.Database
	if s.Type != dst.Type {
		return false
	}
	if s.Type == "postgres" {
		return s.Host == dst.Host && s.Port == dst.Port && s.Name == dst.Name
	}
	a, errA := filepath.Abs(src.SQLiteFile())
	b, errB := filepath.Abs(filepath.Join(dst.Path, "database.sqlite"))
	return errA == nil && errB == nil && a == b
}
