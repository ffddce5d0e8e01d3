// The regression runs' view of the paper's Fig. 6: per parameter, predicted against true value in
// physical units — each test lightcone's predicted mean as a point, the mean of the posterior draws
// per bin of the true value with its ±1σ spread, and the diagonal — plus the calibration table
// (R², fraction of true values inside the predicted 68% and 95% intervals, mean predicted σ).
import { Chart, formatValue } from '../shared/chart';
import { Curve, alignCurves } from '../shared/metric_series';
import { seriesColors, withAlpha } from '../shared/theme';
import type { PanelBridge } from '../shared/vscode_api';
import type { RegressionEvaluationFile } from '../shared/panel_protocol';

export function showRegression(
  parent: HTMLElement,
  evaluation: RegressionEvaluationFile,
  bridge: PanelBridge,
): Chart[] {
  const heading = document.createElement('h2');
  heading.textContent = `Regression on ${evaluation.testLightcones} test lightcones (${evaluation.samplesPerLightcone} posterior draws each)`;
  parent.append(heading, calibrationTable(evaluation));
  const grid = document.createElement('div');
  grid.className = 'charts';
  parent.append(grid);
  const [blue, orange, , , red] = seriesColors();
  const charts: Chart[] = [];
  evaluation.parameters.forEach((p, index) => {
    const physical = (v: number) => p.min + v * (p.max - p.min);
    const diagonal = new Curve();
    diagonal.push(p.min, p.min);
    diagonal.push(p.max, p.max);
    const binMean = new Curve();
    const binLo = new Curve();
    const binHi = new Curve();
    for (const b of p.bins) {
      const centre = physical((b.lo + b.hi) / 2);
      const spread = b.std === null ? null : b.std * (p.max - p.min);
      binMean.push(centre, b.mean === null ? null : physical(b.mean));
      binLo.push(centre, b.mean === null || spread === null ? null : physical(b.mean) - spread);
      binHi.push(centre, b.mean === null || spread === null ? null : physical(b.mean) + spread);
    }
    const points = new Curve();
    for (const pt of evaluation.points) {
      const t = pt.truth[index];
      const m = pt.mean[index];
      if (typeof t === 'number' && typeof m === 'number') points.push(physical(t), physical(m));
    }
    const { x, ys } = alignCurves([diagonal, points, binLo, binMean, binHi]);
    const unit = parameterUnits(p).title;
    const chart = new Chart(
      grid,
      {
        title: `${p.label}${unit}  R² = ${p.r2 === null ? '–' : p.r2.toFixed(3)}`,
        xLabel: `true ${p.label}`,
        logY: false,
        height: 260,
        series: [
          { label: 'truth', color: withAlpha(red, 0.6), width: 1 },
          { label: 'predicted mean', color: withAlpha(blue, 0.55), scatter: true },
          { label: 'bin mean − σ', color: withAlpha(orange, 0.5), width: 1 },
          { label: 'bin mean', color: orange, width: 2 },
          { label: 'bin mean + σ', color: withAlpha(orange, 0.5), width: 1 },
        ],
      },
      bridge,
    );
    chart.setData([x, ...ys]);
    charts.push(chart);
  });
  return charts;
}

/**
 * How a parameter's values and spreads are given: a log₁₀ quantity (log₁₀ T_vir with T_vir in K) is a
 * number of decades, so its σ is in dex, not in the unit under the logarithm; the axis says which unit
 * that is. Other parameters carry their unit as it is.
 */
export function parameterUnits(p: { name: string; label: string; unit: string }): { title: string; sigma: string } {
  const logarithmic = p.name.startsWith('log10') || p.label.startsWith('log₁₀');
  if (!logarithmic) return { title: p.unit ? ` [${p.unit}]` : '', sigma: p.unit };
  const inner = p.label.replace(/^log₁₀\s*/, '');
  return { title: p.unit ? ` (${inner} in ${p.unit})` : '', sigma: 'dex' };
}

function calibrationTable(evaluation: RegressionEvaluationFile): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'data calibration';
  const head = table.createTHead().insertRow();
  for (const h of ['parameter', 'R²', 'in 68% interval', 'in 95% interval', 'mean σ']) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  const fmt = (v: number | null, digits = 3) => (v === null ? '–' : v.toFixed(digits));
  for (const p of evaluation.parameters) {
    const row = body.insertRow();
    const sigma = p.meanSigma === null ? null : p.meanSigma * (p.max - p.min);
    for (const cell of [
      p.label,
      fmt(p.r2),
      fmt(p.coverage68),
      fmt(p.coverage95),
      sigma === null ? '–' : `${formatValue(sigma)} ${parameterUnits(p).sigma}`.trim(),
    ]) {
      row.insertCell().textContent = cell;
    }
  }
  const caption = table.createCaption();
  caption.textContent = `Calibrated: ≈ 0.683 and ≈ 0.954 of true values inside the intervals. Mean NLL ${evaluation.nll === null ? '–' : evaluation.nll.toFixed(3)} nats (uniform prior: 0).`;
  return table;
}
