// Command benchtool is the benchmark harness of `make bench`, `make
// bench-large` and `make bench-remote` (see scripts/bench/bench.sh and
// docs/performance.md). It generates seeded trees, changes them, walks them,
// and runs the scenarios: ferry side by side with rclone bisync, Unison, rsync
// and a plain walk, each repetition running every tool in turn, and writes
// the table of medians.
//
//	benchtool gen -n 100000 -seed 1 DIR        a notes vault of about n files
//	benchtool mutate -seed 3 -frac 0.01 A B    change 1% of the files on each side
//	benchtool walk DIR                         walk and stat every file
//	benchtool same A B                         compare two trees by path and size
//	benchtool run [flags]                      the scenarios (see run -h)
//
// It touches nothing but local folders and, for the remote and rename
// scenarios, the test suite's S3 and WebDAV servers, which it starts on
// 127.0.0.1 with scripts/testserver and reaches through a proxy of its own
// there (servers.go).
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "gen":
		fl := flag.NewFlagSet("gen", flag.ExitOnError)
		n := fl.Int("n", 10_000, "number of files, about")
		seed := fl.Uint64("seed", 1, "seed")
		_ = fl.Parse(args)
		if fl.NArg() != 1 {
			usage()
		}
		var st genStats
		st, err = gen(fl.Arg(0), *n, *seed)
		if err == nil {
			fmt.Printf("%d files, %d folders, %.1f MB\n", st.files, st.dirs, float64(st.bytes)/1e6)
		}
	case "mutate":
		fl := flag.NewFlagSet("mutate", flag.ExitOnError)
		seed := fl.Uint64("seed", 1, "seed: one per round of changes")
		frac := fl.Float64("frac", 0.01, "fraction of the files changed on each side")
		_ = fl.Parse(args)
		if fl.NArg() != 2 {
			usage()
		}
		var st mutateStats
		st, err = mutate(fl.Arg(0), fl.Arg(1), *seed, *frac)
		if err == nil {
			fmt.Printf("each side: %d edited, %d created, %d deleted\n", st.edited/2, st.created/2, st.deleted/2)
		}
	case "walk":
		if len(args) != 1 {
			usage()
		}
		var n int
		n, err = walkStat(args[0])
		if err == nil {
			fmt.Println(n, "files")
		}
	case "same":
		if len(args) != 2 {
			usage()
		}
		err = same(args[0], args[1])
	case "run":
		err = runCmd(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: benchtool gen|mutate|walk|same|run ... (see the package comment)")
	os.Exit(2)
}
