// How many data-parallel workers a run trains on: L3M_THREADS (a sweep running K runs at once on one machine
// sets it to ⌊cores / K⌋ for each) over runtime.threads, 0 meaning every core; never more than the machine's
// cores or the batch's rows, and one on a backend that brings its own threads (cpu-native, cuda, webgpu).
// Each worker computes on one thread (the wasm backend has no thread pool under Node), so workers × threads
// per worker never exceeds the cores.

export interface WorkerCountRequest {
  /** runtime.threads of the run's config (0 = all cores). */
  configThreads: number;
  /** process.env.L3M_THREADS; unset or empty leaves runtime.threads in charge. */
  environment: string | undefined;
  /** os.availableParallelism(): the cores this process may run on. */
  cores: number;
  /** The selected backend's name. */
  backend: string;
  /** training.batch_size: each worker needs at least one row of every micro-batch. */
  batchSize: number;
}

export interface WorkerCount {
  workers: number;
  /** Where the request came from, for the log line. */
  source: 'L3M_THREADS' | 'runtime.threads';
  /** What was asked for (0 = all cores). */
  requested: number;
  /** Why the count differs from the request, each with its level (a clamp is a warning). */
  notes: { level: 'info' | 'warn'; message: string }[];
}

/** Backends whose kernels run on the calling thread, so that more workers use more cores. */
const threadBoundBackends = ['wasm', 'cpu'];

export function workerCountFor(request: WorkerCountRequest): WorkerCount {
  const fromEnvironment = request.environment !== undefined && request.environment.trim() !== '';
  const source = fromEnvironment ? 'L3M_THREADS' : 'runtime.threads';
  const requested = fromEnvironment ? environmentThreads(request.environment!) : request.configThreads;
  const notes: WorkerCount['notes'] = [];
  let workers = requested === 0 ? request.cores : requested;
  if (workers > request.cores) {
    notes.push({
      level: 'warn',
      message: `${source} asks for ${requested} threads but this machine has ${request.cores} cores; training on ${request.cores} workers (more would only take turns on the same cores).`,
    });
    workers = request.cores;
  }
  if (!threadBoundBackends.includes(request.backend) && workers > 1) {
    notes.push({
      level: 'info',
      message: `The ${request.backend} backend runs its own threads; training on one worker (${source} applies to the wasm and cpu backends).`,
    });
    workers = 1;
  }
  if (workers > request.batchSize) {
    notes.push({
      level: 'info',
      message: `training.batch_size ${request.batchSize} has fewer rows than ${workers} workers; training on ${request.batchSize} (one row each).`,
    });
    workers = request.batchSize;
  }
  return { workers: Math.max(1, workers), source, requested, notes };
}

function environmentThreads(value: string): number {
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed)) {
    throw new Error(
      `L3M_THREADS is "${value}", which is not a thread count; set it to a whole number ≥ 0 (0 = every core), or unset it to use runtime.threads.`,
    );
  }
  return Number(trimmed);
}
