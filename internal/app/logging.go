package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/platform/logs"
	"github.com/flowgate/flowgate/internal/storage"
)

// NewLogger builds the process logger: JSON lines on stdout and, as Flowise keeps them,
// time-rotated log files under LOG_PATH, or with STORAGE_TYPE=s3 time-rotated objects under
// logs/server/ in the bucket, so logs outlive the container that wrote them. Close flushes
// the current segment; call it last.
func NewLogger(ctx context.Context, cfg config.Config, stdout io.Writer) (*slog.Logger, func(context.Context) error, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := logs.Options{Level: level, Stdout: stdout, OnError: func(err error) {
		fmt.Fprintln(os.Stderr, "flowgate: log shipping:", err)
	}}
	if cfg.Storage.Type == storage.TypeS3 {
		files, err := storage.Open(ctx, cfg.Storage)
		if err != nil {
			return nil, nil, fmt.Errorf("open storage for logs: %w", err)
		}
		opts.Uploader = files
	} else {
		opts.Dir = cfg.LogPath
	}
	log, sink, err := logs.New(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("start logging: %w", err)
	}
	return log, sink.Close, nil
}
