// SPDX-License-Identifier: MIT
//
// A Go workload of known shape for profiler tests (see samples/shape.c for
// the C one).  main starts a goroutine that runs rounds until the process
// has used SECONDS of CPU time (default 3); each round calls goSixty,
// goThirty and goTen, which hand 6, 3 and 1 units of work to spin, a tiny
// leaf that needs no stack frame.  So by construction goSixty's stacks are
// 60 % of the work, goThirty's 30 % and goTen's 10 %, and every one of them is
//
//	runtime.goexit;main.main.func1;main.goWork;main.goXXX;main.spin
//
// Unit lengths are jittered (as in shape.c) so rounds do not line up with
// a sampler's period.  Nothing is inlined (go:noinline), so each function
// keeps its frame.
//
//	goshape [SECONDS]
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

const unitIters = 200000

var sink uint64
var jitter uint64 = 0x9e3779b97f4a7c15

//go:noinline
func unitLen() uint64 {
	jitter ^= jitter << 13
	jitter ^= jitter >> 7
	jitter ^= jitter << 17
	return unitIters/2 + jitter%unitIters
}

// spin is the leaf: n iterations of a linear congruential step, no calls,
// no frame.
//
//go:noinline
func spin(x, n uint64) uint64 {
	for i := uint64(0); i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// mix is inlined into work (a profiler reading Go's inline tree shows it
// as work's callee); it runs once per call, so its share is nil.
func mix(x uint64) uint64 {
	return x ^ x>>29
}

//go:noinline
func work(units int) {
	x := sink
	for u := 0; u < units; u++ {
		x = spin(x, unitLen())
	}
	sink = mix(x)
}

//go:noinline
func goSixty() { work(6) }

//go:noinline
func goThirty() { work(3) }

//go:noinline
func goTen() { work(1) }

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

//go:noinline
func goWork(seconds float64) {
	for cpuSeconds() < seconds {
		goSixty()
		goThirty()
		goTen()
	}
}

func main() {
	seconds := 3.0
	if len(os.Args) > 1 {
		s, err := strconv.ParseFloat(os.Args[1], 64)
		if err != nil || s < 0 {
			fmt.Fprintf(os.Stderr, "goshape: bad SECONDS %q\n", os.Args[1])
			os.Exit(2)
		}
		seconds = s
	}
	done := make(chan struct{})
	go func() {
		goWork(seconds)
		close(done)
	}()
	<-done
}
