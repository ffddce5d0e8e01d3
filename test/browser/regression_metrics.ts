// metrics.jsonl as a real regression run writes it, for the compare tests that need many runs with
// many metrics: 6 train metrics (loss, lr, throughput, two gradient norms, the head's loss), 7 more in
// validation (the NLL and an L1 error per parameter) and 18 in the test record (R² and both coverages
// per parameter): 31 metrics in all, as the tiny regression experiment logs them.
import type { MetricRecord } from '../../sidecar/protocol/run_folder';

const parameters = ['mWDM', 'omegaM', 'E0', 'log10LX', 'log10Tvir', 'zeta'] as const;

/** The metric names such a run logs (31). */
export const regressionMetricNames: readonly string[] = [
  ...['loss', 'lr', 'steps_per_s', 'grad_norm_connector', 'grad_norm_head', 'loss_head'],
  'nll',
  ...parameters.map((p) => `l1_${p}`),
  ...parameters.flatMap((p) => [`r2_${p}`, `coverage68_${p}`, `coverage95_${p}`]),
];

/** `steps` train records, a validation record every `valEvery` steps and one test record at the end; `seed` varies the values. */
export function regressionRecords(steps: number, valEvery: number, seed: number): MetricRecord[] {
  let s = seed;
  const random = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const decay = (step: number) => Math.exp(-step / (steps / 3));
  const records: MetricRecord[] = [];
  for (let step = 1; step <= steps; step++) {
    const epoch = step / 6;
    const loss = 0.4 * decay(step) - 0.3 + 0.05 * random() + 0.01 * seed;
    records.push({
      step,
      epoch,
      wall_time: 0.15 * step,
      split: 'train',
      loss,
      lr: step === 1 ? 0 : 0.005,
      steps_per_s: 6 + random(),
      grad_norm_connector: 0.2 * decay(step) + 0.05 * random(),
      grad_norm_head: 1.2 * decay(step) + 0.1 * random(),
      loss_head: loss,
    });
    if (step % valEvery === 0) {
      const val: MetricRecord = {
        step,
        epoch,
        wall_time: 0.15 * step + 0.02,
        split: 'val',
        loss: loss + 0.05,
        nll: 1 + loss,
      };
      for (const p of parameters) val[`l1_${p}`] = 0.2 + 0.1 * decay(step) + 0.05 * random();
      records.push(val);
    }
  }
  const test: MetricRecord = { step: steps, epoch: steps / 6, wall_time: 0.15 * steps + 0.05, split: 'test', nll: 1.3 };
  for (const p of parameters) {
    test[`r2_${p}`] = 0.5 - random();
    test[`coverage68_${p}`] = Math.round(8 * random()) / 8;
    test[`coverage95_${p}`] = 1;
  }
  records.push(test);
  return records;
}
