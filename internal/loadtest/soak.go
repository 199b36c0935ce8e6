package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// SoakOptions configures RunSoak.
type SoakOptions struct {
	Deploy      DeployOptions
	Total       int           // predictions in all (default 20,000)
	Step        int           // predictions between memory readings (default 1,000)
	Concurrency int           // default 50
	Timeout     time.Duration // per request
	// MaxRSSMB and FlatMB are the target: resident memory at the end below MaxRSSMB (default
	// 300), and growing by less than FlatMB (default 10) over the second half, by the
	// least-squares line through its readings (one reading cannot pass for a trend).
	MaxRSSMB float64
	FlatMB   float64
	Out      io.Writer // a line per step
}

// SoakPoint is a memory reading after a number of predictions.
type SoakPoint struct {
	Predictions int     `json:"predictions"`
	RSSMB       float64 `json:"rss_mb"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
	Errors      int     `json:"errors"`
	ReqPerS     float64 `json:"req_per_s"`
	// AnonMB is the part of RSSMB no file backs: what the load can move (see
	// ProcStats.AnonBytes).
	AnonMB float64 `json:"rss_anon_mb"`
}

// SoakResult is the memory curve and the verdict on it.
type SoakResult struct {
	Points []SoakPoint `json:"points"`
	// SlopeMBPer1k is the growth of RSS per 1,000 predictions over the second half, and
	// SecondHalfGrowthMB that slope over the whole second half.
	SlopeMBPer1k       float64 `json:"slope_mb_per_1000"`
	SecondHalfGrowthMB float64 `json:"second_half_growth_mb"`
	FinalRSSMB         float64 `json:"final_rss_mb"`
	FinalAnonMB        float64 `json:"final_rss_anon_mb"`
	PeakRSSMB          float64 `json:"peak_rss_mb"`
	Errors             int     `json:"errors"`
	Pass               bool    `json:"pass"`
	Verdict            string  `json:"verdict"`
}

func (o *SoakOptions) defaults() error {
	if o.Total == 0 {
		o.Total = 20000
	}
	if o.Step == 0 {
		o.Step = 1000
	}
	if o.Concurrency == 0 {
		o.Concurrency = 50
	}
	if o.MaxRSSMB == 0 {
		o.MaxRSSMB = 300
	}
	if o.FlatMB == 0 {
		o.FlatMB = 10
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Total < 2*o.Step || o.Step < 1 || o.Concurrency < 1 {
		return fmt.Errorf("a soak needs at least two steps of at least one prediction (total %d, step %d) and a concurrency of at least 1", o.Total, o.Step)
	}
	return nil
}

// RunSoak starts one-process Flowgate and sends Total predictions (mock at 0 ms) in steps of
// Step, reading the server's resident memory after each.
func RunSoak(ctx context.Context, o SoakOptions) (res *SoakResult, err error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	st, err := StartStack(ctx, OneProcess, nil, o.Deploy)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	start, err := ReadProcStats(st.PIDs)
	if err != nil {
		return nil, err
	}
	res = &SoakResult{Points: []SoakPoint{{RSSMB: mb(start.RSSBytes), PeakRSSMB: mb(start.RSSBytes), AnonMB: mb(start.AnonBytes)}}}
	fmt.Fprintf(o.Out, "%6d predictions  RSS %6.1f MB (before load)  anonymous %6.1f MB\n", 0,
		mb(start.RSSBytes), mb(start.AnonBytes))
	for done := 0; done < o.Total; {
		n := min(o.Step, o.Total-done)
		rep, err := Run(ctx, Options{Target: st.Target, FlowID: st.FlowID, Concurrency: o.Concurrency, Count: n,
			Timeout: o.Timeout, PIDs: st.PIDs})
		if err != nil {
			return res, err
		}
		done += n
		if rep.Resources.Error != "" {
			return res, fmt.Errorf("read the server's memory: %s", rep.Resources.Error)
		}
		p := SoakPoint{Predictions: done, RSSMB: rep.Resources.RSSEndMB, PeakRSSMB: rep.Resources.RSSPeakMB,
			Errors: rep.ErrorCount(), ReqPerS: rep.Throughput, AnonMB: rep.Resources.AnonEndMB}
		res.Points = append(res.Points, p)
		fmt.Fprintf(o.Out, "%6d predictions  RSS %6.1f MB (peak %6.1f)  anonymous %6.1f MB  %6.1f req/s  %d errors\n",
			p.Predictions, p.RSSMB, p.PeakRSSMB, p.AnonMB, p.ReqPerS, p.Errors)
	}
	res.judge(o)
	return res, nil
}

// judge fits a line through the second half's readings and compares it with the target.
func (r *SoakResult) judge(o SoakOptions) {
	var xs, ys []float64
	for _, p := range r.Points {
		r.PeakRSSMB = max(r.PeakRSSMB, p.PeakRSSMB)
		r.Errors += p.Errors
		if p.Predictions >= o.Total/2 {
			xs, ys = append(xs, float64(p.Predictions)), append(ys, p.RSSMB)
		}
	}
	last := r.Points[len(r.Points)-1]
	r.FinalRSSMB, r.FinalAnonMB = last.RSSMB, last.AnonMB
	r.SlopeMBPer1k = slope(xs, ys) * 1000
	r.SecondHalfGrowthMB = r.SlopeMBPer1k * float64(o.Total-o.Total/2) / 1000
	r.Pass = r.FinalRSSMB < o.MaxRSSMB && r.SecondHalfGrowthMB < o.FlatMB && r.Errors == 0
	r.Verdict = fmt.Sprintf("RSS %.1f MB (%.1f MB anonymous) after %d predictions (target < %g MB), %+.2f MB per 1,000 "+
		"over the last %d (%+.1f MB in all, target < %g MB), %d errors: ",
		r.FinalRSSMB, r.FinalAnonMB, last.Predictions, o.MaxRSSMB, r.SlopeMBPer1k, o.Total-o.Total/2,
		r.SecondHalfGrowthMB, o.FlatMB, r.Errors)
	if r.Pass {
		r.Verdict += "PASS"
	} else {
		r.Verdict += "FAIL"
	}
}

// slope is the least-squares slope of ys over xs (0 with fewer than two distinct xs).
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if n < 2 {
		return 0
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx, my = mx/n, my/n
	var num, den float64
	for i := range xs {
		num += (xs[i] - mx) * (ys[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	if den == 0 {
		return 0
	}
	return num / den
}
