package logs

import (
	"io"
	"log/slog"
)

// New builds the server logger: records are written to opts.Stdout and, if
// opts.Dir or opts.Uploader is set, to the returned Sink. Secret-looking
// attributes are redacted on every output (see ReplaceAttr). The Sink is
// never nil; close it at shutdown to ship the last segment.
func New(opts Options) (*slog.Logger, *Sink, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	sink, err := newSink(o)
	if err != nil {
		return nil, nil, err
	}
	var w io.Writer = o.Stdout
	if sink.enabled {
		w = &tee{console: o.Stdout, sink: sink}
	}
	ho := &slog.HandlerOptions{Level: o.Level, ReplaceAttr: ReplaceAttr}
	var h slog.Handler
	if o.Format == "text" {
		h = slog.NewTextHandler(w, ho)
	} else {
		h = slog.NewJSONHandler(w, ho)
	}
	return slog.New(deferAttrs(h)), sink, nil
}

// tee writes each record to the console and the sink. The built-in slog
// handlers serialize calls and pass one complete record per Write.
type tee struct {
	console io.Writer
	sink    *Sink
}

func (t *tee) Write(p []byte) (int, error) {
	// A broken console must not stop file/S3 logging, and vice versa.
	_, cerr := t.console.Write(p)
	_, serr := t.sink.Write(p)
	if serr != nil {
		return 0, serr
	}
	if cerr != nil {
		return 0, cerr
	}
	return len(p), nil
}
