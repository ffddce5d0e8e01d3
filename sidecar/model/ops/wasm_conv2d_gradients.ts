// The gradients of tf.conv2d for the TF.js wasm backend, on XNNPACK.
//
// Why: tfjs-backend-wasm 4.22 registers Conv2D (XNNPACK) but no Conv2DBackpropFilter, so tf.conv2d cannot be
// differentiated there, and its Conv2DBackpropInput is a scalar C++ loop (~9× slower than the forward conv at
// the velocity CNN's shapes). Without them the velocity CNN built each convolution from pad + k² slices + concat
// + matMul, whose backward (SplitV, k² padded slice gradients) took ~80% of a generation training step.
// Both gradients of a stride-1 convolution are themselves convolutions, so both kernels below are rewritten onto
// the backend's own compiled Conv2D (and Transpose, BatchMatMul) kernels; no new native code:
//   dx = conv(dy, W′) with W′[a, b, co, ci] = W[k−1−a, k−1−b, ci, co] (the kernel flipped in space, its channel
//        axes swapped) and pads k−1−pad on each side (the transposed convolution of a stride-1 conv);
//   dW[a, b, ci, co] = Σ_{m,i,j} x[m, i+a−top, j+b−left, ci] · dy[m, i, j, co]: one matrix product
//        colsᵀ (kH·kW·Cin, N) · dy (N, Cout) over the N output pixels, colsᵀ being the shifted input written
//        out transposed (filterGradientByColumns). It replaced a convolution of the transposed input with dy as
//        a filter as large as the image, which XNNPACK ran at half the forward's rate. For 1×1 kernels without
//        padding it is the plain product x(N, Cin)ᵀ · dy(N, Cout).
// Stride-1, dilation-1, channels-last convolutions are handled (every convolution of the model); the input
// gradient of any other goes to the stock kernel, and the filter gradient of any other throws a clear error.
import * as tf from '@tensorflow/tfjs';
import { floatAccess } from './js_kernel_memory';

interface WasmBackendLike {
  disposeData: (dataId: object) => boolean;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

function runWasmKernel(
  name: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
  backend: unknown,
): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel)
    throw new Error(
      `wasm conv2d gradients: the wasm backend has no ${name} kernel; load @tensorflow/tfjs-backend-wasm 4.x.`,
    );
  return kernel.kernelFunc({ inputs, attrs, backend: backend as tf.KernelBackend }) as tf.TensorInfo;
}

function release(backend: unknown, ...infos: tf.TensorInfo[]): void {
  for (const info of infos) (backend as WasmBackendLike).disposeData(info.dataId);
}

/** W (kH, kW, Cin, Cout) → W′ (kH, kW, Cout, Cin) flipped in space: W′[a, b, co, ci] = W[kH−1−a, kW−1−b, ci, co]. */
export function flipSwapFilter(
  w: Float32Array,
  out: Float32Array,
  kH: number,
  kW: number,
  cin: number,
  cout: number,
): void {
  for (let a = 0; a < kH; a++) {
    for (let b = 0; b < kW; b++) {
      const src = ((kH - 1 - a) * kW + (kW - 1 - b)) * cin * cout;
      const dst = (a * kW + b) * cout * cin;
      for (let ci = 0; ci < cin; ci++)
        for (let co = 0; co < cout; co++) out[dst + co * cin + ci] = w[src + ci * cout + co]!;
    }
  }
}

interface StrideOneConv {
  convInfo: tf.backend_util.Conv2DInfo;
  /** Padding of the forward convolution. */
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** The forward convolution's geometry when it is one these kernels handle (stride 1, channels-last), else null. */
function strideOneConv(inputShape: number[], filterShape: number[], attrs: tf.NamedAttrMap): StrideOneConv | null {
  const dataFormat = tf.backend_util.convertConv2DDataFormat(
    (attrs['dataFormat'] as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC',
  );
  const convInfo = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs['strides'] as [number, number] | number,
    1,
    attrs['pad'] as 'same' | 'valid' | number,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    false,
    dataFormat,
  );
  if (convInfo.strideHeight !== 1 || convInfo.strideWidth !== 1 || convInfo.dataFormat !== 'channelsLast') return null;
  const { top, bottom, left, right } = convInfo.padInfo;
  return { convInfo, top, bottom, left, right };
}

/** Conv2DBackpropInput for stride 1 as a forward Conv2D (XNNPACK) of dy with the flipped, swapped filter. */
function backpropInput(args: KernelArgs, stock: tf.KernelFunc | undefined): tf.TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const dy = inputs['dy']!;
  const filter = inputs['filter']!;
  const inputShape = attrs['inputShape'] as number[];
  const conv =
    dy.dtype === 'float32' && filter.dtype === 'float32' ? strideOneConv(inputShape, filter.shape, attrs) : null;
  const [kH, kW, cin, cout] = filter.shape as [number, number, number, number];
  const pads = conv && [kH - 1 - conv.top, kH - 1 - conv.bottom, kW - 1 - conv.left, kW - 1 - conv.right];
  if (!conv || !pads || pads.some((p) => p < 0)) {
    if (!stock)
      throw new Error(
        `wasm Conv2DBackpropInput: unsupported convolution (strides ${JSON.stringify(attrs['strides'])}, pad ${JSON.stringify(attrs['pad'])}) and no stock kernel to fall back to.`,
      );
    return stock(args) as tf.TensorInfo;
  }
  const access = floatAccess('wasm', backend);
  const flipped = access.write([kH, kW, cout, cin]);
  flipSwapFilter(access.read(filter), access.read(flipped.info), kH, kW, cin, cout); // views after the allocation
  const dx = runWasmKernel(
    'Conv2D',
    { x: dy, filter: flipped.info },
    {
      strides: 1,
      dilations: 1,
      dataFormat: 'NHWC',
      pad: [
        [0, 0],
        [pads[0], pads[1]],
        [pads[2], pads[3]],
        [0, 0],
      ],
    },
    backend,
  );
  release(backend, flipped.info);
  return dx;
}

/** Conv2DBackpropFilter for stride 1: matrix products on XNNPACK (see filterGradientByColumns). */
function backpropFilter(args: KernelArgs): tf.TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const x = inputs['x']!;
  const dy = inputs['dy']!;
  const filterShape = attrs['filterShape'] as number[];
  const conv = strideOneConv(x.shape, filterShape, attrs);
  if (!conv || x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(
      `wasm Conv2DBackpropFilter: only stride-1 channels-last float32 convolutions are supported, got strides ` +
        `${JSON.stringify(attrs['strides'])}, dataFormat ${JSON.stringify(attrs['dataFormat'])}, dtypes ${x.dtype}/${dy.dtype}; use the cpu backend ` +
        'for other convolutions.',
    );
  }
  const [kH, kW, cin, cout] = filterShape as [number, number, number, number];
  const [m, h, w] = x.shape as [number, number, number, number];
  const [, outH, outW] = dy.shape as [number, number, number, number];
  if (kH === 1 && kW === 1 && conv.top + conv.bottom + conv.left + conv.right === 0) {
    // A 1×1 convolution is a product over the pixels: dW = x(N, Cin)ᵀ · dy(N, Cout), with xᵀ written by
    // channelPlanes (a transposed operand would otherwise be copied by the backend's slower Transpose kernel).
    const planes = channelPlanes(x, backend);
    const product = runWasmKernel(
      'BatchMatMul',
      {
        a: { dataId: planes.dataId, shape: [1, cin, m * h * w], dtype: 'float32' },
        b: { dataId: dy.dataId, shape: [1, m * outH * outW, cout], dtype: 'float32' },
      },
      { transposeA: false, transposeB: false },
      backend,
    );
    release(backend, planes);
    return { ...product, shape: filterShape };
  }
  const shape = filterShape as [number, number, number, number];
  return filterGradientMode === 'columns'
    ? filterGradientByColumns(x, dy, shape, conv, backend)
    : filterGradientByImageFilter(x, dy, shape, conv, backend);
}

/**
 * How the filter gradient of a k×k convolution is computed: 'columns' (the product below, the default) or
 * 'image-filter' (the earlier convolution of the transposed input with dy as the filter), kept so that
 * bench/train_step measures both in one run.
 */
export type FilterGradientMode = 'columns' | 'image-filter';
let filterGradientMode: FilterGradientMode = 'columns';
/** Images per product of the 'columns' path are capped so that its columns stay within this many floats. */
let columnFloatLimit = 16 * 1024 * 1024; // 64 MiB

export function setFilterGradientMode(mode: FilterGradientMode, options: { columnFloatLimit?: number } = {}): void {
  filterGradientMode = mode;
  columnFloatLimit = options.columnFloatLimit ?? 16 * 1024 * 1024;
}

/** The earlier path: one Conv2D of xᵀ (Cin, H, W, M) with dyᵀ (outH, outW, M, Cout) as its filter. */
function filterGradientByImageFilter(
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  filterShape: [number, number, number, number],
  conv: StrideOneConv,
  backend: unknown,
): tf.TensorInfo {
  const [kH, kW] = filterShape;
  const xT = runWasmKernel('Transpose', { x }, { perm: [3, 1, 2, 0] }, backend); // (Cin, H, W, M)
  const dyT = runWasmKernel('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }, backend); // (outH, outW, M, Cout)
  const perCin = runWasmKernel(
    'Conv2D',
    { x: xT, filter: dyT },
    {
      strides: 1,
      dilations: 1,
      dataFormat: 'NHWC',
      pad: [
        [0, 0],
        [conv.top, conv.bottom],
        [conv.left, conv.right],
        [0, 0],
      ],
    },
    backend,
  ); // (Cin, kH, kW, Cout)
  release(backend, xT, dyT);
  if (perCin.shape[1] !== kH || perCin.shape[2] !== kW) {
    release(backend, perCin);
    throw new Error(
      `wasm Conv2DBackpropFilter: the filter gradient came out [${perCin.shape.join(',')}] for a ${kH}×${kW} filter; ` +
        `x [${x.shape.join(',')}], dy [${dy.shape.join(',')}] and the padding do not describe one stride-1 convolution.`,
    );
  }
  const dW = runWasmKernel('Transpose', { x: perCin }, { perm: [1, 2, 0, 3] }, backend); // (kH, kW, Cin, Cout)
  release(backend, perCin);
  return dW;
}

/**
 * dW as one matrix product per chunk of images: colsᵀ (kH·kW·Cin, N) · dy (N, Cout), N the chunk's output
 * pixels, where row (a, b, ci) of colsᵀ is input channel ci shifted by (a − top, b − left), zero outside.
 * colsᵀ is written transposed so that the product needs no transpose (a transposed operand costs a copy on
 * XNNPACK's path, and that copy of the 9×-larger columns took as long as the product); the input is first
 * transposed to channel planes (Cin, M, H, W), so every row is filled from contiguous runs. A batch whose
 * columns exceed the float limit is split into chunks of whole images whose products are summed, so memory
 * does not grow with the batch.
 */
function filterGradientByColumns(
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  filterShape: [number, number, number, number],
  conv: StrideOneConv,
  backend: unknown,
): tf.TensorInfo {
  const [kH, kW, cin, cout] = filterShape;
  const [m, h, w] = x.shape as [number, number, number, number];
  const [, outH, outW] = dy.shape as [number, number, number, number];
  const rows = kH * kW * cin;
  const pixelsPerImage = outH * outW;
  const imagesPerChunk = Math.max(1, Math.floor(columnFloatLimit / (rows * pixelsPerImage)));
  const access = floatAccess('wasm', backend);
  const planes = channelPlanes(x, backend); // (Cin, M, H, W)
  let sum: Float32Array | null = null;
  let single: tf.TensorInfo | null = null;
  try {
    for (let first = 0; first < m; first += imagesPerChunk) {
      const images = Math.min(imagesPerChunk, m - first);
      const n = images * pixelsPerImage;
      const cols = access.write([1, rows, n]);
      // Views after every allocation: one can grow the heap and detach earlier views.
      fillColumns(
        access.read(cols.info),
        access.read(planes),
        { kH, kW, cin, m, h, w, outH, outW, first, images },
        conv,
      );
      let dyChunk: tf.TensorInfo = { dataId: dy.dataId, shape: [1, n, cout], dtype: 'float32' };
      let ownDy = false;
      if (images !== m) {
        const copy = access.write([1, n, cout]);
        copy.values.set(
          access.read(dy).subarray(first * pixelsPerImage * cout, (first + images) * pixelsPerImage * cout),
        );
        dyChunk = copy.info;
        ownDy = true;
      }
      const product = runWasmKernel(
        'BatchMatMul',
        { a: cols.info, b: dyChunk },
        { transposeA: false, transposeB: false },
        backend,
      );
      release(backend, cols.info);
      if (ownDy) release(backend, dyChunk);
      if (images === m) {
        single = product;
        break;
      }
      const values = access.read(product);
      if (!sum) sum = Float32Array.from(values);
      else for (let i = 0; i < sum.length; i++) sum[i] += values[i];
      release(backend, product);
    }
  } finally {
    release(backend, planes);
  }
  if (single) return { ...single, shape: filterShape };
  const out = access.write(filterShape);
  out.values.set(sum!);
  return out.info;
}

interface ColumnGeometry {
  kH: number;
  kW: number;
  cin: number;
  m: number;
  h: number;
  w: number;
  outH: number;
  outW: number;
  /** First image of the chunk, and how many. */
  first: number;
  images: number;
}

/** Fills colsᵀ (kH·kW·Cin rows, images·outH·outW columns) from channel planes (Cin, M, H, W). */
export function fillColumns(
  cols: Float32Array,
  planes: Float32Array,
  g: ColumnGeometry,
  pad: { top: number; left: number },
): void {
  if (g.outH === g.h && g.outW === g.w) {
    fillSameSizeColumns(cols, planes, g, pad);
    return;
  }
  const n = g.images * g.outH * g.outW;
  for (let a = 0; a < g.kH; a++) {
    const di = a - pad.top;
    for (let b = 0; b < g.kW; b++) {
      const dj = b - pad.left;
      // Output columns j whose input column j + dj lies inside the image.
      const jFrom = Math.max(0, -dj);
      const jTo = Math.min(g.outW, g.w - dj);
      for (let ci = 0; ci < g.cin; ci++) {
        let dst = ((a * g.kW + b) * g.cin + ci) * n;
        for (let image = 0; image < g.images; image++) {
          const plane = (ci * g.m + g.first + image) * g.h * g.w;
          for (let i = 0; i < g.outH; i++, dst += g.outW) {
            const ii = i + di;
            if (ii < 0 || ii >= g.h || jFrom >= jTo) {
              cols.fill(0, dst, dst + g.outW);
              continue;
            }
            const src = plane + ii * g.w + dj;
            for (let j = 0; j < jFrom; j++) cols[dst + j] = 0;
            for (let j = jFrom; j < jTo; j++) cols[dst + j] = planes[src + j]!;
            for (let j = jTo; j < g.outW; j++) cols[dst + j] = 0;
          }
        }
      }
    }
  }
}

let stockInput: tf.KernelConfig | null = null;
let installed = false;
let ownFilter = false;

/**
 * Registers Conv2DBackpropFilter and replaces Conv2DBackpropInput for the wasm backend (idempotent), so that
 * tf.conv2d is differentiable there with every convolution on XNNPACK. False when tfjs-backend-wasm is not loaded.
 */
export function registerWasmConvGradients(): boolean {
  if (installed) return true;
  if (!tf.getKernel('Conv2D', 'wasm')) return false;
  stockInput = tf.getKernel('Conv2DBackpropInput', 'wasm') ?? null;
  if (stockInput) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  const stockFunc = stockInput?.kernelFunc;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    setupFunc: stockInput?.setupFunc,
    kernelFunc: (args) => backpropInput(args, stockFunc),
  });
  // A later tfjs-backend-wasm may bring its own; keep it then.
  ownFilter = !tf.getKernel('Conv2DBackpropFilter', 'wasm');
  if (ownFilter)
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: backpropFilter });
  installed = true;
  return true;
}

/** Back to TF.js's own wasm kernels (stock Conv2DBackpropInput, no Conv2DBackpropFilter), for A/B measurements. */
export function restoreWasmConvGradients(): void {
  if (!installed) return;
  if (ownFilter) tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
  tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  if (stockInput) tf.registerKernel(stockInput);
  stockInput = null;
  installed = false;
}

/**
 * fillColumns for an output as large as the input ("same" padding): row (a, b, ci) is the chunk's run of channel
 * ci's planes read at a constant offset (a − top)·W + (b − left), so it is copied in one piece, and only the
 * pixels whose source lies outside their own image (read across an image edge) are zeroed afterwards. Copying
 * pixel runs of one image row each was slower than the matrix product that follows for 8×8 patches.
 */
function fillSameSizeColumns(
  cols: Float32Array,
  planes: Float32Array,
  g: ColumnGeometry,
  pad: { top: number; left: number },
): void {
  const plane = g.h * g.w;
  const n = g.images * plane;
  for (let a = 0; a < g.kH; a++) {
    const di = a - pad.top;
    for (let b = 0; b < g.kW; b++) {
      const dj = b - pad.left;
      const shift = di * g.w + dj;
      const jFrom = Math.max(0, -dj);
      const jTo = Math.min(g.w, g.w - dj);
      const iFrom = Math.max(0, -di);
      const iTo = Math.min(g.h, g.h - di);
      for (let ci = 0; ci < g.cin; ci++) {
        const dst = ((a * g.kW + b) * g.cin + ci) * n;
        const src = (ci * g.m + g.first) * plane + shift;
        // The part of the run that lies inside the planes at all; the rest is zero.
        const from = Math.min(n, Math.max(0, -src));
        const to = Math.max(from, Math.min(n, planes.length - src));
        cols.fill(0, dst, dst + from);
        cols.set(planes.subarray(src + from, src + to), dst + from);
        cols.fill(0, dst + to, dst + n);
        if (di === 0 && dj === 0) continue;
        for (let image = 0; image < g.images; image++) {
          const base = dst + image * plane;
          cols.fill(0, base, base + iFrom * g.w);
          cols.fill(0, base + iTo * g.w, base + plane);
          if (dj === 0) continue;
          for (let i = iFrom; i < iTo; i++) {
            const row = base + i * g.w;
            for (let j = 0; j < jFrom; j++) cols[row + j] = 0;
            for (let j = jTo; j < g.w; j++) cols[row + j] = 0;
          }
        }
      }
    }
  }
}

/**
 * x (M, H, W, Cin) as channel planes (Cin, M, H, W): a transpose of the (M·H·W, Cin) matrix in tiles of 32 × 32, so
 * both the reads and the writes of a tile stay in cache. It took half the time of the backend's Transpose kernel at
 * the velocity CNN's shapes.
 */
function channelPlanes(x: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  const [m, h, w, cin] = x.shape as [number, number, number, number];
  const rows = m * h * w;
  const access = floatAccess('wasm', backend);
  const out = access.write([cin, m, h, w]);
  transposeTiled(access.read(x), access.read(out.info), rows, cin); // views after the allocation
  return out.info;
}

/** dst (cols, rows) = srcᵀ for src (rows, cols), in 32 × 32 tiles. */
export function transposeTiled(src: Float32Array, dst: Float32Array, rows: number, cols: number): void {
  const tile = 32;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const r1 = Math.min(rows, r0 + tile);
    for (let c0 = 0; c0 < cols; c0 += tile) {
      const c1 = Math.min(cols, c0 + tile);
      for (let r = r0; r < r1; r++) {
        const from = r * cols;
        for (let c = c0; c < c1; c++) dst[c * rows + r] = src[from + c]!;
      }
    }
  }
}
