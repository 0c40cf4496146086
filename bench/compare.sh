#!/usr/bin/env bash
# Runs the same benchmark steps against Cablecast, the limit server (bench/limit: the smallest
# fan-out server this machine allows, issue 12) and the Ruby Action Cable reference
# (reference/ruby: Rails Action Cable 6.1 + puma from Debian), one server at a time on loopback,
# and prints the tables with the ratios: Cablecast vs Rails, and Cablecast's broadcast RTT as a
# multiple of the limit's and of Rails'. Results: bench/results/<stamp>.csv (every row of every
# run), <stamp>.md (the tables) and <stamp>.png (RTT p99 vs clients, RSS vs connections).
#
# The limit server answers only what `cablecast bench broadcast` and `connect` need, so it runs
# those two steps (echo and fan-out are Cablecast vs Rails only).
#
# Each step gets a fresh server process, so every RSS baseline is an idle server. The server is
# pinned to SERVER_CORE and the load generator to BENCH_CORE (taskset), both single-threaded.
#
# Knobs (environment):
#   SERVERS="cablecast limit rails"  MODES="broadcast connect echo fanout"
#   STEPS=100,1000,10000  SAMPLES=100  RAILS_STEP_BUDGET=30 (s)
#   CONNECT_CLIENTS=19000  RAILS_CONNECT_CLIENTS=19000  ECHO_CLIENTS=100  ECHO_IN_FLIGHT=8
#   FANOUT_STREAMS=100  FANOUT_CLIENTS_PER_STREAM=100  FANOUT_IN_FLIGHT=4  DURATION=10 (s)
#   CONNECT_TIMEOUT=60  RAILS_CONNECT_TIMEOUT=180 (s; clients not subscribed by then count as
#   failures and are closed)  REPEATS=3 (the tables show medians over repeats)  BUILD_DIR=build/release
#   SERVER_CORE=0  BENCH_CORE=1  SERVER_THREADS=1  OUT_DIR=bench/results  SKIP_BUILD=0
set -euo pipefail

BENCH_NAME=compare.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # ROOT, STAMP, LOG_DIR...; say, die, need, stop...

SERVERS=${SERVERS:-cablecast limit rails}
MODES=${MODES:-broadcast connect echo fanout}
STEPS=${STEPS:-100,1000,10000}
SAMPLES=${SAMPLES:-100}  # p99 of 100 samples is the second largest, not simply the max
RAILS_STEP_BUDGET=${RAILS_STEP_BUDGET:-30}
CONNECT_TIMEOUT=${CONNECT_TIMEOUT:-60}
RAILS_CONNECT_TIMEOUT=${RAILS_CONNECT_TIMEOUT:-180}
CONNECT_CLIENTS=${CONNECT_CLIENTS:-19000}
RAILS_CONNECT_CLIENTS=${RAILS_CONNECT_CLIENTS:-$CONNECT_CLIENTS}
ECHO_CLIENTS=${ECHO_CLIENTS:-100}
ECHO_IN_FLIGHT=${ECHO_IN_FLIGHT:-8}
FANOUT_STREAMS=${FANOUT_STREAMS:-100}
FANOUT_CLIENTS_PER_STREAM=${FANOUT_CLIENTS_PER_STREAM:-100}
FANOUT_IN_FLIGHT=${FANOUT_IN_FLIGHT:-4}
DURATION=${DURATION:-10}
REPEATS=${REPEATS:-3}
SERVER_THREADS=${SERVER_THREADS:-1}
SKIP_BUILD=${SKIP_BUILD:-0}

CSV="$OUT_DIR/$STAMP.csv"
TABLE="$OUT_DIR/$STAMP.md"
PNG="$OUT_DIR/$STAMP.png"
SAMPLES_CSV="$OUT_DIR/$STAMP-samples.csv"  # every broadcast sample: bench/tail.rb
HIST_PNG="$OUT_DIR/$STAMP-histogram.png"

stop_on_exit SERVER_PID  # LOG_DIR is removed at the end of a run that succeeded

prepare_load_run
if [[ " $SERVERS " == *" rails "* ]]; then
  command -v puma >/dev/null || die "puma missing (apt-get install puma ruby-actioncable)"
  [[ -f "$ROOT/reference/ruby/config.ru" ]] || die "reference/ruby/config.ru missing"
fi
command -v ruby >/dev/null || die "ruby missing (it also builds the summary table)"

build_cablecast "$ROOT" cablecast-limit
BENCH=("$BUILD_DIR/cablecast" bench)
SERVER_BIN="$BUILD_DIR/cablecast"
LIMIT_BIN="$BUILD_DIR/cablecast-limit"
[[ " $SERVERS " != *" limit "* || -x "$LIMIT_BIN" ]] || die "$LIMIT_BIN missing (cmake --build --target cablecast-limit)"

# start_server NAME PORT: starts it pinned to SERVER_CORE, waits until it accepts TCP.
start_server() {
  local name=$1 port=$2 log="$LOG_DIR/$1-$2.log"
  case "$name" in
    cablecast)
      taskset -c "$SERVER_CORE" "$SERVER_BIN" serve --host 127.0.0.1 --port "$port" \
        --threads "$SERVER_THREADS" --log-level warn >"$log" 2>&1 &
      ;;
    limit)
      # One event loop by construction; same io_uring write path as Cablecast's default.
      taskset -c "$SERVER_CORE" "$LIMIT_BIN" --host 127.0.0.1 --port "$port" --log-level warn \
        >"$log" 2>&1 &
      ;;
    rails)
      # Single-mode puma as reference/ruby/README.md runs it; production rack env so no
      # development request logger sits in front of Action Cable.
      (cd "$ROOT" && RACK_ENV=production REFERENCE_LOG_LEVEL=warn exec taskset -c "$SERVER_CORE" \
        puma -b "tcp://127.0.0.1:$port" reference/ruby/config.ru) >"$log" 2>&1 &
      ;;
    *) die "unknown server $name" ;;
  esac
  SERVER_PID=$!
  wait_listening "$name" "$SERVER_PID" "$port" "$log"
}

# run_step NAME MODE ARGS...: fresh server, one `cablecast bench` run against it, server stopped.
# Nothing when MODE is not in MODES, or is one the limit server does not answer.
run_step() {
  local name=$1 mode=$2; shift 2
  [[ " $MODES " == *" $mode "* ]] || return 0
  if [[ $name == limit && $mode != broadcast && $mode != connect ]]; then return 0; fi
  local port; port=$(free_port)
  local timeout=$CONNECT_TIMEOUT
  if [[ $name == rails ]]; then timeout=$RAILS_CONNECT_TIMEOUT; fi
  start_server "$name" "$port"
  say "$name: $mode $*"
  local rc=0
  taskset -c "$BENCH_CORE" "${BENCH[@]}" "$mode" --url "ws://127.0.0.1:$port/cable" --threads 1 \
    --server-pid "$SERVER_PID" --label "$name" --csv "$CSV" --connect-timeout "$timeout" "$@" \
    || rc=$?
  # 2 = lost/duplicated deliveries: reported in the table, the run goes on.
  if [[ $rc -ne 0 && $rc -ne 2 ]]; then echo "compare.sh: $name $mode exited with $rc" >&2; fi
  stop_started
}

say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), load: $(cut -d' ' -f1-3 /proc/loadavg)"
for repeat in $(seq 1 "$REPEATS"); do
  for name in $SERVERS; do
    say "repeat $repeat/$REPEATS: $name"
    budget=0; connect_clients=$CONNECT_CLIENTS
    if [[ $name == rails ]]; then budget=$RAILS_STEP_BUDGET; connect_clients=$RAILS_CONNECT_CLIENTS; fi
    run_step "$name" broadcast --steps "$STEPS" --clients "${STEPS##*,}" --samples "$SAMPLES" \
      --step-budget "$budget" --min-samples 5 --samples-csv "$SAMPLES_CSV"
    run_step "$name" connect --clients "$connect_clients"
    run_step "$name" echo --clients "$ECHO_CLIENTS" --in-flight "$ECHO_IN_FLIGHT" \
      --duration "$DURATION"
    run_step "$name" fanout --streams "$FANOUT_STREAMS" \
      --clients-per-stream "$FANOUT_CLIENTS_PER_STREAM" --in-flight "$FANOUT_IN_FLIGHT" \
      --duration "$DURATION"
  done
done

# The table (medians over repeats) and the plot data, from the CSV.
summarize() {
  ruby -rcsv - "$@" <<'RUBY'
csv_path, plot_dir = ARGV
rows = CSV.read(csv_path, headers: true).map(&:to_h)
median = lambda do |values|
  v = values.compact.map(&:to_f).sort
  next nil if v.empty?
  v.size.odd? ? v[v.size / 2] : (v[v.size / 2 - 1] + v[v.size / 2]) / 2
end
groups = rows.group_by { |r| [r["label"], r["mode"], r["clients"].to_i] }
# Latency columns only from runs that completed a sample (a run whose every sample timed out
# reports 0 ms, which is no latency).
stat = lambda do |label, mode, clients, col|
  runs = Array(groups[[label, mode, clients]])
  runs = runs.select { |r| r["samples"].to_i.positive? } if col.end_with?("_ms")
  median.(runs.map { |r| r[col] })
end
labels = rows.map { |r| r["label"] }.uniq
ours = labels.include?("cablecast") ? "cablecast" : labels[0]
ref = (labels - [ours, "limit"])[0]  # the limit server has a table of its own, below
fmt = ->(x, digits) { x.nil? ? "-" : format("%.#{digits}f", x) }
lines = []
row = lambda do |metric, mode, clients, col, digits, better, scale = 1.0|
  a = stat.(ours, mode, clients, col)
  b = ref && stat.(ref, mode, clients, col)
  a *= scale if a
  b *= scale if b
  ratio = if better != :none && a && b && a.positive? && b.positive?
            format("%.1fx", better == :lower ? b / a : a / b)
          else
            "-"
          end
  lines << "| #{metric} | #{fmt.(a, digits)} | #{ref ? fmt.(b, digits) : '-'} | #{ratio} |"
end
repeats = groups.values.map(&:size).max || 0
puts "Medians over #{repeats} run(s) per cell. Advantage = how many times better Cablecast is" \
     " (lower-is-better metrics: #{ref || 'reference'}/Cablecast; higher-is-better: Cablecast/#{ref || 'reference'})."
puts
puts "| Metric | #{ours} | #{ref || '-'} | Cablecast advantage |"
puts "|---|---:|---:|---:|"
steps = rows.select { |r| r["mode"] == "broadcast" }.map { |r| r["clients"].to_i }.uniq.sort
steps.each do |n|
  row.("broadcast RTT p50 @ #{n} clients (ms)", "broadcast", n, "p50_ms", 1, :lower)
  row.("broadcast RTT p99 @ #{n} clients (ms)", "broadcast", n, "p99_ms", 1, :lower)
  row.("broadcast samples @ #{n} clients", "broadcast", n, "samples", 0, :none)
end
steps.each { |n| row.("server RSS idle @ #{n} subscribed (MiB)", "broadcast", n, "rss_kib", 1, :lower, 1 / 1024.0) }
rows.select { |r| r["mode"] == "connect" }.map { |r| [r["label"], r["clients"].to_i] }.uniq.each do |label, n|
  next unless label == ours
  row.("connect+subscribe #{n} clients (s)", "connect", n, "connect_s", 2, :lower)
  row.("connect rate @ #{n} (clients/s)", "connect", n, "connect_rate", 0, :higher)
  row.("server RSS idle @ #{n} subscribed (MiB)", "connect", n, "rss_kib", 1, :lower, 1 / 1024.0)
  row.("RSS growth per connection @ #{n} (KiB)", "connect", n, "rss_per_conn_bytes", 2, :lower, 1 / 1024.0)
  row.("connect failures / dropped @ #{n}", "connect", n, "failures", 0, :none)
end
echo_n = rows.find { |r| r["mode"] == "echo" }&.fetch("clients")&.to_i
if echo_n
  row.("echo messages/s (#{echo_n} clients)", "echo", echo_n, "throughput_per_s", 0, :higher)
  row.("echo round trip p99 (ms)", "echo", echo_n, "p99_ms", 1, :lower)
  row.("echo messages per server CPU-second", "echo", echo_n, "deliveries_per_server_cpu_s", 0, :higher)
end
fan = rows.find { |r| r["mode"] == "fanout" }
if fan
  n = fan["clients"].to_i
  row.("fan-out deliveries/s (#{fan['streams']} streams, #{n} clients)", "fanout", n, "throughput_per_s", 0, :higher)
  row.("fan-out deliveries per server CPU-second", "fanout", n, "deliveries_per_server_cpu_s", 0, :higher)
  row.("fan-out delivery latency p99 (ms)", "fanout", n, "p99_ms", 1, :lower)
  row.("fan-out load generator CPU (s)", "fanout", n, "bench_cpu_s", 2, :none)
end
puts lines
# Against the machine's limit (issue 12): Cablecast's RTT as a multiple of the limit server's
# (targets: 1.2x at p50, 1.5x at p99) and of the reference's, per step.
if labels.include?("limit") && ours != "limit"
  ratio = ->(a, b) { a && b && b.positive? ? format(a / b >= 0.1 ? "%.2fx" : "%.3fx", a / b) : "-" }
  cells = ->(*v) { v.map { |x| fmt.(x, 1) }.join(" / ") }
  puts
  puts "Against the machine's limit: #{ours}'s broadcast RTT divided by the limit server's " \
       "(bench/limit; targets 1.2x at p50, 1.5x at p99) and by #{ref || 'the reference'}'s; same run, medians over #{repeats} run(s)."
  puts
  puts "| Clients | p50 #{ours} / limit / #{ref || '-'} (ms) | p50 ÷ limit | p50 ÷ #{ref || '-'} " \
       "| p99 #{ours} / limit / #{ref || '-'} (ms) | p99 ÷ limit | p99 ÷ #{ref || '-'} |"
  puts "|---:|---:|---:|---:|---:|---:|---:|"
  steps.each do |n|
    p50 = [ours, "limit", ref].map { |l| l && stat.(l, "broadcast", n, "p50_ms") }
    p99 = [ours, "limit", ref].map { |l| l && stat.(l, "broadcast", n, "p99_ms") }
    puts "| #{n} | #{cells.(*p50)} | #{ratio.(p50[0], p50[1])} | #{ratio.(p50[0], p50[2])} " \
         "| #{cells.(*p99)} | #{ratio.(p99[0], p99[1])} | #{ratio.(p99[0], p99[2])} |"
  end
  rows.select { |r| r["mode"] == "connect" && r["label"] == "limit" }.map { |r| r["clients"].to_i }.uniq.each do |n|
    a = stat.(ours, "connect", n, "connect_s")
    b = stat.("limit", "connect", n, "connect_s")
    puts
    puts "Connect + subscribe #{n} clients: #{ours} #{fmt.(a, 2)} s, limit #{fmt.(b, 2)} s (#{ratio.(a, b)}); " \
         "RSS growth per connection #{fmt.(stat.(ours, 'connect', n, 'rss_per_conn_bytes'), 0)} B vs " \
         "#{fmt.(stat.('limit', 'connect', n, 'rss_per_conn_bytes'), 0)} B."
  end
end
puts
puts "Delivery checks over all runs (T7): missing / duplicated / out of order per server:"
labels.each do |label|
  mine = rows.select { |r| r["label"] == label }
  sum = ->(col) { mine.sum { |r| r[col].to_i } }
  puts "- #{label}: missing #{sum.('missing')}, duplicates #{sum.('duplicates')}, " \
       "out of order #{sum.('reordered')}, broadcast timeouts #{sum.('timeouts')}, " \
       "connect failures #{sum.('failures')}, dropped #{sum.('dropped')}"
end
# Plot data: RTT by clients (broadcast steps), RSS by connections (broadcast steps + connect).
labels.each do |label|
  File.open(File.join(plot_dir, "rtt_#{label}.dat"), "w") do |f|
    steps.each do |n|
      p50 = stat.(label, "broadcast", n, "p50_ms")
      p99 = stat.(label, "broadcast", n, "p99_ms")
      f.puts "#{n} #{p50} #{p99}" if p99 && p99.positive?
    end
  end
  mem = rows.select { |r| r["label"] == label && %w[broadcast connect].include?(r["mode"]) }
            .map { |r| r["clients"].to_i }.uniq.sort
  File.open(File.join(plot_dir, "mem_#{label}.dat"), "w") do |f|
    mem.each do |n|
      rss = median.(rows.select { |r| r["label"] == label && r["clients"].to_i == n &&
                                      %w[broadcast connect].include?(r["mode"]) }.map { |r| r["rss_kib"] })
      f.puts "#{n} #{rss / 1024.0}" if rss && rss.positive?
    end
  end
end
RUBY
}
summarize "$CSV" "$LOG_DIR" >"$TABLE"
if [[ -s $SAMPLES_CSV ]]; then
  echo >>"$TABLE"
  ruby "$ROOT/bench/tail.rb" "$SAMPLES_CSV" "$LOG_DIR" >>"$TABLE"
fi
cat "$TABLE"
if command -v gnuplot >/dev/null; then
  gnuplot -e "dir='$LOG_DIR'; out='$PNG'" "$ROOT/bench/plot.gp" && echo "plot: $PNG" >&2
  if [[ -s $SAMPLES_CSV ]]; then
    gnuplot -e "dir='$LOG_DIR'; out='$HIST_PNG'; steps='${STEPS//,/ }'; labels='$SERVERS'" \
      "$ROOT/bench/histogram.gp" && echo "histograms: $HIST_PNG" >&2
  fi
else
  echo "gnuplot missing (apt-get install gnuplot-nox): no plot" >&2
fi
echo "csv: $CSV" >&2
[[ -s $SAMPLES_CSV ]] && echo "samples: $SAMPLES_CSV" >&2
echo "table: $TABLE" >&2
rm -rf "$LOG_DIR"
