# Plot of one compare.sh run: broadcast RTT p99 vs clients and server RSS vs subscribed
# connections, Cablecast, the limit server (bench/limit) and the Rails reference. Called as
#   gnuplot -e "dir='<data dir>'; out='<file.png>'" bench/plot.gp
# where <data dir> holds rtt_<label>.dat ("clients p50 p99") and mem_<label>.dat ("clients MiB").
# A server left out of the run (SERVERS) has no file and no line.
set terminal pngcairo size 1400,560 font "sans,11"
set output out
set multiplot layout 1,2 title "Cablecast vs the limit server and Rails Action Cable 6.1 (loopback, server and load generator pinned to one core each)"
set grid
set key top left
set logscale y
set xlabel "subscribed clients"

has(file) = system("test -s '".dir."/".file."' && echo 1 || echo 0") + 0
# One series: file, columns, style, title; empty when the file is missing.
series(file, cols, style, name) = has(file) ? sprintf("'%s/%s' using %s with linespoints %s title '%s', ", dir, file, cols, style, name) : ""

set title "Broadcast RTT until every client received it (p99, p50 dashed)"
set ylabel "ms (log scale)"
rtt = series("rtt_cablecast.dat", "1:3", "lw 2 pt 7 lc rgb '#1f77b4'", "Cablecast p99") . \
      series("rtt_cablecast.dat", "1:2", "lw 1 dt 2 pt 6 lc rgb '#1f77b4'", "Cablecast p50") . \
      series("rtt_limit.dat", "1:3", "lw 2 pt 9 lc rgb '#2ca02c'", "limit p99") . \
      series("rtt_limit.dat", "1:2", "lw 1 dt 2 pt 8 lc rgb '#2ca02c'", "limit p50") . \
      series("rtt_rails.dat", "1:3", "lw 2 pt 5 lc rgb '#d62728'", "Rails p99") . \
      series("rtt_rails.dat", "1:2", "lw 1 dt 2 pt 4 lc rgb '#d62728'", "Rails p50")
eval "plot ".rtt[1:strlen(rtt) - 2]

set title "Server RSS, idle, by subscribed connections"
set ylabel "MiB (log scale)"
mem = series("mem_cablecast.dat", "1:2", "lw 2 pt 7 lc rgb '#1f77b4'", "Cablecast") . \
      series("mem_limit.dat", "1:2", "lw 2 pt 9 lc rgb '#2ca02c'", "limit") . \
      series("mem_rails.dat", "1:2", "lw 2 pt 5 lc rgb '#d62728'", "Rails")
eval "plot ".mem[1:strlen(mem) - 2]
unset multiplot
