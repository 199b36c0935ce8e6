package jsrun

import (
	"math"
	"time"

	"github.com/dop251/goja"
)

// jsTimer is a pending setTimeout/setInterval. The Go timer only posts a
// task; the callback itself always runs on the VM goroutine.
type jsTimer struct {
	fn       goja.Callable
	args     []goja.Value
	delay    time.Duration
	interval bool
	timer    *time.Timer
}

func (s *runState) installTimers() {
	set := func(interval bool) nativeFn {
		return func(call goja.FunctionCall) goja.Value {
			fn, ok := goja.AssertFunction(call.Argument(0))
			if !ok {
				if _, isStr := call.Argument(0).(goja.String); isStr {
					s.throwCodegen() // setTimeout("code") is eval in disguise
				}
				panic(s.vm.NewTypeError("timer callback must be a function"))
			}
			var args []goja.Value
			if len(call.Arguments) > 2 {
				args = append(args, call.Arguments[2:]...)
			}
			return s.vm.ToValue(s.addTimer(&jsTimer{fn: fn, args: args, delay: timerDelay(call.Argument(1)), interval: interval}))
		}
	}
	clear := func(call goja.FunctionCall) goja.Value {
		s.removeTimer(call.Argument(0).ToInteger())
		return goja.Undefined()
	}
	_ = s.vm.Set("setTimeout", s.newFunc("setTimeout", 1, set(false)))
	_ = s.vm.Set("setInterval", s.newFunc("setInterval", 1, set(true)))
	_ = s.vm.Set("clearTimeout", s.newFunc("clearTimeout", 1, clear))
	_ = s.vm.Set("clearInterval", s.newFunc("clearInterval", 1, clear))
}

func timerDelay(v goja.Value) time.Duration {
	ms := v.ToFloat()
	if math.IsNaN(ms) || ms < 0 {
		ms = 0
	}
	// Anything beyond a day is past every sensible Timeout anyway.
	return time.Duration(math.Min(ms, 24*3600*1000) * float64(time.Millisecond))
}

func (s *runState) addTimer(t *jsTimer) int64 {
	s.nextTimerID++
	id := s.nextTimerID
	s.timers[id] = t
	s.pending++
	s.armTimer(id, t)
	return id
}

func (s *runState) armTimer(id int64, t *jsTimer) {
	t.timer = time.AfterFunc(t.delay, func() {
		s.post(func() error { return s.fireTimer(id) })
	})
}

func (s *runState) removeTimer(id int64) {
	if t, ok := s.timers[id]; ok {
		t.timer.Stop()
		delete(s.timers, id)
		s.pending--
	}
}

func (s *runState) fireTimer(id int64) error {
	t, ok := s.timers[id]
	if !ok {
		return nil // cleared after it fired
	}
	if t.interval {
		s.armTimer(id, t)
	} else {
		delete(s.timers, id)
		s.pending--
	}
	_, err := t.fn(goja.Undefined(), t.args...)
	return err
}

// stopTimers runs on the VM goroutine when the script is done.
func (s *runState) stopTimers() {
	for id, t := range s.timers {
		t.timer.Stop()
		delete(s.timers, id)
	}
	s.pending = 0
}
