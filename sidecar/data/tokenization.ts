// Slices → patch tokens with newline separators, and back (paper Sec. 3, Fig. 7; reference code
// generation/processing.py `_patch_lc` and `set_lc_image_ids`, docs/paper-mapping.md#tokenization).
//
// Patches: a [t, x, y] block is cut into [t, X, Y] patches of p×p voxels (X = nx/p, Y = ny/p);
// each patch vector holds its p·p voxels row-major (px, py), 196 values for p = 14, exactly the
// reference's (pt, px, py) order with pt = 1.
//
// Separators: per slice the sequence is [patch × Y, <row separator>] × X, <slice separator>, i.e.
// X·Y + X + 1 tokens (111 for 140² slices and 14² patches). Which of the two learned tokens is
// called what differs between the texts: the paper's Fig. 7 (and
// docs/paper-mapping.md#tokenization) puts <|nl_1|> after each patch row and <|nl_2|> after each
// slice; the reference code names them the other way round. The structure is identical, only the
// labels swap, so we default to the paper's naming ('paper'), which the rest of L3M Studio
// documents, and offer 'reference' for code that must match the reference checkpoints' embedding
// names.

export type NewlineConvention = 'paper' | 'reference';

/** Token kinds in a layout: patch tokens carry their patch index (≥ 0), separators a negative code. */
export const nl1Code = -1;
export const nl2Code = -2;

export interface TokenLayout {
  /** One entry per token: patch index into the patch matrix (≥ 0), or nl1Code / nl2Code. */
  tokens: Int32Array;
  slices: number;
  patchRows: number;
  patchCols: number;
  convention: NewlineConvention;
}

export interface PatchGrid {
  slices: number;
  /** Patches along x (rows) and y (columns). */
  rows: number;
  cols: number;
  patchSize: number;
}

/** Checks that the patch size divides the slice and returns the grid. */
export function patchGrid(nx: number, ny: number, nt: number, patchSize: number): PatchGrid {
  if (!Number.isInteger(patchSize) || patchSize < 1 || nx % patchSize !== 0 || ny % patchSize !== 0) {
    throw new Error(
      `patch size ${patchSize} does not divide the ${nx}×${ny} slice; choose a divisor of both (14 for 140², 8 or 16 for 64²).`,
    );
  }
  return { slices: nt, rows: nx / patchSize, cols: ny / patchSize, patchSize };
}

/**
 * Cuts [t, x, y] slices into patches: returns [t, rows, cols, p·p] in C order, i.e. patch
 * (k, a, b) at index (k·rows + a)·cols + b, its voxel (u, v) at offset u·p + v.
 */
export function patchify(slices: Float32Array, nx: number, ny: number, nt: number, patchSize: number): Float32Array {
  const grid = patchGrid(nx, ny, nt, patchSize);
  const p = patchSize;
  const out = new Float32Array(nt * nx * ny);
  for (let k = 0; k < nt; k++) {
    for (let a = 0; a < grid.rows; a++) {
      for (let b = 0; b < grid.cols; b++) {
        const patchBase = ((k * grid.rows + a) * grid.cols + b) * p * p;
        for (let u = 0; u < p; u++) {
          const src = (k * nx + a * p + u) * ny + b * p;
          out.set(slices.subarray(src, src + p), patchBase + u * p);
        }
      }
    }
  }
  return out;
}

/** Inverse of `patchify`: [t, rows, cols, p·p] back to [t, x, y]. */
export function unpatchify(patches: Float32Array, nx: number, ny: number, nt: number, patchSize: number): Float32Array {
  const grid = patchGrid(nx, ny, nt, patchSize);
  const p = patchSize;
  const out = new Float32Array(nt * nx * ny);
  for (let k = 0; k < nt; k++) {
    for (let a = 0; a < grid.rows; a++) {
      for (let b = 0; b < grid.cols; b++) {
        const patchBase = ((k * grid.rows + a) * grid.cols + b) * p * p;
        for (let u = 0; u < p; u++) {
          out.set(patches.subarray(patchBase + u * p, patchBase + (u + 1) * p), (k * nx + a * p + u) * ny + b * p);
        }
      }
    }
  }
  return out;
}

/** Number of tokens per slice: rows·cols patches, one separator per row, one per slice. */
export function tokensPerSlice(rows: number, cols: number): number {
  return rows * cols + rows + 1;
}

/** The token sequence for `slices` slices of rows×cols patches. */
export function tokenLayout(
  slices: number,
  rows: number,
  cols: number,
  convention: NewlineConvention = 'paper',
): TokenLayout {
  const rowSeparator = convention === 'paper' ? nl1Code : nl2Code;
  const sliceSeparator = convention === 'paper' ? nl2Code : nl1Code;
  const tokens = new Int32Array(slices * tokensPerSlice(rows, cols));
  let position = 0;
  let patch = 0;
  for (let k = 0; k < slices; k++) {
    for (let a = 0; a < rows; a++) {
      for (let b = 0; b < cols; b++) tokens[position++] = patch++;
      tokens[position++] = rowSeparator;
    }
    tokens[position++] = sliceSeparator;
  }
  return { tokens, slices, patchRows: rows, patchCols: cols, convention };
}

/** Tokenised slices: the layout plus the patch matrix [nPatches, p·p] that its indices point into. */
export interface TokenizedSlices {
  layout: TokenLayout;
  patches: Float32Array;
  patchSize: number;
}

export function tokenizeSlices(
  slices: Float32Array,
  nx: number,
  ny: number,
  nt: number,
  patchSize: number,
  convention: NewlineConvention = 'paper',
): TokenizedSlices {
  const grid = patchGrid(nx, ny, nt, patchSize);
  return {
    layout: tokenLayout(nt, grid.rows, grid.cols, convention),
    patches: patchify(slices, nx, ny, nt, patchSize),
    patchSize,
  };
}

/**
 * Inverse of `tokenizeSlices`: reads the patch vectors in sequence order (separators skipped) and
 * reassembles [t, x, y]. Checks that the separators sit where the convention puts them, so a
 * corrupted or generated sequence with misplaced separators is reported, not silently misread.
 */
export function detokenize(tokenized: TokenizedSlices): Float32Array {
  const { layout, patches, patchSize } = tokenized;
  const expected = tokenLayout(layout.slices, layout.patchRows, layout.patchCols, layout.convention).tokens;
  const p2 = patchSize * patchSize;
  const ordered = new Float32Array(layout.slices * layout.patchRows * layout.patchCols * p2);
  let next = 0;
  for (let i = 0; i < layout.tokens.length; i++) {
    const token = layout.tokens[i];
    if (token < 0 !== expected[i] < 0 || (token < 0 && token !== expected[i])) {
      throw new Error(
        `detokenize: token ${i} is ${token} but the ${layout.convention} layout expects ${expected[i]}; the sequence is malformed.`,
      );
    }
    if (token >= 0) ordered.set(patches.subarray(token * p2, (token + 1) * p2), next++ * p2);
  }
  const nx = layout.patchRows * patchSize;
  const ny = layout.patchCols * patchSize;
  return unpatchify(ordered, nx, ny, layout.slices, patchSize);
}
