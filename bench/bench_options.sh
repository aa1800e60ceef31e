# SPDX-License-Identifier: MIT
# bench_options.sh - the options of the fuzz benchmarks (sourced by run_fuzz_bench.sh and
# run_fuzz_breakdown.sh): -s SECONDS per target, -b BUILD_DIR, -j CPU to pin to, -h.
#
# bench_options HELP_LINES "$@": sets seconds (keeps the caller's default when not given),
# build_dir (default build/fuzz), cpu (default 0) and OPTIND; -h prints the lines
# HELP_LINES (a sed range such as 4,16) of the calling script and exits.
bench_options() {
  local help_lines=$1 opt
  shift
  build_dir=build/fuzz
  cpu=0
  OPTIND=1
  while getopts "s:b:j:h" opt; do
    case $opt in
      s) seconds=$OPTARG ;;
      b) build_dir=$OPTARG ;;
      j) cpu=$OPTARG ;;
      h) sed -n "${help_lines}p" "$0"; exit 0 ;;
      *) exit 2 ;;
    esac
  done
}

# bench_scratch_dir: a new directory for the runs' scratch corpora, in memory (/dev/shm) when
# the machine has it. libFuzzer writes every new input it keeps into the scratch corpus, and
# the empty target keeps none: on a busy machine one such write to disk was measured at about
# 2 ms (fuzz_nmr_schedule: 9% of its samples), so a disk-backed scratch directory charged the
# targets, and not the empty target beside them, for the machine's disk.
bench_scratch_dir() {
  if [[ -d /dev/shm && -w /dev/shm ]]; then
    mktemp -d -p /dev/shm nmrkit-bench.XXXXXX
  else
    mktemp -d
  fi
}
