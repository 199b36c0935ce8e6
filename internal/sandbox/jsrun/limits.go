package jsrun

import "time"

// Defaults applied to zero (or negative) Limits fields.
const (
	DefaultTimeout   = 10 * time.Second
	DefaultMaxMemory = 64 << 20
	DefaultMaxOutput = 4 << 20
)

// Limits bound one Run.
type Limits struct {
	Timeout   time.Duration // wall clock for the whole run, awaits included
	MaxMemory int64         // approximate heap growth allowed, in bytes
	MaxOutput int           // bytes of the result (string, or JSON for objects)
}

func (l Limits) withDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxMemory <= 0 {
		l.MaxMemory = DefaultMaxMemory
	}
	if l.MaxOutput <= 0 {
		l.MaxOutput = DefaultMaxOutput
	}
	return l
}

// caps are the per-call bounds the built-in guards enforce. goja built-ins
// run as uninterruptible Go loops, so anything they would allocate or walk
// in one call must be bounded before the call starts; these numbers derive
// from MaxMemory so that no single call can allocate much more than it.
type caps struct {
	strLen int64 // UTF-16 units of one string produced by a built-in (2 bytes each worst case)
	elems  int64 // length of an array(-like) a built-in may walk or produce (≥16 bytes per element)
	bytes  int64 // one ArrayBuffer / typed array allocation
	depth  int   // nesting for JSON.parse/stringify and recursive join
}

const (
	maxNesting   = 2000  // deeper JSON is pathological; Go recursion in goja must stay shallow
	maxCallStack = 10000 // JavaScript frames, about what V8 allows
)

func (l Limits) caps() caps {
	return caps{
		strLen: max(l.MaxMemory/4, 1024),
		elems:  max(l.MaxMemory/64, 1024),
		bytes:  max(l.MaxMemory/2, 1024),
		depth:  maxNesting,
	}
}
