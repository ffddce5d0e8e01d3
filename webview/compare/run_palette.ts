// Each compared run's colour and dash, fixed for as long as the run stays in the comparison.
//
// The palette is 20 colours whose pairwise CIEDE2000 difference is at least 14.9: the editor's chart
// blue, orange and green first (the colours a run had before), then each next colour the sRGB colour,
// of lightness L* 50–74 and chroma at least 28, farthest in CIEDE2000 from those already taken. The
// lightness band keeps every curve readable on dark and light themes alike; a fixed palette, rather
// than the theme's six chart colours, is what keeps 20 runs apart. Past 20 runs the colours repeat
// with a dash pattern, so that two curves never share both colour and dash before 20 × 5 runs; there
// is no cap on runs, only on how far apart they stay.
//
// A run keeps its slot (colour and dash) while it is compared: adding runs gives the new ones the
// lowest free slots, and removing one frees its slot for a later run, so no run changes colour when
// the comparison changes around it. Pure: the page keeps the slots in its saved state.

export const runPalette: readonly string[] = [
  '#3794ff',
  '#d18616',
  '#89d185',
  '#ff0078',
  '#009696',
  '#a54bff',
  '#d2a5d2',
  '#f02d00',
  '#788700',
  '#e19687',
  '#0fc3f0',
  '#c3b478',
  '#00964b',
  '#a56996',
  '#ff4be1',
  '#8787c3',
  '#00c3a5',
  '#96784b',
  '#b46969',
  '#96c300',
];

/** Solid first; then dashes that stay apart at a 2 px line width. */
export const dashPatterns: readonly (readonly number[])[] = [[], [10, 5], [2, 4], [12, 4, 2, 4], [5, 5]];

export interface RunStyle {
  color: string;
  /** Empty for a solid line. */
  dash: number[];
}

export function styleOfSlot(slot: number): RunStyle {
  const n = runPalette.length;
  return { color: runPalette[slot % n], dash: [...dashPatterns[Math.floor(slot / n) % dashPatterns.length]] };
}

/**
 * Slots for `runDirs`: a run that had one in `previous` keeps it; each other run, in order, takes the
 * lowest slot no run holds.
 */
export function assignSlots(
  previous: Readonly<Record<string, number>>,
  runDirs: readonly string[],
): Record<string, number> {
  const slots: Record<string, number> = {};
  const taken = new Set<number>();
  for (const dir of runDirs) {
    const slot = previous[dir];
    if (Number.isInteger(slot) && slot >= 0 && !taken.has(slot)) {
      slots[dir] = slot;
      taken.add(slot);
    }
  }
  let next = 0;
  for (const dir of runDirs) {
    if (dir in slots) continue;
    while (taken.has(next)) next++;
    slots[dir] = next;
    taken.add(next);
  }
  return slots;
}
