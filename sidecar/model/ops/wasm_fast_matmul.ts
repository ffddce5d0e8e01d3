// A batched matrix product for the TF.js wasm backend that keeps every product on XNNPACK's fast path.
//
// Why this exists: tfjs-backend-wasm 4.22 (src/cc/batch_mat_mul_impl.cc, `tfjs::wasm::batchMatMul`) sends a
// product to XNNPACK's fully-connected operator only when neither operand is transposed AND both batch sizes
// are 1; every other product (all of attention, every transposed product of backward) runs a scalar blocked
// loop at ~2 GFLOP/s instead of ~20-28 GFLOP/s on this machine. This kernel materialises a transposed operand
// with the backend's own Transpose kernel (memory-bound, cheap next to the product) and then issues one
// non-transposed batch-1 call of the backend's own `BatchMatMul` export per batch entry, on zero-copy views
// of the operands registered as temporary tensor ids. No new native code: only the backend's compiled kernels.
//
// The XNNPACK operator cache in that C++ file is keyed by the weight tensor's id and dropped when the id is
// disposed (`register_disposal_callback`); every view id here is fresh and disposed right after its call, so
// no stale packed weights are ever reused and nothing accumulates.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The name under which the fast product is registered for the wasm backend. */
export const fastBatchMatMulKernelName = 'L3mFastBatchMatMul';

type WasmMatMul = (
  aId: number,
  aShape: Uint8Array,
  aShapeLength: number,
  bId: number,
  bShape: Uint8Array,
  bShapeLength: number,
  transposeA: number,
  transposeB: number,
  outId: number,
) => void;

/** The backend's internals this kernel touches; typed here because tfjs-backend-wasm does not export them. */
interface WasmBackendInternals {
  wasm: {
    cwrap: (name: string, returnType: null, argTypes: string[]) => WasmMatMul;
    tfjs: { registerTensor: (id: number, size: number, offset: number) => void; disposeData: (id: number) => void };
  };
  dataIdMap: { get: (dataId: object) => { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput: (shape: number[], dtype: tf.DataType) => tf.TensorInfo;
  disposeData: (dataId: object) => boolean;
}

const matMulByBackend = new WeakMap<object, WasmMatMul>();

function wasmMatMulOf(backend: WasmBackendInternals): WasmMatMul {
  let fn = matMulByBackend.get(backend);
  if (!fn) {
    // Same export and argument list as tfjs-backend-wasm/src/kernels/BatchMatMul.ts uses.
    fn = backend.wasm.cwrap('BatchMatMul', null, [
      'number',
      'array',
      'number',
      'number',
      'array',
      'number',
      'number',
      'number',
      'number',
    ]);
    matMulByBackend.set(backend, fn);
  }
  return fn;
}

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

/** Transposes the last two axes of a contiguous (batch, rows, cols) buffer with the backend's Transpose kernel. */
function transposeLastTwo(
  info: tf.TensorInfo,
  batch: number,
  rows: number,
  cols: number,
  backend: WasmBackendInternals,
): tf.TensorInfo {
  const transpose = tf.getKernel('Transpose', 'wasm');
  const input: tf.TensorInfo = { dataId: info.dataId, shape: [batch, rows, cols], dtype: 'float32' };
  return transpose.kernelFunc({ inputs: { x: input }, backend: backend, attrs: { perm: [0, 2, 1] } }) as tf.TensorInfo;
}

interface ProductShape {
  batchA: number;
  batchB: number;
  m: number;
  k: number;
  n: number;
  outShape: number[];
}

function productShape(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): ProductShape {
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  const m = transposeA ? a.shape[aRank - 1] : a.shape[aRank - 2];
  const kA = transposeA ? a.shape[aRank - 2] : a.shape[aRank - 1];
  const kB = transposeB ? b.shape[bRank - 1] : b.shape[bRank - 2];
  const n = transposeB ? b.shape[bRank - 2] : b.shape[bRank - 1];
  if (kA !== kB) {
    throw new Error(
      `fast matMul: inner sizes ${kA} and ${kB} of shapes [${a.shape.join(',')}] and [${b.shape.join(',')}] ` +
        `(transposeA ${transposeA}, transposeB ${transposeB}) differ; they must match.`,
    );
  }
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batchA = outerA.reduce((p, s) => p * s, 1);
  const batchB = outerB.reduce((p, s) => p * s, 1);
  return { batchA, batchB, m, k: kA, n, outShape: [...outer, m, n] };
}

/**
 * Kernel body: out = op(a) · op(b), op = optional transpose of the last two axes, batch axes broadcast when
 * one side has a single batch entry. Shapes it cannot split (other broadcasts, non-float32) go to `fallback`.
 */
export function fastBatchMatMul(
  args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap },
  fallback: tf.KernelFunc,
  allowSwap = true,
): tf.TensorInfo {
  const a = args.inputs['a']!;
  const b = args.inputs['b']!;
  const transposeA = Boolean(args.attrs?.['transposeA']);
  const transposeB = Boolean(args.attrs?.['transposeB']);
  const backend = args.backend as WasmBackendInternals;
  if (a.dtype !== 'float32' || b.dtype !== 'float32')
    return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  const { batchA, batchB, m, k, n, outShape } = productShape(a, b, transposeA, transposeB);
  const batch = Math.max(batchA, batchB);
  if (!(batchA === batchB || batchA === 1 || batchB === 1) || m * k * n === 0) {
    return fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  }
  if (allowSwap && batch === 1) {
    // A 2D product can also be computed as (op(B)ᵀ · op(A)ᵀ)ᵀ. Pick the form that moves fewer floats through
    // Transpose: x · Wᵀ with a huge W and few rows (the LM head: W is 151936 × 896, 64 tokens) would otherwise
    // transpose, and have XNNPACK pack, all of W on every call.
    const directCost = (transposeA ? m * k : 0) + (transposeB ? k * n : 0);
    const swappedCost = (transposeB ? 0 : k * n) + (transposeA ? 0 : m * k) + m * n;
    if (swappedCost < directCost) {
      const swapped = fastBatchMatMul(
        { inputs: { a: b, b: a }, backend: args.backend, attrs: { transposeA: !transposeB, transposeB: !transposeA } },
        fallback,
        false,
      ); // (n, m)
      const out = transposeLastTwo(swapped, 1, n, m, backend); // (m, n)
      backend.disposeData(swapped.dataId);
      return { ...out, shape: outShape };
    }
  }
  const temporaries: tf.TensorInfo[] = [];
  // Bring both operands to the layout XNNPACK's path wants: A (batch, m, k), B (batch, k, n), contiguous.
  let aInfo = a;
  if (transposeA) {
    aInfo = transposeLastTwo(a, batchA, k, m, backend);
    temporaries.push(aInfo);
  }
  let bInfo = b;
  if (transposeB) {
    bInfo = transposeLastTwo(b, batchB, n, k, backend);
    temporaries.push(bInfo);
  }
  const out = backend.makeOutput(outShape, 'float32');
  const matMul = wasmMatMulOf(backend);
  const aData = backend.dataIdMap.get(aInfo.dataId);
  const bData = backend.dataIdMap.get(bInfo.dataId);
  const outData = backend.dataIdMap.get(out.dataId);
  if (batchB === 1) {
    // One weight matrix for every batch entry: the batch folds into the rows of a single 2D product.
    matMul(aData.id, shapeBytes([1, batch * m, k]), 3, bData.id, shapeBytes([1, k, n]), 3, 0, 0, outData.id);
  } else {
    const aShape = shapeBytes([1, m, k]);
    const bShape = shapeBytes([1, k, n]);
    const views: number[] = [];
    const view = (offset: number, size: number): number => {
      const id = backend.dataIdNextNumber++;
      backend.wasm.tfjs.registerTensor(id, size, offset);
      views.push(id);
      return id;
    };
    try {
      for (let i = 0; i < batch; i++) {
        const aId = batchA === 1 ? aData.id : view(aData.memoryOffset + 4 * i * m * k, m * k);
        const bId = view(bData.memoryOffset + 4 * i * k * n, k * n);
        const outId = view(outData.memoryOffset + 4 * i * m * n, m * n);
        matMul(aId, aShape, 3, bId, bShape, 3, 0, 0, outId);
        // Disposing the weight view right away also drops the XNNPACK operator packed for it.
        while (views.length > 0) backend.wasm.tfjs.disposeData(views.pop()!);
      }
    } finally {
      while (views.length > 0) backend.wasm.tfjs.disposeData(views.pop()!);
    }
  }
  for (const t of temporaries) backend.disposeData(t.dataId);
  return out;
}

let registered = false;

/** Registers `fastBatchMatMulKernelName` for the wasm backend (idempotent). */
export function registerFastWasmMatMul(): void {
  if (registered) return;
  registered = true;
  const stock = tf.getKernel('BatchMatMul', 'wasm');
  if (!stock) {
    // tfjs-backend-wasm registers its kernels when imported; without it there is nothing to accelerate.
    registered = false;
    return;
  }
  tf.registerKernel({
    kernelName: fastBatchMatMulKernelName,
    backendName: 'wasm',
    kernelFunc: (args) => fastBatchMatMul(args, stock.kernelFunc),
  });
}

/**
 * The first remedy alone, for measurements: materialise transposed operands with the Transpose kernel, then
 * run the stock kernel without transpose flags. Batch-1 products then reach XNNPACK; batched ones still do not.
 */
export function transposeThenStockMatMul(
  args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap },
  stock: tf.KernelFunc,
): tf.TensorInfo {
  const a = args.inputs['a']!;
  const b = args.inputs['b']!;
  const transposeA = Boolean(args.attrs?.['transposeA']);
  const transposeB = Boolean(args.attrs?.['transposeB']);
  const backend = args.backend as WasmBackendInternals;
  if ((!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return stock(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  }
  const { batchA, batchB, m, k, n } = productShape(a, b, transposeA, transposeB);
  const aInfo = transposeA ? transposeLastTwo(a, batchA, k, m, backend) : a;
  const bInfo = transposeB ? transposeLastTwo(b, batchB, n, k, backend) : b;
  const a3: tf.TensorInfo = { dataId: aInfo.dataId, shape: [...a.shape.slice(0, -2), m, k], dtype: 'float32' };
  const b3: tf.TensorInfo = { dataId: bInfo.dataId, shape: [...b.shape.slice(0, -2), k, n], dtype: 'float32' };
  const out = stock({
    inputs: { a: a3, b: b3 },
    backend: args.backend as tf.KernelBackend,
    attrs: { transposeA: false, transposeB: false },
  }) as tf.TensorInfo;
  if (transposeA) backend.disposeData(aInfo.dataId);
  if (transposeB) backend.disposeData(bInfo.dataId);
  return out;
}

/** Which kernel replaces the stock wasm BatchMatMul: the full fast one, or only the transpose remedy. */
export type WasmMatMulOverride = 'xnn' | 'transpose';

let overridden: tf.KernelConfig | null = null;

/**
 * Replaces the wasm backend's stock `BatchMatMul` for every tf.matMul in the process (including TF.js's own
 * matMul gradient), with the fast kernel ('xnn', default) or only the transpose remedy ('transpose', for
 * measurements). Call after importing tfjs-backend-wasm; undo with `restoreStockWasmMatMul`. Returns false
 * when the wasm backend is not loaded.
 */
export function overrideWasmBatchMatMul(variant: WasmMatMulOverride = 'xnn'): boolean {
  const stock = overridden ?? tf.getKernel('BatchMatMul', 'wasm');
  if (!stock) return false;
  if (overridden) tf.unregisterKernel('BatchMatMul', 'wasm');
  else {
    overridden = stock;
    tf.unregisterKernel('BatchMatMul', 'wasm');
  }
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    kernelFunc:
      variant === 'xnn'
        ? (args) => fastBatchMatMul(args, stock.kernelFunc)
        : (args) => transposeThenStockMatMul(args, stock.kernelFunc),
  });
  return true;
}

/** Puts the stock wasm `BatchMatMul` back (for A/B measurements). */
export function restoreStockWasmMatMul(): void {
  if (!overridden) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(overridden);
  overridden = null;
}

/** Whether BackendWasm is the active backend instance (type guard helper for callers). */
export function isWasmBackendActive(): boolean {
  return tf.getBackend() === 'wasm';
}

export type { BackendWasm };
