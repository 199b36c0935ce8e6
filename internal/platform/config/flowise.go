package config

import (
	"os"
	"strings"

	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/models"
)

// setting reads one variable, trimmed, or def when it is unset or blank.
func setting(getenv func(string) string, name, def string) string {
	if v := strings.TrimSpace(getenv(name)); v != "" {
		return v
	}
	return def
}

// HomeDir is the user's home, or "." when there is none: where Flowgate's and Flowise's
// default directories (.flowgate, .flowise) are.
func HomeDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return "."
	}
	return home
}

// KeySource reads where an encryption key is, with Flowise's settings:
// FLOWISE_SECRETKEY_OVERWRITE (verbatim), SECRETKEY_STORAGE_TYPE (default local), SECRETKEY_PATH
// (default dir) and SECRETKEY_AWS_NAME, _REGION, _ACCESS_KEY, _SECRET_KEY and _ENDPOINT. Flowgate
// reads its own key with it, and `flowgate import` a Flowise deployment's from Flowise's .env.
func KeySource(getenv func(string) string, dir string) secrets.KeySourceConfig {
	return secrets.KeySourceConfig{
		Overwrite:   getenv("FLOWISE_SECRETKEY_OVERWRITE"),
		Path:        setting(getenv, "SECRETKEY_PATH", dir),
		StorageType: setting(getenv, "SECRETKEY_STORAGE_TYPE", secrets.StorageTypeLocal),
		AWS: secrets.AWSKeyConfig{
			Name:   setting(getenv, "SECRETKEY_AWS_NAME", secrets.DefaultAWSSecretName),
			Region: setting(getenv, "SECRETKEY_AWS_REGION", secrets.DefaultAWSRegion),
			// Credentials are used exactly as given, like the other secrets here.
			AccessKey: getenv("SECRETKEY_AWS_ACCESS_KEY"),
			SecretKey: getenv("SECRETKEY_AWS_SECRET_KEY"),
			Endpoint:  setting(getenv, "SECRETKEY_AWS_ENDPOINT", ""),
		},
	}
}

// Database reads Flowise's DATABASE_* settings but DATABASE_PORT (a number, checked by its
// reader): DATABASE_TYPE (default sqlite), DATABASE_PATH (default dir), DATABASE_HOST, _NAME,
// _USER, _PASSWORD and _SSL.
func Database(getenv func(string) string, dir string) models.DBConfig {
	return models.DBConfig{
		Type:     setting(getenv, "DATABASE_TYPE", "sqlite"),
		Path:     setting(getenv, "DATABASE_PATH", dir),
		Host:     setting(getenv, "DATABASE_HOST", "localhost"),
		Name:     setting(getenv, "DATABASE_NAME", "flowise"),
		User:     setting(getenv, "DATABASE_USER", ""),
		Password: getenv("DATABASE_PASSWORD"),
		SSL:      setting(getenv, "DATABASE_SSL", "false") == "true",
	}
}
