package logs

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// stampLayout names segments by UTC start time. It sorts lexicographically
// in time order and has no ':' so names are valid on every filesystem.
const stampLayout = "20060102T150405.000Z"

const (
	segPrefix = "server-"
	segSuffix = ".log"
)

// segment is one rotated log file.
type segment struct {
	path  string
	start time.Time // unique per Sink; encoded in the file and object name
	size  int64
}

func (s *segment) stamp() string { return s.start.Format(stampLayout) }

// segmentFileName is the local name, server-<UTC start>.log.
func segmentFileName(start time.Time) string {
	return segPrefix + start.UTC().Format(stampLayout) + segSuffix
}

// objectKey is <prefix><yyyy>/<mm>/<dd>/server-<instance>-<UTC start>.log.
// The date directories keep listings of a long-running bucket cheap.
func objectKey(prefix, instance string, start time.Time) string {
	start = start.UTC()
	return prefix + start.Format("2006/01/02/") + segPrefix + instance + "-" + start.Format(stampLayout) + segSuffix
}

// parseSegmentName returns the start time encoded in a local segment name;
// ok is false for files that are not ours, which pruning must leave alone.
func parseSegmentName(name string) (time.Time, bool) {
	stamp, ok := strings.CutPrefix(name, segPrefix)
	if !ok {
		return time.Time{}, false
	}
	stamp, ok = strings.CutSuffix(stamp, segSuffix)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(stampLayout, stamp)
	return t, err == nil
}

// listSegments returns the segment files in dir, oldest first.
func listSegments(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type named struct {
		path  string
		start time.Time
	}
	var segs []named
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if t, ok := parseSegmentName(e.Name()); ok {
			segs = append(segs, named{filepath.Join(dir, e.Name()), t})
		}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].start.Before(segs[j].start) })
	paths := make([]string, len(segs))
	for i, s := range segs {
		paths[i] = s.path
	}
	return paths, nil
}
