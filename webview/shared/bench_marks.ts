// Performance marks for bench/panels, recorded only when the benchmark sets `l3mBenchmark` on the
// page, so that a long-lived panel does not fill the performance timeline.

export function benchMark(name: string): void {
  if (Reflect.get(globalThis, 'l3mBenchmark') === true) performance.mark(name);
}
