//go:build unix

package fsperm

import (
	"io/fs"
	"os"
	"syscall"
)

// ownedByUs reports whether info's file belongs to the process's effective user.
func ownedByUs(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}
