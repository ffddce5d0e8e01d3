// The inspector's view as one PNG that stands on its own: the run's name, the slice with its index,
// redshift and frequency, each slice panel with its caption, axes in comoving Mpc and colour bar with
// the window's ends in mK, and the side view with its context/generated boundary. Every text drawn is
// returned too, so that a test can read what the image says.
import { formatValue } from '../shared/chart';
import { background, foreground } from '../shared/theme';
import type { SliceView } from './slice_view';

export interface InspectorExport {
  runName: string;
  /** The slice label as the page shows it (index, lightcone slice, z and MHz, context or not). */
  sliceLabel: string;
  /** The extent of the slices' axes, e.g. "x, y: 0–100 comoving Mpc". */
  axes: string;
  views: SliceView[];
  side: { name: string; canvas: HTMLCanvasElement; boundary: number | null; slices: number }[];
}

/** The canvas of the export at `scale` (2 = twice the screen's pixels), with the texts written on it. */
export function inspectorExportCanvas(
  what: InspectorExport,
  scale = 2,
): { canvas: HTMLCanvasElement; texts: string[] } {
  const cell = 280;
  const gap = 16;
  const sideHeight = 96;
  const width = what.views.length * (cell + gap) + gap;
  const imageTop = 64;
  const sideTop = imageTop + cell + 56;
  const cutBlock = sideHeight + 46;
  const height = sideTop + what.side.length * cutBlock + 8;
  const canvas = document.createElement('canvas');
  canvas.width = width * scale;
  canvas.height = height * scale;
  const texts: string[] = [];
  const ctx = canvas.getContext('2d');
  if (!ctx) return { canvas, texts };
  ctx.scale(scale, scale);
  ctx.fillStyle = background();
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = foreground();
  ctx.imageSmoothingEnabled = false;
  const text = (value: string, x: number, y: number, font = '12px sans-serif') => {
    ctx.font = font;
    ctx.fillText(value, x, y);
    texts.push(value);
  };
  text(`${what.runName} — ${what.sliceLabel}`, gap, 18, 'bold 13px sans-serif');
  text(what.axes, gap, 36);
  what.views.forEach((v, i) => {
    const left = gap + i * (cell + gap);
    text(v.element.querySelector('figcaption')?.textContent ?? v.name, left, imageTop - 6);
    if (v.values) ctx.drawImage(v.canvas, left, imageTop, cell, cell);
    ctx.drawImage(v.colorBar, left, imageTop + cell + 6, cell, 8);
    if (v.range) {
      ctx.font = '12px sans-serif';
      text(`${formatValue(v.range.lo)} mK`, left, imageTop + cell + 30);
      const hi = `${formatValue(v.range.hi)} mK`;
      text(hi, left + cell - ctx.measureText(hi).width, imageTop + cell + 30);
      text('δT_b [mK]', left + cell / 2 - 24, imageTop + cell + 30);
    }
  });
  what.side.forEach((cut, i) => {
    const top = sideTop + i * cutBlock + 12;
    const cutWidth = width - 2 * gap;
    text(`${cut.name} — side view, line of sight →`, gap, top);
    ctx.drawImage(cut.canvas, gap, top + 6, cutWidth, sideHeight);
    if (cut.boundary !== null && cut.slices > 0) {
      const x = gap + (cut.boundary / cut.slices) * cutWidth;
      ctx.save();
      ctx.strokeStyle = foreground();
      ctx.setLineDash([5, 3]);
      ctx.beginPath();
      ctx.moveTo(x, top + 4);
      ctx.lineTo(x, top + 8 + sideHeight);
      ctx.stroke();
      ctx.restore();
      text('context | generated', Math.max(gap, x - 56), top + sideHeight + 20, '11px sans-serif');
    }
  });
  return { canvas, texts };
}

/** A file name from the run's name: letters, digits, dots, dashes and underscores only. */
export function exportFileName(runName: string): string {
  const safe = runName.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '');
  return `${safe || 'run'}_lightcone_view.png`;
}
