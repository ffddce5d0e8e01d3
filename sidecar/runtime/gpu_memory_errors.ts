// GPU out-of-memory, told apart from other failures and reported with what to change.
//
// The two GPU backends report it differently:
//   - cuda (tfjs-node-gpu): TensorFlow throws at once, "OOM when allocating tensor with shape[64,48,128] …"
//     (a ResourceExhaustedError);
//   - webgpu (Dawn): nothing is thrown. An allocation beyond the device's limits (maxBufferSize,
//     maxStorageBufferBindingSize) or beyond its memory yields an invalid buffer and a GPUValidationError or
//     GPUOutOfMemoryError delivered later to the device's "uncapturederror" event; every kernel that uses the
//     buffer is skipped and reads return zeros. A step would go on with a loss of 0 and write zeros into the
//     weights, so the device's errors are collected here and must be checked after each step and before
//     each checkpoint (throwIfDeviceFailed), which keeps the last checkpoint as it was.
import * as tf from '@tensorflow/tfjs';

/** An error the GPU device reported, in the order it came. */
export interface DeviceError {
  kind: string;
  message: string;
}

/** What the GPU was doing when it failed: a training step, or the validation that follows some steps. */
export type DeviceWork = 'training' | 'validation';

/** The run failed because the GPU had no memory (or no buffer) for a tensor. */
export class GpuOutOfMemoryError extends Error {
  constructor(
    readonly step: number,
    readonly shapes: string,
    readonly said: string,
    readonly batchSize: number | null,
    readonly during: DeviceWork = 'training',
  ) {
    const now = batchSize !== null ? ` (now ${batchSize})` : '';
    super(
      during === 'training'
        ? `The GPU ran out of memory at step ${step} (batch tensors ${shapes}): ${said}. ` +
            `Lower training.batch_size${now} and raise training.gradient_accumulation_steps to keep the effective batch, ` +
            'or shorten the sequences or the model; the last checkpoint is as it was, and the run resumes from it.'
        : `The GPU ran out of memory validating at step ${step} (batch tensors ${shapes}): ${said}. ` +
            `Lower evaluation.batch_size${now}, which validation and the test evaluation use; the last checkpoint is as it was, and the run resumes from it.`,
    );
    this.name = 'GpuOutOfMemoryError';
  }
}

/** The GPU device reported another error (a kernel it refused): the step's results are not usable. */
export class GpuDeviceError extends Error {
  constructor(
    readonly step: number,
    readonly said: string,
    readonly during: DeviceWork = 'training',
  ) {
    super(
      `The GPU device reported an error ${during === 'training' ? 'at' : 'validating at'} step ${step}: ${said}; ` +
        'the results are not usable, and the last checkpoint is as it was.',
    );
    this.name = 'GpuDeviceError';
  }
}

// TensorFlow's ResourceExhausted text, Dawn's out-of-memory and over-the-limit allocation messages.
const outOfMemoryText =
  /OOM when allocating|ResourceExhausted|out of memory|GPUOutOfMemoryError|exceeds the max buffer size|larger than the maximum storage buffer binding size|Failed to allocate/i;

/** Whether an error (thrown, or reported by the device) says the GPU had no room for a tensor. */
export function isOutOfMemory(error: { name?: string; message?: string } | string): boolean {
  const text = typeof error === 'string' ? error : `${error.name ?? ''} ${error.message ?? ''}`;
  return outOfMemoryText.test(text);
}

/** The first line of each device error, without Dawn's call-stack lines ("- While calling …"). */
function summary(errors: readonly DeviceError[]): string {
  const first = errors[0];
  const line = first.message.split('\n')[0].trim();
  return `${first.kind}: ${line}${errors.length > 1 ? ` (and ${errors.length - 1} later error${errors.length > 2 ? 's' : ''} from it)` : ''}`;
}

interface EventDevice {
  addEventListener(
    type: 'uncapturederror',
    listener: (event: { error?: { constructor?: { name?: string }; message?: string } }) => void,
  ): void;
}

function isEventDevice(value: unknown): value is EventDevice {
  return typeof value === 'object' && value !== null && typeof Reflect.get(value, 'addEventListener') === 'function';
}

const watched = new WeakSet<object>();
const pending: DeviceError[] = [];

/**
 * Collects the errors of the active webgpu backend's device from now on; a no-op on other backends.
 * Returns whether a device is watched.
 */
export function watchGpuDevice(): boolean {
  if (tf.getBackend() !== 'webgpu') return false;
  const device: unknown = Reflect.get(tf.backend(), 'device');
  if (!isEventDevice(device)) return false;
  if (watched.has(device)) return true;
  watched.add(device);
  device.addEventListener('uncapturederror', (event) => {
    pending.push({
      kind: event.error?.constructor?.name ?? 'GPUError',
      message: event.error?.message ?? 'no message',
    });
  });
  return true;
}

/** Takes the errors reported since the last call. Device errors arrive on the event loop, so await a read first. */
export function takeDeviceErrors(): DeviceError[] {
  return pending.splice(0, pending.length);
}

/** The shapes of the tensors in a batch (a tensor, or an object or array holding tensors), for a message. */
export function batchShapes(batch: unknown): string {
  const found: string[] = [];
  const visit = (value: unknown, name: string, depth: number): void => {
    if (value instanceof tf.Tensor) {
      const shape: unknown = Reflect.get(value, 'shape');
      found.push(`${name} [${Array.isArray(shape) ? shape.join(', ') : '?'}]`);
    } else if (depth < 3 && Array.isArray(value)) value.forEach((item, i) => visit(item, `${name}[${i}]`, depth + 1));
    else if (depth < 3 && typeof value === 'object' && value !== null)
      for (const [key, item] of Object.entries(value)) visit(item, name ? `${name}.${key}` : key, depth + 1);
  };
  visit(batch, '', 0);
  return found.length > 0 ? found.join(', ') : 'none';
}

/**
 * Throws when the GPU device reported an error since the last check: GpuOutOfMemoryError (with the step,
 * the batch's shapes and the fix) for an allocation it could not make, else an Error with the device's
 * message. Call it after awaiting a read of the step's result, so that the device's events have arrived.
 * `batch` is the step's batch (tensors), or batchShapes' description of it once the batch is disposed;
 * `during` says which batch size the fix names.
 */
export function throwIfDeviceFailed(
  step: number,
  batch: unknown,
  batchSize: number | null = null,
  during: DeviceWork = 'training',
): void {
  const errors = takeDeviceErrors();
  if (errors.length === 0) return;
  if (errors.some((e) => isOutOfMemory(`${e.kind} ${e.message}`)))
    throw new GpuOutOfMemoryError(
      step,
      typeof batch === 'string' ? batch : batchShapes(batch),
      summary(errors),
      batchSize,
      during,
    );
  throw new GpuDeviceError(step, summary(errors), during);
}
