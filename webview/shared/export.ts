// Export of what a panel shows: a chart or view as PNG, a chart's data as CSV. The page cannot
// write files, so it posts the bytes to its host, which asks where to save them.
import type { PanelBridge } from './vscode_api';
import { background, foreground } from './theme';

/** PNG bytes of a canvas drawn onto the theme background with a title above it. */
export async function canvasToPng(source: HTMLCanvasElement, title: string): Promise<ArrayBuffer> {
  const pad = title ? 24 : 0;
  const canvas = document.createElement('canvas');
  canvas.width = source.width;
  canvas.height = source.height + pad;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('export: this page has no 2D canvas context');
  ctx.fillStyle = background();
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (title) {
    ctx.fillStyle = foreground();
    ctx.font = '14px sans-serif';
    ctx.fillText(title, 8, 17);
  }
  ctx.drawImage(source, 0, pad);
  return pngOf(canvas);
}

export function pngOf(canvas: HTMLCanvasElement): Promise<ArrayBuffer> {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => {
      if (!blob) reject(new Error('export: the canvas gave no PNG (is it empty?)'));
      else void blob.arrayBuffer().then(resolve, reject);
    }, 'image/png');
  });
}

/**
 * PNG bytes of an SVG picture drawn at `scale` times its CSS size: the vector picture is rasterised
 * at the target size, so the image is sharp whatever the screen's pixel ratio.
 */
export async function svgToPng(svg: string, width: number, height: number, scale = 2): Promise<ArrayBuffer> {
  const image = new Image();
  // A data: URL (the page's CSP allows data: images); an SVG without foreignObject leaves the canvas readable.
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('export: this page has no 2D canvas context');
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  return pngOf(canvas);
}

export function exportSvg(bridge: PanelBridge, fileName: string, svg: string): void {
  bridge.post({ type: 'export', fileName: `${safeFileName(fileName)}.svg`, mime: 'image/svg+xml', data: svg });
}

export function exportPngBytes(bridge: PanelBridge, fileName: string, data: ArrayBuffer): void {
  bridge.post({ type: 'export', fileName: `${safeFileName(fileName)}.png`, mime: 'image/png', data });
}

function csvCell(value: string | number | null): string {
  // NaN is a gap in the typed curve columns (metric_series.ts): an empty cell, like null.
  if (value === null || (typeof value === 'number' && Number.isNaN(value))) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV text with a header row; null and NaN cells are left empty. */
export function toCsv(header: string[], columns: ArrayLike<string | number | null>[]): string {
  const rows = [header.map(csvCell).join(',')];
  const length = columns.length > 0 ? columns[0].length : 0;
  for (let i = 0; i < length; i++) rows.push(columns.map((c) => csvCell(c[i] ?? null)).join(','));
  return rows.join('\n') + '\n';
}

export function safeFileName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'export';
}

export async function exportPng(
  bridge: PanelBridge,
  canvas: HTMLCanvasElement,
  title: string,
  fileName: string,
): Promise<void> {
  bridge.post({
    type: 'export',
    fileName: `${safeFileName(fileName)}.png`,
    mime: 'image/png',
    data: await canvasToPng(canvas, title),
  });
}

export function exportCsv(
  bridge: PanelBridge,
  fileName: string,
  header: string[],
  columns: ArrayLike<string | number | null>[],
): void {
  bridge.post({
    type: 'export',
    fileName: `${safeFileName(fileName)}.csv`,
    mime: 'text/csv',
    data: toCsv(header, columns),
  });
}
