# The tail of the broadcast RTT (issue 12): reads the per-sample CSV that `cablecast bench
# broadcast --samples-csv` appends to (label,clients,sample,start_ms,rtt_ms), pools the samples of
# every run per server and client count, prints a markdown table of p50, p99 and p99 / p50
# (target: 1.5x at 10,000 clients, server on one core), and writes histogram data for
# bench/histogram.gp: <dir>/hist_<label>_<clients>.dat, "bin-centre-ms fraction-of-samples".
#   ruby bench/tail.rb SAMPLES_CSV PLOT_DIR
require "csv"

csv_path, plot_dir = ARGV
abort "usage: ruby bench/tail.rb SAMPLES_CSV PLOT_DIR" unless csv_path && plot_dir
rows = CSV.read(csv_path, headers: true)
# A timed-out sample has an empty rtt_ms: counted, never pooled as a latency.
groups = rows.group_by { |r| [r["label"], r["clients"].to_i] }
rank = ->(sorted, p) { sorted[[(p * sorted.size).ceil - 1, 0].max] }  # nearest rank, as the generator

puts "Broadcast RTT tail: every sample of every run pooled per server and client count " \
     "(nearest-rank percentiles; target p99 <= 1.5x p50 at 10,000 clients)."
puts
puts "| Server | Clients | samples (timeouts) | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | p99 ÷ p50 |"
puts "|---|---:|---:|---:|---:|---:|---:|---:|"
groups.keys.sort.each do |label, clients|
  all = groups[[label, clients]]
  rtts = all.map { |r| r["rtt_ms"] }.reject { |v| v.nil? || v.empty? }.map(&:to_f).sort
  timeouts = all.size - rtts.size
  next puts("| #{label} | #{clients} | 0 (#{timeouts}) | - | - | - | - | - |") if rtts.empty?
  p50, p90, p99 = [0.5, 0.9, 0.99].map { |p| rank.(rtts, p) }
  puts format("| %s | %d | %d (%d) | %.1f | %.1f | %.1f | %.1f | %.2fx |",
              label, clients, rtts.size, timeouts, p50, p90, p99, rtts.last, p99 / p50)
  # 40 bins from 0 to the 99.5th percentile's next round figure; the rest in the last bin, so
  # one outlier does not squash the shape.
  top = rank.(rtts, 0.995) * 1.1
  width = top / 40.0
  counts = Array.new(40, 0)
  rtts.each { |v| counts[[(v / width).floor, 39].min] += 1 }
  File.open(File.join(plot_dir, "hist_#{label}_#{clients}.dat"), "w") do |f|
    counts.each_with_index { |c, i| f.puts format("%.3f %.5f", (i + 0.5) * width, c.to_f / rtts.size) }
  end
end
