package jsrun

import "github.com/dop251/goja"

// installHostAPI adds the few Node-like globals Flowise code relies on:
// console, timers, fetch (only when the caller provides one) and a require
// that knows node-fetch and refuses everything else with a clear error.
func (s *runState) installHostAPI() {
	s.installConsole()
	s.installTimers()
	var fetch *goja.Object
	if s.env.Fetch != nil {
		fetch = s.newFunc("fetch", 1, s.fetch)
		_ = fetch.Set("default", fetch) // require('node-fetch').default
		_ = s.vm.Set("fetch", fetch)
	}
	_ = s.vm.Set("require", s.newFunc("require", 1, func(call goja.FunctionCall) goja.Value {
		name := call.Argument(0).String()
		if name == "node-fetch" {
			if fetch != nil {
				return fetch
			}
			s.throwForbidden("require('node-fetch'): network access is not available to this script")
		}
		s.throwForbidden("require(%q): modules are not available in the sandbox", name)
		return nil
	}))
}
