package secrets

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"
)

// Static credentials the tests sign with; the stand-in checks that they,
// and the configured region, are what the SDK used.
const (
	testAccessKey = "AKIDFLOWGATETEST"
	testSecretKey = "test-secret-access-key-must-not-leak"
)

// fakeSecretsManager stands in for the AWS Secrets Manager HTTP API: the
// JSON 1.1 protocol (POST /, X-Amz-Target: secretsmanager.<Operation>), the
// documented response bodies, and errors as HTTP 400 with
// {"__type": "...", "message": "..."}. Only the two operations ResolveKey
// uses are implemented.
type fakeSecretsManager struct {
	t *testing.T

	// wantCredential is the start of the SigV4 Credential= the SDK must sign with.
	wantCredential string
	// denyAll answers every call with AccessDeniedException.
	denyAll bool
	// hang makes every call block until the client gives up.
	hang bool
	// createBarrier, if set, holds CreateSecret calls until that many have
	// arrived, so that they all race for a secret none of them has seen.
	createBarrier int

	mu       sync.Mutex
	secrets  map[string]string
	calls    []string // "Operation name", in arrival order
	created  int      // successful CreateSecret calls
	arrived  int      // CreateSecret calls that reached the barrier
	released chan struct{}
}

func newFakeSecretsManager(t *testing.T) *fakeSecretsManager {
	return &fakeSecretsManager{
		t:              t,
		wantCredential: testAccessKey + "/",
		secrets:        map[string]string{},
		released:       make(chan struct{}),
	}
}

// start serves f and returns its URL, for AWSKeyConfig.Endpoint.
func (f *fakeSecretsManager) start() string {
	srv := httptest.NewServer(f)
	f.t.Cleanup(srv.Close)
	return srv.URL
}

func (f *fakeSecretsManager) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeSecretsManager) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeSecretsManager) createdCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.created
}

func (f *fakeSecretsManager) stored(name string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.secrets[name]
	return v, ok
}

func (f *fakeSecretsManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Protocol checks: a request the real service would reject fails here too.
	if r.Method != http.MethodPost || r.URL.Path != "/" ||
		r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		f.t.Errorf("not a JSON 1.1 request: %s %s %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		writeAWSError(w, "SerializationException", "bad request")
		return
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+f.wantCredential) {
		f.t.Errorf("request signed with %q, want credential %s...", auth, f.wantCredential)
		writeAWSError(w, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	var in struct {
		SecretId, Name, SecretString, ClientRequestToken string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeAWSError(w, "SerializationException", err.Error())
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	f.record(op + " " + in.SecretId + in.Name)

	switch {
	case f.hang:
		<-r.Context().Done() // the client went away
		return
	case f.denyAll:
		writeAWSError(w, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/flowgate is not authorized to perform: secretsmanager:"+op+
			" on resource: "+in.SecretId+in.Name+" because no identity-based policy allows the secretsmanager:"+op+" action")
		return
	}

	switch op {
	case "GetSecretValue":
		v, ok := f.stored(in.SecretId)
		if !ok {
			writeAWSError(w, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
			return
		}
		writeAWSJSON(w, map[string]any{
			"ARN":           arn(in.SecretId),
			"Name":          in.SecretId,
			"SecretString":  v,
			"VersionId":     "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1",
			"VersionStages": []string{"AWSCURRENT"},
			"CreatedDate":   1.523477145713e9,
		})
	case "CreateSecret":
		if in.ClientRequestToken == "" {
			f.t.Error("CreateSecret without ClientRequestToken")
		}
		if !f.waitAtCreateBarrier(r.Context()) {
			return
		}
		f.mu.Lock()
		_, exists := f.secrets[in.Name]
		if !exists {
			f.secrets[in.Name] = in.SecretString
			f.created++
		}
		f.mu.Unlock()
		if exists {
			writeAWSError(w, "ResourceExistsException", "The operation failed because the secret "+in.Name+" already exists.")
			return
		}
		writeAWSJSON(w, map[string]any{
			"ARN":       arn(in.Name),
			"Name":      in.Name,
			"VersionId": "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE",
		})
	default:
		writeAWSError(w, "UnknownOperationException", "")
	}
}

// waitAtCreateBarrier holds a CreateSecret until createBarrier of them have
// arrived. It reports false if the client gave up first.
func (f *fakeSecretsManager) waitAtCreateBarrier(ctx context.Context) bool {
	if f.createBarrier == 0 {
		return true
	}
	f.mu.Lock()
	f.arrived++
	if f.arrived == f.createBarrier {
		close(f.released)
	}
	f.mu.Unlock()
	select {
	case <-f.released:
		return true
	case <-ctx.Done():
		return false
	}
}

func arn(name string) string {
	return "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + name + "-a1b2c3"
}

func writeAWSJSON(w http.ResponseWriter, body any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(body)
}

func writeAWSError(w http.ResponseWriter, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message})
}

// isolateAWSEnv keeps the machine's AWS settings (profiles, credentials,
// endpoint overrides, instance metadata) out of the tests.
func isolateAWSEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, name := range []string{
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
	} {
		t.Setenv(name, "")
	}
}

// awsConfig is a KeySourceConfig for the stand-in at endpoint, signing with
// the test's static credentials. Path points at a directory that must stay
// absent: with storage type aws, no key file may be created.
func awsConfig(t *testing.T, endpoint string) KeySourceConfig {
	return KeySourceConfig{
		Path:        filepath.Join(t.TempDir(), "absent"),
		StorageType: StorageTypeAWS,
		AWS: AWSKeyConfig{
			AccessKey: testAccessKey,
			SecretKey: testSecretKey,
			Endpoint:  endpoint,
		},
	}
}

func TestResolveKeyAWSReadsExistingSecretVerbatim(t *testing.T) {
	isolateAWSEnv(t)
	fake := newFakeSecretsManager(t)
	const stored = " passphrase with spaces and a newline\n"
	fake.secrets["prod/flowgate-key"] = stored
	cfg := awsConfig(t, fake.start())
	cfg.AWS.Name = "prod/flowgate-key"
	cfg.AWS.Region = "eu-west-1"

	k, err := ResolveKey(t.Context(), cfg)
	require.NoError(t, err)
	require.Equal(t, stored, k.secret(), "the SecretString is used verbatim")
	require.Equal(t, "AWS Secrets Manager secret prod/flowgate-key (eu-west-1)", k.Source)
	require.Equal(t, []string{"GetSecretValue prod/flowgate-key"}, fake.recorded())
	require.NoDirExists(t, cfg.Path)
}

func TestResolveKeyAWSSignsForConfiguredRegion(t *testing.T) {
	isolateAWSEnv(t)
	auth := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth <- r.Header.Get("Authorization")
		writeAWSJSON(w, map[string]any{"Name": "FlowiseEncryptionKey", "SecretString": "k"})
	}))
	t.Cleanup(srv.Close)
	cfg := awsConfig(t, srv.URL)
	cfg.AWS.Region = "eu-central-1"

	_, err := ResolveKey(t.Context(), cfg)
	require.NoError(t, err)
	require.Regexp(t, `^AWS4-HMAC-SHA256 Credential=AKIDFLOWGATETEST/\d{8}/eu-central-1/secretsmanager/aws4_request,`, <-auth)
}

func TestResolveKeyAWSCreatesMissingSecret(t *testing.T) {
	isolateAWSEnv(t)
	fake := newFakeSecretsManager(t)
	cfg := awsConfig(t, fake.start())

	k, err := ResolveKey(t.Context(), cfg)
	require.NoError(t, err)
	require.Equal(t, "AWS Secrets Manager secret FlowiseEncryptionKey (us-east-1)", k.Source, "Flowise's default name and region")

	stored, ok := fake.stored(DefaultAWSSecretName)
	require.True(t, ok, "the secret was created")
	require.Equal(t, stored, k.secret())
	require.Len(t, stored, 32)
	raw, err := base64.StdEncoding.DecodeString(stored)
	require.NoError(t, err)
	require.Len(t, raw, generatedKeyBytes)
	require.Equal(t, []string{
		"GetSecretValue FlowiseEncryptionKey",
		"CreateSecret FlowiseEncryptionKey",
	}, fake.recorded())

	again, err := ResolveKey(t.Context(), cfg)
	require.NoError(t, err)
	require.Equal(t, k.secret(), again.secret(), "the second resolve reads the created secret")
	require.Equal(t, 1, fake.createdCount())
	require.NoDirExists(t, cfg.Path)
}

func TestResolveKeyAWSAccessDenied(t *testing.T) {
	isolateAWSEnv(t)
	fake := newFakeSecretsManager(t)
	fake.denyAll = true
	fake.secrets[DefaultAWSSecretName] = "the-stored-passphrase"
	cfg := awsConfig(t, fake.start())

	k, err := ResolveKey(t.Context(), cfg)
	require.Error(t, err)
	require.Zero(t, k)
	msg := err.Error()
	require.Contains(t, msg, "key from AWS Secrets Manager secret FlowiseEncryptionKey (us-east-1): access denied: ")
	require.Contains(t, msg, "is not authorized to perform: secretsmanager:GetSecretValue", "AWS's explanation is kept")
	require.NotContains(t, msg, "the-stored-passphrase")
	require.NotContains(t, msg, testSecretKey)
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "AccessDeniedException", apiErr.ErrorCode())
	require.NoDirExists(t, cfg.Path, "no fallback to the key file")
	require.Equal(t, []string{"GetSecretValue FlowiseEncryptionKey"}, fake.recorded(), "access denied is not retried")
}

func TestResolveKeyAWSAccessDeniedOnCreate(t *testing.T) {
	isolateAWSEnv(t)
	var mu sync.Mutex
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		mu.Lock()
		calls = append(calls, op)
		mu.Unlock()
		if op == "secretsmanager.GetSecretValue" {
			writeAWSError(w, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
			return
		}
		writeAWSError(w, "AccessDeniedException", "not authorized to perform: secretsmanager:CreateSecret")
	}))
	t.Cleanup(srv.Close)

	_, err := ResolveKey(t.Context(), awsConfig(t, srv.URL))
	require.ErrorContains(t, err, "key from AWS Secrets Manager secret FlowiseEncryptionKey (us-east-1): creating the missing secret: access denied: ")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"secretsmanager.GetSecretValue", "secretsmanager.CreateSecret"}, calls)
}

func TestResolveKeyOverwriteWinsOverAWS(t *testing.T) {
	isolateAWSEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("Secrets Manager called although the overwrite is set: %s", r.Header.Get("X-Amz-Target"))
		writeAWSError(w, "AccessDeniedException", "")
	}))
	t.Cleanup(srv.Close)
	cfg := awsConfig(t, srv.URL)
	cfg.Overwrite = "from-env"

	k, err := ResolveKey(t.Context(), cfg)
	require.NoError(t, err)
	require.Equal(t, "from-env", k.secret())
	require.Equal(t, OverwriteSource, k.Source)
}

func TestResolveKeyLocalStorageIgnoresAWS(t *testing.T) {
	isolateAWSEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("Secrets Manager called with storage type local: %s", r.Header.Get("X-Amz-Target"))
	}))
	t.Cleanup(srv.Close)
	for _, storageType := range []string{"", StorageTypeLocal} {
		cfg := awsConfig(t, srv.URL)
		cfg.StorageType = storageType

		k, err := ResolveKey(t.Context(), cfg)
		require.NoError(t, err)
		require.Equal(t, "file "+filepath.Join(cfg.Path, KeyFileName), k.Source)
	}
}

func TestResolveKeyRejectsUnknownStorageType(t *testing.T) {
	cfg := KeySourceConfig{Path: filepath.Join(t.TempDir(), "absent"), StorageType: "vault"}
	_, err := ResolveKey(t.Context(), cfg)
	require.ErrorContains(t, err, `unknown key storage type "vault"`)
	require.NoDirExists(t, cfg.Path)
}

// Processes starting together against a missing secret all try to create
// it; one wins and the others must adopt its value.
func TestResolveKeyAWSConcurrentCreate(t *testing.T) {
	isolateAWSEnv(t)
	const workers = 8
	fake := newFakeSecretsManager(t)
	fake.createBarrier = workers // every worker has seen the secret missing before any create runs
	cfg := awsConfig(t, fake.start())

	keys := make([]Key, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() { keys[i], errs[i] = ResolveKey(t.Context(), cfg) })
	}
	wg.Wait()

	winner, ok := fake.stored(DefaultAWSSecretName)
	require.True(t, ok)
	for i := range workers {
		require.NoError(t, errs[i], "worker %d", i)
		require.Equal(t, winner, keys[i].secret(), "worker %d resolved a different key", i)
	}
	require.Equal(t, 1, fake.createdCount())
	calls := fake.recorded()
	count := func(call string) (n int) {
		for _, c := range calls {
			if c == call {
				n++
			}
		}
		return n
	}
	require.Equal(t, workers, count("CreateSecret FlowiseEncryptionKey"), "every worker raced to create")
	// Each worker read once before creating; each of the losers read again.
	require.Equal(t, workers+workers-1, count("GetSecretValue FlowiseEncryptionKey"))
}

func TestResolveKeyAWSHangingEndpointTimesOut(t *testing.T) {
	isolateAWSEnv(t)
	setAWSCallTimeout(t, 200*time.Millisecond)
	fake := newFakeSecretsManager(t)
	fake.hang = true
	cfg := awsConfig(t, fake.start())

	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := ResolveKey(t.Context(), cfg)
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("ResolveKey did not return although the endpoint never answers")
	}
	elapsed := time.Since(start)

	require.ErrorContains(t, err, "key from AWS Secrets Manager secret FlowiseEncryptionKey (us-east-1): no answer within 200ms")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, elapsed, 5*time.Second, "the call deadline, not the SDK's retries, bounds the wait")
	require.NoDirExists(t, cfg.Path)
}

func TestResolveKeyAWSHonoursCallerContext(t *testing.T) {
	isolateAWSEnv(t)
	fake := newFakeSecretsManager(t)
	fake.hang = true
	cfg := awsConfig(t, fake.start())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_, err := ResolveKey(ctx, cfg)
	require.ErrorIs(t, err, context.Canceled)
	require.NotContains(t, err.Error(), "no answer within", "the caller cancelled; our deadline did not fire")
}

func TestResolveKeyAWSRejectsBlankSecret(t *testing.T) {
	isolateAWSEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A binary secret: SecretBinary only, no SecretString.
		writeAWSJSON(w, map[string]any{"Name": "FlowiseEncryptionKey", "SecretBinary": base64.StdEncoding.EncodeToString([]byte("bin"))})
	}))
	t.Cleanup(srv.Close)
	cfg := awsConfig(t, srv.URL)

	_, err := ResolveKey(t.Context(), cfg)
	require.ErrorContains(t, err, "key from AWS Secrets Manager secret FlowiseEncryptionKey (us-east-1): the secret has no SecretString")
	require.NoDirExists(t, cfg.Path, "no silent fallback to a different key")
}

// Without static credentials (or with only one half of them, as in Flowise)
// the SDK's default chain applies; here it finds them in the environment.
func TestResolveKeyAWSDefaultCredentialChain(t *testing.T) {
	for name, accessKey := range map[string]string{"none": "", "access key only": "AKIDIGNORED"} {
		t.Run(name, func(t *testing.T) {
			isolateAWSEnv(t)
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENVIRONMENT")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
			fake := newFakeSecretsManager(t)
			fake.wantCredential = "AKIDFROMENVIRONMENT/"
			fake.secrets[DefaultAWSSecretName] = "k"
			cfg := awsConfig(t, fake.start())
			cfg.AWS.AccessKey, cfg.AWS.SecretKey = accessKey, ""

			k, err := ResolveKey(t.Context(), cfg)
			require.NoError(t, err)
			require.Equal(t, "k", k.secret())
		})
	}
}

func TestAWSKeyConfigNeverRevealsSecretKey(t *testing.T) {
	c := AWSKeyConfig{Name: "n", Region: "r", AccessKey: testAccessKey, SecretKey: testSecretKey, Endpoint: "http://e"}
	printed := []string{
		fmt.Sprintf("%v %+v %#v %s %q %x %d", c, c, c, c, c, c, c),
		fmt.Sprintf("%v %+v %#v", &c, &c, &c),
		fmt.Sprintf("%+v %#v", struct{ AWS AWSKeyConfig }{c}, struct{ AWS AWSKeyConfig }{c}),
		fmt.Sprint(KeySourceConfig{AWS: c}),
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("cfg", "aws", c)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("cfg", "aws", c)
	printed = append(printed, logs.String())
	for _, out := range printed {
		require.NotContains(t, out, testSecretKey)
	}
	require.Equal(t, "{Name:n Region:r AccessKey:AKIDFLOWGATETEST SecretKey:[redacted] Endpoint:http://e}", c.String())
	require.Contains(t, fmt.Sprintf("%#v", c), `SecretKey:"[redacted]"`)
}

// setAWSCallTimeout shortens the per-call deadline for one test.
func setAWSCallTimeout(t *testing.T, d time.Duration) {
	old := awsCallTimeout
	awsCallTimeout = d
	t.Cleanup(func() { awsCallTimeout = old })
}
