package jsrun

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/dop251/goja"
)

// fetch is a minimal WHATWG fetch over Env.Fetch: fetch(url, {method,
// headers, body}) resolves to {status, ok, statusText, url, headers, text(),
// json()}. The request runs on its own goroutine; only the completion comes
// back to the VM goroutine.
func (s *runState) fetch(call goja.FunctionCall) goja.Value {
	s.checkpoint() // no new requests once the run is stopping
	url := call.Argument(0)
	if obj, ok := url.(*goja.Object); ok && !isNullish(obj.Get("url")) {
		url = obj.Get("url") // Request-like object
	}
	target := url.String()
	method, headers, body := "GET", map[string]string{}, ""
	if init, ok := call.Argument(1).(*goja.Object); ok {
		if m := init.Get("method"); !isNullish(m) {
			method = strings.ToUpper(m.String())
		}
		headers = s.fetchHeaders(init.Get("headers"))
		if b := init.Get("body"); !isNullish(b) {
			body = b.String()
		}
	}

	promise, resolve, reject := s.vm.NewPromise()
	s.pending++
	s.inflight.Add(1)
	go func() {
		defer s.inflight.Done()
		status, respHeaders, respBody, err := s.env.Fetch(s.ctx, method, target, headers, body)
		if err != nil && s.ctx.Err() != nil {
			// The run's deadline (or its caller) ended the request: that is
			// the run's outcome, not a fetch failure the script could catch.
			// Stopping here, before posting, means the loop cannot see the
			// rejection first.
			s.stop(contextError(s.ctx, s.lim.Timeout))
			return
		}
		s.post(func() error {
			s.pending--
			if err != nil {
				return reject(s.hostError(fmt.Errorf("fetch %s: %w", method, err)))
			}
			if int64(len(respBody)) > s.caps.strLen {
				return reject(s.newError(s.intrinsics.rangeError,
					fmt.Sprintf("fetch: response body of %d bytes exceeds the sandbox limit of %d", len(respBody), s.caps.strLen)))
			}
			return resolve(s.newResponse(target, status, respHeaders, respBody))
		})
	}()
	return s.vm.ToValue(promise)
}

// hostError wraps a Go error in a JavaScript Error the script can catch;
// if it escapes, Run returns the Go error itself (errors.Is keeps working,
// e.g. for netguard.ErrForbidden).
func (s *runState) hostError(err error) *goja.Object {
	obj := s.newError(s.intrinsics.errorCtor, err.Error())
	s.hostErrs[obj] = fmt.Errorf("jsrun: %w", err)
	return obj
}

func (s *runState) fetchHeaders(v goja.Value) map[string]string {
	out := map[string]string{}
	obj, ok := v.(*goja.Object)
	if !ok {
		return out
	}
	if s.isArray(obj) { // [[name, value], ...]
		n := arrayLikeLength(obj)
		s.checkElems(n, "fetch headers")
		for i := 0; i < int(n); i++ {
			if pair, ok := obj.Get(itoa(i)).(*goja.Object); ok {
				out[pair.Get("0").String()] = pair.Get("1").String()
			}
		}
		return out
	}
	for _, k := range obj.Keys() {
		out[k] = obj.Get(k).String()
	}
	return out
}

func (s *runState) newResponse(url string, status int, headers map[string]string, body string) *goja.Object {
	r := s.vm.NewObject()
	_ = r.Set("status", status)
	_ = r.Set("ok", status >= 200 && status < 300)
	_ = r.Set("statusText", http.StatusText(status))
	_ = r.Set("url", url)
	_ = r.Set("redirected", false)
	_ = r.Set("headers", s.newHeaders(headers))
	bodyVal := s.vm.ToValue(body)
	_ = r.Set("text", s.newFunc("text", 0, func(goja.FunctionCall) goja.Value {
		return s.settledPromise(bodyVal, nil)
	}))
	_ = r.Set("json", s.newFunc("json", 0, func(goja.FunctionCall) goja.Value {
		var parsed goja.Value
		jsErr := s.vm.Try(func() {
			s.checkJSONNesting(jsString(bodyVal))
			parsed = callThrough(s.intrinsics.parse, goja.Undefined(), bodyVal)
		})
		if jsErr != nil {
			return s.settledPromise(nil, jsErr.Value())
		}
		return s.settledPromise(parsed, nil)
	}))
	return r
}

// newHeaders is a read-only, case-insensitive view like Headers.
func (s *runState) newHeaders(headers map[string]string) *goja.Object {
	lower := make(map[string]string, len(headers))
	for k, v := range headers {
		lower[strings.ToLower(k)] = v
	}
	h := s.vm.NewObject()
	_ = h.Set("get", s.newFunc("get", 1, func(call goja.FunctionCall) goja.Value {
		if v, ok := lower[strings.ToLower(call.Argument(0).String())]; ok {
			return s.vm.ToValue(v)
		}
		return goja.Null()
	}))
	_ = h.Set("has", s.newFunc("has", 1, func(call goja.FunctionCall) goja.Value {
		_, ok := lower[strings.ToLower(call.Argument(0).String())]
		return s.vm.ToValue(ok)
	}))
	_ = h.Set("forEach", s.newFunc("forEach", 1, func(call goja.FunctionCall) goja.Value {
		fn, ok := goja.AssertFunction(call.Argument(0))
		if !ok {
			panic(s.vm.NewTypeError("Headers.forEach callback must be a function"))
		}
		for k, v := range lower {
			callThrough(fn, goja.Undefined(), s.vm.ToValue(v), s.vm.ToValue(k))
		}
		return goja.Undefined()
	}))
	return h
}

// settledPromise returns a promise already fulfilled with v, or rejected
// with reason when it is non-nil.
func (s *runState) settledPromise(v, reason goja.Value) goja.Value {
	p, resolve, reject := s.vm.NewPromise()
	var err error
	if reason != nil {
		err = reject(reason)
	} else {
		err = resolve(v)
	}
	if err != nil {
		panic(err)
	}
	return s.vm.ToValue(p)
}
