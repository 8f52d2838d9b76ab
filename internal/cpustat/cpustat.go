// Package cpustat reads what the benchmarks report besides wall time: the
// CPU time of this process and of the whole machine (the database server
// and other processes included), and this process's write and read calls.
// Other load on the machine blurs these far less than it blurs wall time.
// On systems without /proc the machine figures are zero.
package cpustat

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process returns the CPU time (user and system) this process has used.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Machine returns the CPU time every core of the machine has spent busy
// (everything but idle and I/O wait), from /proc/stat.
func Machine() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already counted in user time
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc/stat: 100 on every Linux port
// Go supports.
const clockTicks = 100

// IO returns the bytes this process passed to write calls, the number of
// those calls and of read calls (from /proc/self/io).
func IO() (wchar, syscw, syscr int64) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, 0, 0
	}
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "wchar":
			wchar = n
		case "syscw":
			syscw = n
		case "syscr":
			syscr = n
		}
	}
	return wchar, syscw, syscr
}
