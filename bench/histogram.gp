# Broadcast RTT histograms, one panel per client count, one curve per server (issue 12's tail).
#   gnuplot -e "dir='<data dir>'; out='<file.png>'; steps='100 1000 10000'; labels='cablecast limit'" bench/histogram.gp
# <data dir> holds hist_<label>_<clients>.dat ("bin-centre-ms fraction") from bench/tail.rb.
set terminal pngcairo size 1500,480 font "sans,11"
set output out
n = words(steps)
set multiplot layout 1,n title "Broadcast RTT until every client received it: share of samples per bin (server and generator on one core each)"
set grid
set key top right
set xlabel "RTT (ms)"
set ylabel "share of samples"
set yrange [0:*]
colour(l) = l eq "cablecast" ? "#1f77b4" : (l eq "limit" ? "#2ca02c" : "#d62728")
has(file) = system("test -s '".file."' && echo 1 || echo 0") + 0
do for [i=1:n] {
  s = word(steps, i)
  set title s." clients"
  cmd = ""
  do for [j=1:words(labels)] {
    l = word(labels, j)
    f = dir."/hist_".l."_".s.".dat"
    if (has(f)) {
      cmd = cmd.sprintf("'%s' using 1:2 with steps lw 2 lc rgb '%s' title '%s', ", f, colour(l), l)
    }
  }
  if (strlen(cmd) > 0) { eval "plot ".cmd[1:strlen(cmd) - 2] }
}
unset multiplot
