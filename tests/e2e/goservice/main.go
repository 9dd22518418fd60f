// A small Go service for tests/e2e/test_scrape.py (standard library only).
//
//	/work       CPU work in burnCPU, then a 40 ms sleep holding the goroutine
//	            (so goroutines rise with the requests in flight)
//	/metrics    runtime/metrics (goroutines, GC cycles, heap) and the app's
//	            own counter and histogram, in Prometheus text 0.0.4
//	/hang       answers after 10 s (a scrape endpoint that hangs)
//	/garbage    200 with text that is not Prometheus
//	/hangprof   never answers within a run (a profile endpoint that hangs)
//	/debug/pprof/...  net/http/pprof
//
// Usage: goservice 127.0.0.1:PORT (prints "ready" once it listens).
package main

import (
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var requests uint64

// Latency histogram of /work, cumulative buckets.
var (
	histMu     sync.Mutex
	histBounds = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 1}
	histCounts = make([]uint64, 7)
	histSum    float64
)

//go:noinline
func burnCPU(rounds int) byte {
	var h [32]byte
	for i := 0; i < rounds; i++ {
		h = sha256.Sum256(h[:])
	}
	return h[0]
}

func work(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	b := burnCPU(2000) // about 1 ms of CPU: enough samples in a 2 s profile
	time.Sleep(40 * time.Millisecond)
	atomic.AddUint64(&requests, 1)
	d := time.Since(t0).Seconds()
	histMu.Lock()
	i := 0
	for i < len(histBounds) && d > histBounds[i] {
		i++
	}
	histCounts[i]++
	histSum += d
	histMu.Unlock()
	fmt.Fprintf(w, "ok %d\n", b)
}

func metricsText(w http.ResponseWriter, r *http.Request) {
	samples := []metrics.Sample{
		{Name: "/sched/goroutines:goroutines"},
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/memory/classes/heap/objects:bytes"},
	}
	metrics.Read(samples)
	var b strings.Builder
	b.WriteString("# HELP go_goroutines Goroutines that currently exist.\n# TYPE go_goroutines gauge\n")
	fmt.Fprintf(&b, "go_goroutines %d\n", samples[0].Value.Uint64())
	b.WriteString("# TYPE go_gc_cycles_total counter\n")
	fmt.Fprintf(&b, "go_gc_cycles_total %d\n", samples[1].Value.Uint64())
	b.WriteString("# TYPE go_heap_objects_bytes gauge\n")
	fmt.Fprintf(&b, "go_heap_objects_bytes %d\n", samples[2].Value.Uint64())
	b.WriteString("# HELP app_requests_total Requests served by /work.\n# TYPE app_requests_total counter\n")
	fmt.Fprintf(&b, "app_requests_total{handler=\"work\",note=\"a \\\"quoted\\\" label\"} %d\n", atomic.LoadUint64(&requests))
	b.WriteString("# TYPE app_request_duration_seconds histogram\n")
	histMu.Lock()
	var cum uint64
	for i, le := range histBounds {
		cum += histCounts[i]
		fmt.Fprintf(&b, "app_request_duration_seconds_bucket{le=\"%g\"} %d\n", le, cum)
	}
	cum += histCounts[len(histBounds)]
	fmt.Fprintf(&b, "app_request_duration_seconds_bucket{le=\"+Inf\"} %d\n", cum)
	fmt.Fprintf(&b, "app_request_duration_seconds_sum %g\napp_request_duration_seconds_count %d\n", histSum, cum)
	histMu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	w.Write([]byte(b.String()))
}

func main() {
	http.HandleFunc("/work", work)
	http.HandleFunc("/metrics", metricsText)
	http.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(10 * time.Second)
		metricsText(w, r)
	})
	http.HandleFunc("/garbage", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>this is { not prometheus\n\x00\x01\x02 ???\n"))
	})
	http.HandleFunc("/hangprof", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(60 * time.Second)
	})
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("ready")
	http.Serve(ln, nil)
}
