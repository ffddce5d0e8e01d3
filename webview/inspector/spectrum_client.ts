// The page's side of the power-spectrum worker (spectrum_worker.ts). A slider drag asks for the
// spectra of many slices in a row; only the newest request waits while one is computed, so the
// spectra catch up with the slider instead of trailing it through every slice it passed. Where no
// worker can be started (a webview whose policy forbids blob: workers), the spectra are computed on
// the page after the slice is shown, as before the worker existed, and `mode` says so.
import { powerSpectrum2d, type PowerSpectrum } from '../shared/power_spectrum';
import { benchMark } from '../shared/bench_marks';
import type { SpectrumReply, SpectrumRequest, SpectrumSlice } from './spectrum_messages';

/** The worker bundle's source, put in by esbuild.mjs's `define`; absent when this file is not bundled by it. */
declare const L3M_SPECTRUM_WORKER_SOURCE: string | undefined;

export type SpectrumMode = 'worker' | 'main-thread';

export class SpectrumClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private inFlight: number | null = null;
  private pending: SpectrumRequest | null = null;
  private frame = 0;
  /** The tag of each request sent to the worker, by the id it was sent under. */
  private readonly tags = new Map<number, number>();
  /** Why the spectra are computed on the page's thread; null while the worker does it. */
  fallbackReason: string | null = null;

  /** `onSpectra` gets each answer with the tag of its request (the slice it is for). */
  constructor(private readonly onSpectra: (spectra: (PowerSpectrum | null)[], tag: number) => void) {
    this.use('worker');
  }

  get mode(): SpectrumMode {
    return this.worker ? 'worker' : 'main-thread';
  }

  /** Chooses where the spectra are computed (bench/panels compares both on the same page). */
  use(mode: SpectrumMode): void {
    this.worker?.terminate();
    this.worker = null;
    this.inFlight = null;
    if (mode === 'main-thread') {
      this.fallbackReason = 'the page chose the main thread';
      return;
    }
    try {
      const source = typeof L3M_SPECTRUM_WORKER_SOURCE === 'string' ? L3M_SPECTRUM_WORKER_SOURCE : null;
      if (!source) throw new Error('the worker bundle was not built into this page');
      const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
      const worker = new Worker(url);
      URL.revokeObjectURL(url);
      worker.onmessage = (event: MessageEvent<SpectrumReply>) => this.received(event.data);
      worker.onerror = (event) => this.fallBack(`the worker failed: ${event.message || 'unknown error'}`);
      this.worker = worker;
      this.fallbackReason = null;
    } catch (error) {
      this.fallbackReason = `no worker could be started: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  /** Asks for the spectra of `slices`; the answer comes to onSpectra with `tag`. */
  request(slices: (SpectrumSlice | null)[], tag: number): void {
    const request: SpectrumRequest = { id: tag, slices };
    if (!this.worker) {
      // After the frame with the new slice is shown, so that the slider stays responsive.
      this.pending = request;
      cancelAnimationFrame(this.frame);
      this.frame = requestAnimationFrame(() => this.computeHere());
      return;
    }
    if (this.inFlight !== null) {
      this.pending = request;
      return;
    }
    this.send(request);
  }

  private send(request: SpectrumRequest): void {
    if (!this.worker) return;
    this.inFlight = this.nextId++;
    const transfer = request.slices.flatMap((s) => (s ? [s.values.buffer] : []));
    this.worker.postMessage({ id: this.inFlight, slices: request.slices } satisfies SpectrumRequest, transfer);
    this.tags.set(this.inFlight, request.id);
  }

  private received(reply: SpectrumReply): void {
    const tag = this.tags.get(reply.id);
    this.tags.delete(reply.id);
    if (reply.id === this.inFlight) this.inFlight = null;
    benchMark('l3m-spectrum-start');
    if (tag !== undefined) this.onSpectra(reply.spectra, tag);
    benchMark('l3m-spectrum-end');
    const next = this.pending;
    this.pending = null;
    if (next) this.send(next);
  }

  private computeHere(): void {
    const request = this.pending;
    this.pending = null;
    if (!request) return;
    benchMark('l3m-spectrum-start');
    const spectra = request.slices.map((s) => (s ? powerSpectrum2d(s.values, 0, s.rows, s.cols) : null));
    this.onSpectra(spectra, request.id);
    benchMark('l3m-spectrum-end');
  }

  private fallBack(reason: string): void {
    this.worker?.terminate();
    this.worker = null;
    this.inFlight = null;
    this.fallbackReason = reason;
    this.tags.clear();
    if (this.pending) this.request(this.pending.slices, this.pending.id);
  }
}
