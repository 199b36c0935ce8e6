// Package s3test runs a real S3-compatible server (Versity S3 Gateway, posix backend on a
// temp dir) on loopback for tests. The gateway is built once from the Go module proxy into
// the user cache dir and reused by every test package and run afterwards.
//
// Set FLOWGATE_VERSITYGW to a prebuilt versitygw binary to skip the build.
package s3test
