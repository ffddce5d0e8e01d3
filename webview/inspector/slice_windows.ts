// The windows the slice views are drawn with: the default one from the percentiles of each lightcone
// (every slice of a sample on one scale, so colours compare across the slider), or the one a person
// dragged on a colour bar, kept until Reset or new data. True and generated share one window on the
// shared scale; the difference always has its own.
import type { ColorRange } from '../shared/colormaps';
import {
  mergeSorted,
  percentileWindow,
  sortedFinite,
  defaultPercentiles,
  type PercentilePair,
} from './intensity_window';

export type SlicePanel = 'truth' | 'generated' | 'difference';
export type WindowKey = SlicePanel | 'shared';

export class SliceWindows {
  private sorted: Partial<Record<SlicePanel, Float32Array>> = {};
  private merged: Float32Array | null = null;
  private readonly dragged = new Map<WindowKey, ColorRange>();
  percentiles: PercentilePair = defaultPercentiles;

  /** New lightcones: their finite values sorted once, and every dragged window dropped. */
  setData(data: Partial<Record<SlicePanel, ArrayLike<number> | null>>): void {
    this.sorted = {};
    for (const panel of ['truth', 'generated', 'difference'] as const) {
      const values = data[panel];
      if (values) this.sorted[panel] = sortedFinite(values);
    }
    this.merged = null;
    this.dragged.clear();
  }

  /** Which window a panel is drawn with: the shared one for true and generated when both are there. */
  keyFor(panel: SlicePanel, shared: boolean): WindowKey {
    return panel !== 'difference' && shared && this.sorted.truth && this.sorted.generated ? 'shared' : panel;
  }

  /** The window of `key`: the dragged one, else the percentiles' (symmetric about zero when asked); null without data. */
  window(key: WindowKey, symmetric: boolean): ColorRange | null {
    const dragged = this.dragged.get(key);
    if (dragged) return dragged;
    const values = key === 'shared' ? this.sharedValues() : this.sorted[key];
    return values ? percentileWindow(values, this.percentiles, symmetric) : null;
  }

  drag(key: WindowKey, window: ColorRange): void {
    this.dragged.set(key, window);
  }

  /** Back to the percentiles' windows. */
  reset(): void {
    this.dragged.clear();
  }

  get isDragged(): boolean {
    return this.dragged.size > 0;
  }

  private sharedValues(): Float32Array | undefined {
    const { truth, generated } = this.sorted;
    if (!truth || !generated) return truth ?? generated;
    this.merged ??= mergeSorted(truth, generated);
    return this.merged;
  }
}
