# SPDX-License-Identifier: MIT
# bench_options.sh - the options of the fuzz benchmarks (sourced by run_fuzz_bench.sh and
# run_fuzz_breakdown.sh): -s SECONDS per target, -b BUILD_DIR, -j CPU to pin to, -h.
#
# bench_options HELP_LINES "$@": sets seconds (keeps the caller's default when not given),
# build_dir (default build/fuzz), cpu (default 0) and OPTIND; -h prints the lines
# HELP_LINES (a sed range such as 4,16) of the calling script and exits. A bad option or
# value exits with status 2 and one line saying which (bench_check_values).
bench_options() {
  local help_lines=$1 opt
  shift
  build_dir=build/fuzz
  cpu=0
  OPTIND=1
  while getopts ":s:b:j:h" opt; do
    case $opt in
      s) seconds=$OPTARG ;;
      b) build_dir=$OPTARG ;;
      j) cpu=$OPTARG ;;
      h) sed -n "${help_lines}p" "$0"; exit 0 ;;
      :) bench_refuse "-$OPTARG needs a value" ;;
      *) bench_refuse "unknown option -$OPTARG" ;;
    esac
  done
  bench_check_values
}

# bench_refuse MESSAGE: the one line of a refused command line, then exit status 2.
bench_refuse() {
  echo "$(basename "$0"): $1 (-h for the usage)" >&2
  exit 2
}

# bench_check_values: seconds is a whole number of seconds from 1 to 86400, cpu the number of
# a CPU this machine has online, build_dir not empty. (Before this check, -s 1.5 and -j 9 on a
# 2-core machine went on to build everything and then failed in the first run.)
bench_check_values() {
  if [[ ! $seconds =~ ^[0-9]+$ ]]; then
    bench_refuse "-s takes a whole number of seconds, not '$seconds'"
  fi
  if ((10#$seconds < 1 || 10#$seconds > 86400)); then
    bench_refuse "-s $seconds: seconds per target go from 1 to 86400"
  fi
  local online
  online=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
  if [[ ! $cpu =~ ^[0-9]+$ ]] || ((10#$cpu >= online)); then
    bench_refuse "-j takes the number of a CPU from 0 to $((online - 1)), not '$cpu'"
  fi
  if [[ -z $build_dir ]]; then
    bench_refuse "-b needs a build directory"
  fi
  seconds=$((10#$seconds))
  cpu=$((10#$cpu))
}

# bench_conditions: one comment line on what the numbers were measured on: the time (UTC),
# the CPU model and count, the kernel, the compiler and the load average. Ratios of one run
# compare; between runs, how busy the machine is moves them (docs/performance.md, round 5),
# so this line goes with every table.
bench_conditions() {
  local model compiler
  model=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)
  compiler=$(clang --version 2>/dev/null | head -n 1)
  printf '# %s UTC, %s, %s CPUs, %s %s, %s, load average %s\n' \
    "$(date -u '+%Y-%m-%d %H:%M')" "${model:-unknown CPU}" \
    "$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')" "$(uname -s)" "$(uname -r)" \
    "${compiler:-no clang}" "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
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
