package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowgate/flowgate/internal/storage"
)

const (
	readyTimeout  = 15 * time.Second
	startAttempts = 3 // a picked port can be taken before the gateway binds it
	bucketTimeout = 10 * time.Second
)

// Server is a running versitygw process. The exported fields are all a client (or a
// subprocess given Env) needs to reach it.
type Server struct {
	Endpoint  string // e.g. http://127.0.0.1:41234
	Region    string
	AccessKey string
	SecretKey string
	DataDir   string // posix backend root: one directory per bucket

	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	output *syncBuffer
	stop   sync.Once
}

// Start runs a fresh gateway on a free loopback port with its own data dir and credentials,
// waits until it answers HTTP, and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatalf("s3test: cannot build the S3 test server (versitygw %s): %v", Version, err)
	}
	base := t.TempDir()
	var lastErr error
	for range startAttempts {
		s, err := launch(bin, base)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		lastErr = err
	}
	t.Fatalf("s3test: start versitygw: %v", lastErr)
	return nil
}

func launch(bin, base string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	run, err := os.MkdirTemp(base, "vgw-")
	if err != nil {
		return nil, err
	}
	data, meta := filepath.Join(run, "data"), filepath.Join(run, "meta")
	for _, d := range []string{data, meta} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, err
		}
	}
	s := &Server{
		Endpoint:  "http://" + net.JoinHostPort("127.0.0.1", port),
		Region:    storage.DefaultRegion,
		AccessKey: "fgtest" + strings.ToLower(rand.Text()[:14]),
		SecretKey: rand.Text(),
		DataDir:   data,
		exited:    make(chan struct{}),
		output:    &syncBuffer{},
	}
	s.cmd = exec.Command(bin,
		"--port", net.JoinHostPort("127.0.0.1", port),
		"--region", s.Region,
		"--quiet",
		"posix",
		// Metadata in a sidecar dir rather than xattrs, which some CI file systems lack.
		"--sidecar", meta,
		data)
	// Credentials via env, not argv, so they don't show in process listings. A minimal env
	// keeps stray VGW_* settings of the developer's shell from changing the server.
	s.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + run,
		"ROOT_ACCESS_KEY_ID=" + s.AccessKey,
		"ROOT_SECRET_ACCESS_KEY=" + s.SecretKey,
	}
	s.cmd.Stdout, s.cmd.Stderr = s.output, s.output
	killWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w; server output:\n%s", err, tail(s.output.Bytes(), 4000))
	}
	return s, nil
}

// waitReady polls until the gateway answers any HTTP response (an anonymous request gets
// 403, which proves it is serving), the process exits, or readyTimeout passes.
func (s *Server) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(s.Endpoint + "/")
		if err == nil {
			_ = resp.Body.Close()
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("versitygw exited before serving on %s (%v)", s.Endpoint, s.cmd.ProcessState)
		case <-deadline.C:
			return fmt.Errorf("versitygw not answering on %s after %s: %w", s.Endpoint, readyTimeout, err)
		case <-tick.C:
		}
	}
}

// Stop kills the server and waits for it to exit. Later requests fail fast with connection
// refused. Safe to call more than once.
func (s *Server) Stop() {
	s.stop.Do(func() {
		if s.cmd.Process != nil {
			_ = s.cmd.Process.Kill()
		}
		<-s.exited
	})
}

// CreateBucket creates a bucket, failing the test on error.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bucketTimeout)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("s3test: create bucket %q: %v", name, err)
	}
}

// Client returns a raw S3 client for the server, for assertions beneath the storage package.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// Config returns storage settings for bucket on this server, ready for storage.Open.
func (s *Server) Config(bucket string) storage.Config {
	return storage.Config{
		Type:            storage.TypeS3,
		Bucket:          bucket,
		Region:          s.Region,
		AccessKeyID:     s.AccessKey,
		SecretAccessKey: s.SecretKey,
		Endpoint:        s.Endpoint,
		ForcePathStyle:  true,
	}
}

// Env returns the Flowise environment variables selecting bucket on this server, for tests
// that start the flowgate binary as a subprocess.
func (s *Server) Env(bucket string) []string {
	return []string{
		"STORAGE_TYPE=s3",
		"S3_STORAGE_BUCKET_NAME=" + bucket,
		"S3_STORAGE_REGION=" + s.Region,
		"S3_STORAGE_ACCESS_KEY_ID=" + s.AccessKey,
		"S3_STORAGE_SECRET_ACCESS_KEY=" + s.SecretKey,
		"S3_ENDPOINT_URL=" + s.Endpoint,
		"S3_FORCE_PATH_STYLE=true",
	}
}

// freePort asks the kernel for an unused loopback port. The listener is closed before the
// gateway binds, so Start retries if someone else grabs it first.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	if err != nil {
		return "", fmt.Errorf("find free port: %w", err)
	}
	return port, nil
}

// syncBuffer collects process output written from the exec package's copy goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
