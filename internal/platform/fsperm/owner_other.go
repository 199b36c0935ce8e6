//go:build !unix

package fsperm

import "io/fs"

// ownedByUs is false where file modes do not carry Unix owners: Tighten leaves files alone.
func ownedByUs(fs.FileInfo) bool { return false }
