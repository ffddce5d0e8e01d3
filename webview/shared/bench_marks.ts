// Performance marks for bench/panels, recorded only when the benchmark sets `l3mBenchmark` on the
// page, so that a long-lived panel does not fill the performance timeline.

export function benchMark(name: string): void {
  if ((globalThis as { l3mBenchmark?: boolean }).l3mBenchmark) performance.mark(name);
}
