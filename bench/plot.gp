# SPDX-License-Identifier: BSD-3-Clause
# bench/plot.gp: IOPS, mean latency or CPU per op against fio jobs, one panel per
# operation, one line per target.  bench/report.py writes the data files
# (DIR/plot-OP.dat: one block per target, its first line the title; columns
# jobs, IOPS, mean us, p99 us, CPU us per op) and calls:
#   gnuplot -e "dir='DIR'; metric='iops'|'latency'|'cpu'; fmt='png'|'svg'; \
#               n_randwrite=N; n_randread=N; n_alloc=N; \
#               lt_randwrite='1 2 ..'; lt_randread='..'; lt_alloc='..'" bench/plot.gp
# (lt_OP: the linetype, i.e. colour, of each block, the same target's
# everywhere)

if (fmt eq 'svg') {
	set terminal svg size 1000,1300 dynamic font 'sans,11'
} else {
	# libgd's png: gnuplot-nox has no cairo on some installs
	set terminal png size 1000,1300 font ',10'
}
set output sprintf('%s/%s.%s', dir, metric, fmt)

col = (metric eq 'iops') ? 2 : (metric eq 'cpu') ? 5 : 3
ylab = (metric eq 'iops') ? 'IOPS (log)' : (metric eq 'cpu') ? \
	'busy CPU us per op, all vCPUs (log)' : 'mean latency, us (log)'
mname = (metric eq 'iops') ? 'IOPS' : (metric eq 'cpu') ? 'CPU per op' : \
	'mean latency'

set multiplot layout 3,1 title sprintf('zufs benchmark: 4 KiB O_SYNC direct I/O, %s vs fio jobs', \
	mname) noenhanced
set logscale y
set grid
set xlabel 'fio jobs (threads)'
set ylabel ylab
set xtics 1
set key outside right top noenhanced
set autoscale xfix
set offsets 0.2, 0.2, 0, 0
# enough distinct colours for every target, host rows included
colours = '#1f77b4 #d62728 #2ca02c #ff7f0e #9467bd #8c564b #e377c2 #17becf #bcbd22 #7f7f7f #000000 #aec7e8 #ff9896 #98df8a #c5b0d5 #c49c94'
do for [k = 1:words(colours)] {
	set linetype k lc rgb word(colours, k) lw 2 pt (k % 7) + 4
}
set linetype cycle words(colours)

do for [p = 1:3] {
	op = word('randwrite randread write-alloc', p)
	n = (p == 1) ? n_randwrite : (p == 2) ? n_randread : n_alloc
	lts = (p == 1) ? lt_randwrite : (p == 2) ? lt_randread : lt_alloc
	set title op
	f = sprintf('%s/plot-%s.dat', dir, op)
	if (n > 0) {
		plot for [i = 0:n-1] f index i using 1:col with linespoints \
			lt int(word(lts, i + 1)) title columnheader(2)
	} else {
		unset logscale y
		set label 1 'no data' at graph 0.5, 0.5 center
		plot [0:1] [0:1] NaN notitle
		unset label 1
		set logscale y
	}
}
unset multiplot
