//go:build !noembedded

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/flowgate/flowgate/api"
	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/platform/devserver"
	"github.com/flowgate/flowgate/internal/platform/fsperm"
)

// startEmbedded starts the embedded Temporal server with its state in the database directory,
// and the search attributes runs are tagged with.
func startEmbedded(cfg config.Config, log *slog.Logger) (embeddedServer, error) {
	dev, err := devserver.Start(devserver.Options{
		DatabaseFile: filepath.Join(cfg.Database.Path, "temporal.db"),
		FrontendPort: cfg.TemporalPort,
		UIPort:       cfg.TemporalUIPort,
		UIHosts:      cfg.TemporalUIHosts,
		Namespace:    cfg.TemporalNamespace,
		LogLevel:     os.Getenv("FLOWGATE_TEMPORAL_LOG_LEVEL"),
		SearchAttributes: map[string]enumspb.IndexedValueType{
			api.SearchAttributeNames[0]: enumspb.INDEXED_VALUE_TYPE_KEYWORD,
			api.SearchAttributeNames[1]: enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		},
	})
	if err != nil {
		return nil, err
	}
	log.Info("embedded Temporal server started", "address", dev.FrontendAddress(), "ui", dev.UIAddress())
	fmt.Printf("Temporal frontend: %s\n", dev.FrontendAddress())
	fmt.Printf("Temporal Web UI: %s\n", dev.UIAddress())
	return dev, nil
}

// temporalOnly runs just the embedded Temporal server, for API and worker processes started
// separately on the same machine (queue mode without installing Temporal).
func temporalOnly(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if err := fsperm.MkdirAll(cfg.Database.Path); err != nil {
		return fmt.Errorf("create database directory: %w", err)
	}
	dev, err := startEmbedded(cfg, log)
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("shutting down")
	dev.Stop()
	return nil
}
