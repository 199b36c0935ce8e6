// Package logs sets up the server's structured logging: log/slog records go
// to stdout and, like Flowise's LOG_PATH and S3 log shipping, to rotated
// segment files that are uploaded as objects under "logs/server/".
//
// Logging never waits on the network: records are appended to a local file
// (LOG_PATH, or a private spool directory when only S3 is configured) and
// closed segments are uploaded by a background goroutine with bounded
// retries and deadlines.
package logs
