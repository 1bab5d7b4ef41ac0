// Command mem measures the memory of the verification cache: it verifies more distinct tokens
// than the cache holds, against a database seeded by bench/seed, and reports the heap and the
// resident size after each round. The cache is bounded when the second round, with as many new
// tokens again, leaves them where the first put them.
//
//	go run ./bench/seed -sqlite DIR/tokend.db -tokens 1000000 -known 200000 -out DIR
//	go run ./bench/mem -sqlite DIR/tokend.db -pats DIR/pats -cache-size 100000
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tokend"
	"tokend/sqlite"
)

func main() {
	var (
		path      = flag.String("sqlite", "", "SQLite database seeded by bench/seed")
		patsFile  = flag.String("pats", "", "file of PATs, one a line (bench/seed writes OUT/pats)")
		cacheSize = flag.Int("cache-size", 100_000, "verification cache size, as tokend serve --cache-size")
		rounds    = flag.Int("rounds", 4, "rounds of -cache-size verifications, each of tokens not in the previous one")
		memprof   = flag.String("memprofile", "", "write a heap profile here at the end")
	)
	flag.Parse()
	if *path == "" || *patsFile == "" {
		log.Fatal("mem: -sqlite and -pats are required")
	}
	if err := run(context.Background(), *path, *patsFile, *cacheSize, *rounds, *memprof); err != nil {
		log.Fatal("mem: ", err)
	}
}

func run(ctx context.Context, path, patsFile string, cacheSize, rounds int, memprof string) error {
	pats, err := readLines(patsFile)
	if err != nil {
		return err
	}
	if len(pats) < 2*cacheSize {
		return fmt.Errorf("%s has %d tokens; want at least twice -cache-size (%d)", patsFile, len(pats), 2*cacheSize)
	}
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := tokend.NewService(st, tokend.Options{CacheSize: cacheSize})

	fmt.Printf("%-44s %10s %10s %10s\n", "", "heap MiB", "RSS MiB", "peak MiB")
	base := report("store open, cache empty")
	var heap []uint64
	windows := len(pats) / cacheSize
	for round := range rounds {
		start := time.Now()
		w := round % windows
		if err := verifyAll(ctx, svc, pats[w*cacheSize:(w+1)*cacheSize]); err != nil {
			return err
		}
		// What tokend serve does every --usage-flush-interval: token uses go to the database.
		if err := svc.FlushUsage(ctx); err != nil {
			return err
		}
		label := fmt.Sprintf("after %d distinct tokens (%v)", (round+1)*cacheSize, time.Since(start).Round(time.Second))
		heap = append(heap, report(label))
	}
	last := heap[len(heap)-1]
	fmt.Printf("cache: about %d bytes of heap per entry; after %d rounds the heap is %+.1f%% of the first round's\n",
		(heap[0]-base)/uint64(cacheSize), rounds, 100*(float64(last)-float64(heap[0]))/float64(heap[0]))
	if memprof != "" {
		f, err := os.Create(memprof)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.WriteHeapProfile(f)
	}
	return nil
}

// verifyAll authenticates every token once, on every core.
func verifyAll(ctx context.Context, svc *tokend.Service, tokens []string) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(tokens) {
					return
				}
				if _, err := svc.Authenticate(ctx, tokens[i], "127.0.0.1"); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// report prints the live heap after a collection, the resident size and its peak, and returns
// the heap.
func report(label string) uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, peak := procStatus("VmRSS:"), procStatus("VmHWM:")
	fmt.Printf("%-44s %10.1f %10.1f %10.1f\n", label, mib(ms.HeapAlloc), mib(rss), mib(peak))
	return ms.HeapAlloc
}

// procStatus reads a size in kB from /proc/self/status, in bytes (0 where there is none).
func procStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			var kb uint64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			out = append(out, line)
		}
	}
	return out, sc.Err()
}
