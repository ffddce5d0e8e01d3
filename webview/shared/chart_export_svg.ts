// A chart as an SVG picture for papers and slides: the title, the plot as uPlot shows it (its axes,
// ticks, grid, curves, ±σ bands and best-so-far rings, in the view the user zoomed to), and a legend
// of the curves' names and colours below it, which the canvas alone lacks. The PNG export draws this
// same picture at twice its size (export.ts svgToPng), so both files show the same thing and the PNG
// is sharp at any device pixel ratio.
import uPlot from 'uplot';
import type { CurveBest } from './best_so_far';

export interface PictureSeries {
  label: string;
  color: string;
  width?: number;
  faint?: boolean;
  scatter?: boolean;
  dash?: number[];
}

export interface ChartPicture {
  plot: uPlot;
  title: string;
  /** The chart's series in uPlot's order (x excluded). */
  series: PictureSeries[];
  bands?: { upper: number; lower: number; fill: string }[];
  /** The legend's entries: each shown curve once, by its name and colour. */
  legend: { label: string; color: string }[];
  bests: CurveBest[];
  colors: { foreground: string; background: string; grid: string };
}

export interface SvgPicture {
  svg: string;
  /** CSS pixels. */
  width: number;
  height: number;
  /** Where the legend's swatches are, in CSS pixels (tests check the PNG's pixels there). */
  swatches: { x: number; y: number; size: number; color: string }[];
}

const titleHeight = 24;
const legendRow = 18;
const swatchSize = 10;
const font = 'font-family="sans-serif" font-size="11"';

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );
}

function n(v: number): string {
  return Number(v.toFixed(2)).toString();
}

/** uPlot's computed ticks of an axis: kept on the axis by uPlot while it draws (not in its typings). */
function axisTicks(u: uPlot, axis: number): { splits: number[]; values: string[] } {
  const a: object = u.axes[axis];
  const splits = '_splits' in a && Array.isArray(a._splits) ? a._splits : [];
  const values = '_values' in a && Array.isArray(a._values) ? a._values : [];
  return {
    splits: splits.map((v) => (typeof v === 'number' ? v : NaN)),
    values: values.map((v) => (typeof v === 'string' ? v : '')),
  };
}

/** A polyline per run of non-null points; `null` breaks the line, as uPlot's spanGaps does not bridge it here. */
function linePaths(
  xs: ArrayLike<number>,
  ys: ArrayLike<number | null | undefined>,
  toX: (v: number) => number,
  toY: (v: number) => number,
) {
  const parts: string[] = [];
  let current: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    const y = ys[i];
    if (y === null || y === undefined) continue;
    const px = toX(xs[i]);
    const py = toY(y);
    if (!Number.isFinite(px) || !Number.isFinite(py)) {
      if (current.length > 1) parts.push(current.join(' '));
      current = [];
      continue;
    }
    current.push(`${n(px)},${n(py)}`);
  }
  if (current.length > 0) parts.push(current.join(' '));
  return parts;
}

export function chartSvg(p: ChartPicture): SvgPicture {
  const u = p.plot;
  const ratio = uPlot.pxRatio;
  const width = u.width;
  const plotTop = titleHeight;
  const left = u.bbox.left / ratio;
  const top = plotTop + u.bbox.top / ratio;
  const plotWidth = u.bbox.width / ratio;
  const plotHeight = u.bbox.height / ratio;
  const toX = (v: number) => left + u.valToPos(v, 'x');
  const toY = (v: number) => top + u.valToPos(v, 'y');
  const { foreground, background, grid } = p.colors;

  // The legend: rows of swatch + name, wrapped at the picture's width.
  const swatches: SvgPicture['swatches'] = [];
  const legendParts: string[] = [];
  let lx = 8;
  let ly = plotTop + u.height + 8;
  for (const entry of p.legend) {
    const itemWidth = swatchSize + 6 + entry.label.length * 6.5 + 16;
    if (lx + itemWidth > width && lx > 8) {
      lx = 8;
      ly += legendRow;
    }
    swatches.push({ x: lx, y: ly, size: swatchSize, color: entry.color });
    legendParts.push(
      `<rect x="${lx}" y="${ly}" width="${swatchSize}" height="${swatchSize}" fill="${escapeXml(entry.color)}"/>`,
      `<text x="${lx + swatchSize + 6}" y="${ly + 9}" fill="${escapeXml(foreground)}" ${font}>${escapeXml(entry.label)}</text>`,
    );
    lx += itemWidth;
  }
  const height = p.legend.length === 0 ? plotTop + u.height : ly + legendRow + 4;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="${escapeXml(background)}"/>`,
    `<text x="8" y="17" fill="${escapeXml(foreground)}" font-family="sans-serif" font-size="14">${escapeXml(p.title)}</text>`,
    `<defs><clipPath id="plot"><rect x="${n(left)}" y="${n(top)}" width="${n(plotWidth)}" height="${n(plotHeight)}"/></clipPath></defs>`,
  ];
  // Axes: grid lines and tick labels where uPlot put them.
  const x = axisTicks(u, 0);
  x.splits.forEach((v, i) => {
    const px = toX(v);
    if (!(px >= left - 0.5 && px <= left + plotWidth + 0.5)) return;
    out.push(
      `<line x1="${n(px)}" y1="${n(top)}" x2="${n(px)}" y2="${n(top + plotHeight)}" stroke="${escapeXml(grid)}"/>`,
    );
    if (x.values[i])
      out.push(
        `<text x="${n(px)}" y="${n(top + plotHeight + 14)}" text-anchor="middle" fill="${escapeXml(foreground)}" ${font}>${escapeXml(x.values[i])}</text>`,
      );
  });
  const y = axisTicks(u, 1);
  y.splits.forEach((v, i) => {
    const py = toY(v);
    if (!(py >= top - 0.5 && py <= top + plotHeight + 0.5)) return;
    out.push(
      `<line x1="${n(left)}" y1="${n(py)}" x2="${n(left + plotWidth)}" y2="${n(py)}" stroke="${escapeXml(grid)}"/>`,
    );
    if (y.values[i])
      out.push(
        `<text x="${n(left - 6)}" y="${n(py + 4)}" text-anchor="end" fill="${escapeXml(foreground)}" ${font}>${escapeXml(y.values[i])}</text>`,
      );
  });
  const xLabel = u.axes[0].label;
  if (typeof xLabel === 'string')
    out.push(
      `<text x="${n(left + plotWidth / 2)}" y="${n(top + plotHeight + 32)}" text-anchor="middle" fill="${escapeXml(foreground)}" ${font}>${escapeXml(xLabel)}</text>`,
    );

  const data = u.data;
  const xs = data[0];
  out.push('<g clip-path="url(#plot)">');
  for (const band of p.bands ?? []) {
    const upper = linePaths(xs, data[band.upper], toX, toY);
    const lower = linePaths(xs, data[band.lower], toX, toY);
    if (upper.length === 1 && lower.length === 1)
      out.push(
        `<polygon points="${upper[0]} ${lower[0].split(' ').reverse().join(' ')}" fill="${escapeXml(band.fill)}"/>`,
      );
  }
  p.series.forEach((s, k) => {
    const index = k + 1;
    if (!u.series[index]?.show) return;
    const color = escapeXml(s.color);
    if (s.scatter) {
      for (let i = 0; i < xs.length; i++) {
        const yv = data[index][i];
        if (yv !== null && yv !== undefined)
          out.push(`<circle cx="${n(toX(xs[i]))}" cy="${n(toY(yv))}" r="2" fill="${color}"/>`);
      }
      return;
    }
    const width = s.width ?? (s.faint ? 1 : 1.5);
    const dash = s.dash && s.dash.length > 0 ? ` stroke-dasharray="${s.dash.join(' ')}"` : '';
    for (const points of linePaths(xs, data[index], toX, toY))
      out.push(
        `<polyline points="${points}" fill="none" stroke="${color}" stroke-width="${width}" stroke-linejoin="round"${dash}/>`,
      );
  });
  for (const b of p.bests) {
    if (!u.series[b.series]?.show) continue;
    const cx = toX(b.point.x);
    const cy = toY(b.point.y);
    if (Number.isFinite(cx) && Number.isFinite(cy))
      out.push(
        `<circle cx="${n(cx)}" cy="${n(cy)}" r="5" fill="none" stroke="${escapeXml(b.color)}" stroke-width="2"/>`,
      );
  }
  out.push('</g>', ...legendParts, '</svg>');
  return { svg: out.join('\n'), width, height, swatches };
}
