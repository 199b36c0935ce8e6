package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/flowgate/flowgate/internal/app"
	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/platform/flowiseimport"
)

const importUsage = `usage: flowgate import [--flowise-env FILE] [--flowise-set NAME=VALUE]... [--messages] [--skip-restricted-keys] [--dry-run]
       flowgate import --export-file FILE [--dry-run]

Moves a Flowise deployment into the Flowgate that this environment configures (its DATABASE_*,
encryption key and APIKEY_STORAGE_TYPE). The Flowise side is read only. Flowise's own settings
name its database and key: DATABASE_TYPE, DATABASE_PATH, DATABASE_HOST/PORT/USER/PASSWORD/NAME/SSL,
SECRETKEY_PATH, FLOWISE_SECRETKEY_OVERWRITE, SECRETKEY_STORAGE_TYPE and SECRETKEY_AWS_*, read from
Flowise's .env (--flowise-env) and --flowise-set, never from this process's environment, whose
same names configure Flowgate. Give secrets (DATABASE_PASSWORD, FLOWISE_SECRETKEY_OVERWRITE,
SECRETKEY_AWS_*) in the --flowise-env file: a command line is visible in the process list.
Running it again changes only what changed in Flowise.`

// importCommand parses the import command's flags into the command to run.
func importCommand(args []string, stdout io.Writer) (func(context.Context, config.Config, *slog.Logger) error, error) {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	envFile := fs.String("flowise-env", "", "Flowise's .env file")
	exportFile := fs.String("export-file", "", "a Flowise export file (Settings → Export) instead of a database")
	messages := fs.Bool("messages", false, "also move chat messages, feedback, leads and executions")
	dryRun := fs.Bool("dry-run", false, "print what would be imported; write nothing")
	skipRestricted := fs.Bool("skip-restricted-keys", false, "leave out API keys whose Flowise permissions were not full (a Flowgate key may call every route)")
	var sets []string
	fs.Func("flowise-set", "a Flowise setting NAME=VALUE (repeatable; wins over --flowise-env)", func(s string) error {
		if name, _, ok := strings.Cut(s, "="); !ok || name == "" {
			return fmt.Errorf("--flowise-set wants NAME=VALUE, got %q", s)
		}
		sets = append(sets, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, importUsage)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q\n%s", fs.Arg(0), importUsage)
	}
	in := app.FlowiseImport{ExportFile: *exportFile, Messages: *messages, SkipRestrictedKeys: *skipRestricted, DryRun: *dryRun}
	if *exportFile != "" {
		if *envFile != "" || len(sets) > 0 || *messages {
			return nil, errors.New("--export-file reads no Flowise database: drop --flowise-env, --flowise-set and --messages")
		}
	} else {
		settings := map[string]string{}
		if *envFile != "" {
			var err error
			if settings, err = flowiseimport.ReadEnvFile(*envFile); err != nil {
				return nil, err
			}
		}
		for _, s := range sets {
			name, value, _ := strings.Cut(s, "=")
			settings[name] = value
		}
		src, err := flowiseimport.SourceFromEnv(func(name string) string { return settings[name] })
		if err != nil {
			return nil, err
		}
		in.Source = &src
	}
	secretSets := secretSettings(sets)
	return func(ctx context.Context, cfg config.Config, log *slog.Logger) error {
		if len(secretSets) > 0 {
			// A command line is visible to every user of the machine (ps, /proc).
			log.Warn("--flowise-set carries secrets that other users can read in the process list; put them in the --flowise-env file instead",
				"settings", strings.Join(secretSets, ","))
		}
		rep, err := app.ImportFlowise(ctx, cfg, in, log)
		if rep.Committed {
			rep.Write(stdout) // what was written stays written: say what it is
		}
		if err != nil {
			return fmt.Errorf("import from %s: %w", rep.Source, err)
		}
		if !rep.Committed {
			rep.Write(stdout)
		}
		return nil
	}, nil
}

// secretSettings names the --flowise-set settings that look like secrets: a PASSWORD, SECRET
// or KEY in the name, unless it only says where one is (SECRETKEY_PATH, SECRETKEY_AWS_REGION).
func secretSettings(sets []string) []string {
	var out []string
	for _, s := range sets {
		name, _, _ := strings.Cut(s, "=")
		upper := strings.ToUpper(name)
		secret := strings.Contains(upper, "PASSWORD") || strings.Contains(upper, "SECRET") || strings.Contains(upper, "KEY")
		for _, where := range []string{"_PATH", "_TYPE", "_NAME", "_REGION", "_ENDPOINT"} {
			secret = secret && !strings.HasSuffix(upper, where)
		}
		if secret {
			out = append(out, name)
		}
	}
	return out
}
