package secrets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
)

// Values of KeySourceConfig.StorageType, Flowise's SECRETKEY_STORAGE_TYPE.
const (
	// StorageTypeLocal keeps the key in SECRETKEY_PATH/encryption.key. It is
	// the default; an empty StorageType means the same.
	StorageTypeLocal = "local"
	// StorageTypeAWS keeps the key in AWS Secrets Manager.
	StorageTypeAWS = "aws"
)

// Flowise's defaults for SECRETKEY_AWS_NAME and SECRETKEY_AWS_REGION.
const (
	DefaultAWSSecretName = "FlowiseEncryptionKey"
	DefaultAWSRegion     = "us-east-1"
)

// awsCallTimeout bounds every single Secrets Manager call, retries included,
// so that an unreachable endpoint fails the start instead of hanging it. A
// variable so tests can shorten it.
var awsCallTimeout = 10 * time.Second

// awsSecretDescription is set on a secret ResolveKey creates, so that whoever
// finds it in the console knows what deleting it would break.
const awsSecretDescription = "Flowise/Flowgate credential encryption key. Deleting or changing it makes every stored credential unreadable."

// AWSKeyConfig says where in AWS Secrets Manager the key lives; it is used
// when KeySourceConfig.StorageType is StorageTypeAWS.
//
// Printing an AWSKeyConfig with fmt or slog never shows SecretKey.
type AWSKeyConfig struct {
	// Name is the secret's name or ARN (SECRETKEY_AWS_NAME); empty means
	// DefaultAWSSecretName.
	Name string
	// Region is the AWS region (SECRETKEY_AWS_REGION); empty means DefaultAWSRegion.
	Region string
	// AccessKey and SecretKey are static credentials (SECRETKEY_AWS_ACCESS_KEY,
	// SECRETKEY_AWS_SECRET_KEY). They are used only when both are set, as in
	// Flowise; otherwise the SDK's default credential chain applies
	// (environment, shared files, web identity, ECS or EC2 instance role).
	AccessKey string
	SecretKey string
	// Endpoint replaces the Secrets Manager endpoint (SECRETKEY_AWS_ENDPOINT),
	// e.g. "http://localhost:4566" for LocalStack or a private endpoint in an
	// air-gapped network. Flowgate extension: Flowise has no such setting.
	Endpoint string
}

// withDefaults fills in Flowise's defaults for Name and Region.
func (c AWSKeyConfig) withDefaults() AWSKeyConfig {
	if c.Name == "" {
		c.Name = DefaultAWSSecretName
	}
	if c.Region == "" {
		c.Region = DefaultAWSRegion
	}
	return c
}

// source is the Key.Source of a key from this secret.
func (c AWSKeyConfig) source() string {
	return "AWS Secrets Manager secret " + c.Name + " (" + c.Region + ")"
}

// String shows every field except SecretKey, which is only reported as set or not.
func (c AWSKeyConfig) String() string {
	return fmt.Sprintf("{Name:%s Region:%s AccessKey:%s SecretKey:%s Endpoint:%s}",
		c.Name, c.Region, c.AccessKey, redactedMark(c.SecretKey), c.Endpoint)
}

// GoString keeps %#v from printing SecretKey.
func (c AWSKeyConfig) GoString() string {
	return fmt.Sprintf("secrets.AWSKeyConfig{Name:%s, Region:%s, AccessKey:%s, SecretKey:%s, Endpoint:%s}",
		strconv.Quote(c.Name), strconv.Quote(c.Region), strconv.Quote(c.AccessKey),
		strconv.Quote(redactedMark(c.SecretKey)), strconv.Quote(c.Endpoint))
}

// Format routes every fmt verb through String or GoString, for the same
// reason as Key.Format.
func (c AWSKeyConfig) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = f.Write([]byte(c.GoString()))
	case verb == 'q':
		_, _ = f.Write([]byte(strconv.Quote(c.String())))
	default:
		_, _ = f.Write([]byte(c.String()))
	}
}

// LogValue makes slog record the same text as String, whatever the handler;
// without it the JSON handler would marshal the fields, SecretKey included.
func (c AWSKeyConfig) LogValue() slog.Value {
	return slog.StringValue(c.String())
}

func redactedMark(secret string) string {
	if secret == "" {
		return ""
	}
	return "[redacted]"
}

// awsKey is the keySource for SECRETKEY_STORAGE_TYPE=aws. It reads the
// secret's SecretString verbatim and, when the secret does not exist, creates
// it with a fresh random passphrase, as Flowise does.
func awsKey(ctx context.Context, cfg KeySourceConfig) (Key, bool, error) {
	switch cfg.StorageType {
	case "", StorageTypeLocal:
		return Key{}, false, nil
	case StorageTypeAWS:
	default:
		return Key{}, false, fmt.Errorf("unknown key storage type %q: want %q or %q", cfg.StorageType, StorageTypeLocal, StorageTypeAWS)
	}
	c := cfg.AWS.withDefaults()
	source := c.source()
	read := readOrCreateAWSSecret
	if cfg.ReadOnly {
		read = readAWSSecret
	}
	passphrase, err := read(ctx, c)
	if err != nil {
		return Key{}, false, fmt.Errorf("key from %s: %w", source, err)
	}
	return NewKey(passphrase, source), true, nil
}

// readAWSSecret returns the secret's SecretString; a missing secret is an error.
func readAWSSecret(ctx context.Context, c AWSKeyConfig) (string, error) {
	client, err := newSecretsManagerClient(ctx, c)
	if err != nil {
		return "", err
	}
	return getAWSSecret(ctx, client, c.Name)
}

// readOrCreateAWSSecret returns the secret's SecretString, first creating the
// secret with a random passphrase if it does not exist. Errors never contain
// the passphrase: the SDK's errors carry AWS's message, not the request.
func readOrCreateAWSSecret(ctx context.Context, c AWSKeyConfig) (string, error) {
	client, err := newSecretsManagerClient(ctx, c)
	if err != nil {
		return "", err
	}

	passphrase, err := getAWSSecret(ctx, client, c.Name)
	var notFound *smtypes.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		return passphrase, err
	}

	generated := generatePassphrase()
	err = awsCall(ctx, func(ctx context.Context) error {
		_, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name:         aws.String(c.Name),
			SecretString: aws.String(generated),
			Description:  aws.String(awsSecretDescription),
			// ClientRequestToken is filled in by the SDK, so a retried
			// create after a lost response succeeds instead of conflicting.
		})
		return err
	})
	var exists *smtypes.ResourceExistsException
	switch {
	case err == nil:
		// CreateSecret is atomic: having succeeded, ours is the key. Using it
		// directly also avoids a read that might not see the new secret yet.
		return generated, nil
	case errors.As(err, &exists):
		// Another process created the secret between our read and our create;
		// its key is the key, exactly as with the key file.
		passphrase, err := getAWSSecret(ctx, client, c.Name)
		if err != nil {
			return "", fmt.Errorf("reading the secret another process has just created: %w", err)
		}
		return passphrase, nil
	default:
		return "", fmt.Errorf("creating the missing secret: %w", err)
	}
}

// getAWSSecret reads the current version of the secret. It returns the SDK's
// error unchanged (apart from awsCall's wording) so that the caller can look
// for ResourceNotFoundException.
func getAWSSecret(ctx context.Context, client *secretsmanager.Client, name string) (string, error) {
	var out *secretsmanager.GetSecretValueOutput
	err := awsCall(ctx, func(ctx context.Context) error {
		var err error
		out, err = client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
		return err
	})
	if err != nil {
		return "", err
	}
	// Flowise would fall back to the key file here. Refusing is safer: a
	// process that quietly used another key would write credentials that the
	// other processes, and Flowise itself, cannot read.
	if out.SecretString == nil || strings.TrimSpace(*out.SecretString) == "" {
		return "", errors.New("the secret has no SecretString, or only a blank one: store the passphrase as the secret's plaintext value")
	}
	return *out.SecretString, nil
}

// newSecretsManagerClient builds a client for c: region, credentials and
// endpoint from c, everything else (proxy, CA bundle, retry mode, and the
// credential chain when c has no static credentials) from the environment.
func newSecretsManagerClient(ctx context.Context, c AWSKeyConfig) (*secretsmanager.Client, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(c.Region)}
	if c.AccessKey != "" && c.SecretKey != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, "")))
	}
	loadCtx, cancel := context.WithTimeout(ctx, awsCallTimeout)
	defer cancel()
	sdkConfig, err := awsconfig.LoadDefaultConfig(loadCtx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS SDK configuration: %w", err)
	}
	return secretsmanager.NewFromConfig(sdkConfig, func(o *secretsmanager.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	}), nil
}

// awsCall runs one Secrets Manager call under awsCallTimeout and words the
// common failures; the SDK's error stays wrapped for errors.As.
func awsCall(ctx context.Context, call func(context.Context) error) error {
	callCtx, cancel := context.WithTimeout(ctx, awsCallTimeout)
	defer cancel()
	err := call(callCtx)
	if err == nil {
		return nil
	}
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "AccessDeniedException":
		return fmt.Errorf("access denied: %w", err)
	case ctx.Err() == nil && errors.Is(callCtx.Err(), context.DeadlineExceeded):
		// Our deadline fired, not the caller's.
		return fmt.Errorf("no answer within %s: %w", awsCallTimeout, err)
	}
	return err
}
