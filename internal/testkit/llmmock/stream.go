package llmmock

import (
	"encoding/json"
	"errors"
	"net/http"
)

// streamWriter writes and flushes one event at a time. Its first error sticks
// and turns later writes into no-ops, so dialects can write a whole sequence
// without checking each step; a failed write only means the client left.
type streamWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	err error
	// pause, when set, is waited out between two events; false: the client left.
	pause func() bool
	begun bool
}

// gap waits out the pause before every event but the first.
func (sw *streamWriter) gap() {
	if sw.begun && sw.pause != nil && sw.err == nil && !sw.pause() {
		sw.err = errClientGone
	}
	sw.begun = true
}

// errClientGone stops a stream whose client left during a pause.
var errClientGone = errors.New("llmmock: the client left")

// startStream commits the response headers immediately, as real providers do,
// so clients see the stream open before the first token arrives.
func startStream(w http.ResponseWriter, contentType string) *streamWriter {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	sw := &streamWriter{w: w, rc: http.NewResponseController(w)}
	sw.flush()
	return sw
}

// event writes one server-sent event; an empty name omits the event line.
func (sw *streamWriter) event(name string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		sw.err = err
		return
	}
	sw.data(name, data)
}

// data writes one server-sent event with a raw payload such as [DONE].
func (sw *streamWriter) data(name string, payload []byte) {
	sw.gap()
	if name != "" {
		sw.write([]byte("event: " + name + "\n"))
	}
	sw.write([]byte("data: "))
	sw.write(payload)
	sw.write([]byte("\n\n"))
	sw.flush()
}

// line writes v as one newline-delimited JSON record.
func (sw *streamWriter) line(v any) {
	sw.gap()
	data, err := json.Marshal(v)
	if err != nil {
		sw.err = err
		return
	}
	sw.write(append(data, '\n'))
	sw.flush()
}

func (sw *streamWriter) write(b []byte) {
	if sw.err == nil {
		_, sw.err = sw.w.Write(b)
	}
}

func (sw *streamWriter) flush() {
	if sw.err == nil {
		sw.err = sw.rc.Flush()
	}
}
