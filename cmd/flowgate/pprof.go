package main

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

// servePprof serves Go's profiler on FLOWGATE_PPROF_ADDR (e.g. 127.0.0.1:6060) when it is
// set, so an operator can see where a busy process spends its time. It is off by default and
// belongs on a loopback or otherwise private address: profiles reveal internals.
func servePprof(log *slog.Logger) {
	addr := os.Getenv("FLOWGATE_PPROF_ADDR")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil {
			log.Warn("profiler stopped", "addr", addr, "error", err)
		}
	}()
	log.Info("profiler listening", "addr", "http://"+addr+"/debug/pprof/")
}
