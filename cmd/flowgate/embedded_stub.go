//go:build noembedded

package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/flowgate/flowgate/internal/platform/config"
)

// Production images are built with -tags noembedded: they talk to a real Temporal cluster and
// do not carry the embedded server.
var errNoEmbedded = errors.New("this flowgate was built without the embedded Temporal server: set TEMPORAL_ADDRESS")

func startEmbedded(config.Config, *slog.Logger) (embeddedServer, error) { return nil, errNoEmbedded }

func temporalOnly(context.Context, config.Config, *slog.Logger) error { return errNoEmbedded }
