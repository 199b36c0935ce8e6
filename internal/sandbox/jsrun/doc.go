// Package jsrun runs user JavaScript (Flowise custom functions and custom
// tools) in a goja sandbox, one fresh runtime per Run.
//
// # What the script sees
//
// The code is the body of an async function, as in Flowise, so it may
// await and return. It sees $vars, $flow and one $<name> global per input,
// all copied in through JSON; console; setTimeout/setInterval; fetch and
// require('node-fetch') only when Env.Fetch is set; nothing else of the
// host: no require of other modules, no process, no file system, and eval,
// Function and the other function constructors throw EvalError (Flowise's
// vm2 sandbox also runs with eval disabled). goja's parser is told not to
// load source maps, which it would otherwise read from disk.
//
// # Time
//
// A deadline (Limits.Timeout or ctx) interrupts the VM between instructions.
// goja built-ins are plain Go loops that interrupts do not reach, so guarded
// built-ins and iterator next() methods also check a stop flag; if the VM
// still has not unwound stopGrace after a stop, Run returns anyway and the
// goroutine is abandoned with its host callbacks disabled. regexp2 (goja's
// backtracking regexp engine) gets a process-wide match timeout. A script
// awaiting a promise that nothing pending can settle fails at once with
// ErrTimeout instead of idling until the deadline.
//
// # Memory: approach and limits
//
// goja has no heap limit; two mechanisms approximate one.
//
//  1. Guards, before the allocation: built-ins whose cost is set by an
//     argument or a length property rather than by data already in memory
//     are checked against caps derived from MaxMemory: Array.prototype
//     methods on huge (sparse or array-like) lengths, Array.from, concat,
//     join, flat/flatMap (reimplemented with element budgets), String repeat,
//     padStart/padEnd, concat, replace/replaceAll (worst-case size computed,
//     or counted per match), split (limit capped), global match, ArrayBuffer
//     and typed array constructors, Function.prototype.apply/Reflect
//     argument lists, Object.keys & co. on huge strings, String.raw,
//     JSON.stringify (depth and output size tracked through a replacer) and
//     JSON.parse (nesting). A tripped guard stops the run
//     with ErrMemory: 'x'.repeat(2**30) and new Array(1e9).fill(0) fail before
//     allocating anything.
//  2. A watchdog for gradual growth (see memwatch.go): it samples the
//     process heap every 2 ms, confirms suspicious growth with a forced GC,
//     and stops a run whose live-heap growth passes MaxMemory (or whose raw
//     growth passes twice that while outrunning the GC). The heap is
//     process-wide, so a run overlapping another's bomb (or any goroutine
//     growing its live heap a lot) may be stopped too.
//
// Measured with MaxMemory = 64 MB on a loaded 2-CPU machine: guard-tripped
// bombs fail in about a millisecond having allocated nothing; a push loop of
// 1 MB strings stops at about 65 MB of growth within 0.2 s; small-object
// loops grow so slowly in goja that they stop at about 100 MB within 1-2 s or
// hit the deadline first.
//
// Residual risks, honestly:
//   - One JavaScript instruction is atomic to the watchdog. A doubling
//     concatenation (s += s) finishes the concatenation in flight when
//     stopped, overshooting MaxMemory several times over (heap growth of
//     7-24x MaxMemory observed);
//     object spread of a huge string ({...s}) is one instruction too.
//   - Code nested deeper than 256 levels or longer than 128 KiB is refused
//     before parsing; BigInt is not available (its arithmetic is one
//     uninterruptible instruction). Compiling runs under the deadline, but a
//     pathological source keeps compiling on an abandoned goroutine after it.
//   - Other built-ins may allocate a few times the data already in memory,
//     and deep recursion inside built-ins is bounded only by that data.
//   - It is all in-process. For hostile multi-tenant code, run the workers
//     that execute code nodes in their own process or container with an OS
//     memory limit; the guards then mostly serve to fail fast and clearly.
package jsrun
