// Package storage keeps uploads, attachments and other large values outside the database,
// either on local disk or in an S3-compatible bucket, mirroring Flowise's STORAGE_TYPE setting.
//
// Objects are addressed by slash-separated keys, normally "<chatflowId>/<chatId>/<fileName>"
// built with Key. Every Store method validates the key it is given, so a crafted key cannot
// escape its prefix even when a caller skips Key.
package storage
