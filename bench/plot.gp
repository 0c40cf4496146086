# Plot of one compare.sh run: broadcast RTT p99 vs clients and server RSS vs subscribed
# connections, Cablecast and the Rails reference. Called as
#   gnuplot -e "dir='<data dir>'; out='<file.png>'" bench/plot.gp
# where <data dir> holds rtt_<label>.dat ("clients p50 p99") and mem_<label>.dat ("clients MiB").
set terminal pngcairo size 1400,560 font "sans,11"
set output out
set multiplot layout 1,2 title "Cablecast vs Rails Action Cable 6.1 (loopback, server and load generator pinned to one core each)"
set grid
set key top left
set logscale y
set xlabel "subscribed clients"

set title "Broadcast RTT until every client received it (p99, p50 dashed)"
set ylabel "ms (log scale)"
plot dir."/rtt_cablecast.dat" using 1:3 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "Cablecast p99", \
     dir."/rtt_cablecast.dat" using 1:2 with linespoints lw 1 dt 2 pt 6 lc rgb "#1f77b4" title "Cablecast p50", \
     dir."/rtt_rails.dat" using 1:3 with linespoints lw 2 pt 5 lc rgb "#d62728" title "Rails p99", \
     dir."/rtt_rails.dat" using 1:2 with linespoints lw 1 dt 2 pt 4 lc rgb "#d62728" title "Rails p50"

set title "Server RSS, idle, by subscribed connections"
set ylabel "MiB (log scale)"
plot dir."/mem_cablecast.dat" using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "Cablecast", \
     dir."/mem_rails.dat" using 1:2 with linespoints lw 2 pt 5 lc rgb "#d62728" title "Rails"
unset multiplot
