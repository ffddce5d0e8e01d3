// What the inspector page and its power-spectrum worker say to each other.
import type { PowerSpectrum } from '../shared/power_spectrum';

/** One slice, copied out of its lightcone so that its buffer can be transferred to the worker. */
export interface SpectrumSlice {
  values: Float32Array;
  rows: number;
  cols: number;
}

export interface SpectrumRequest {
  id: number;
  slices: (SpectrumSlice | null)[];
}

export interface SpectrumReply {
  id: number;
  spectra: (PowerSpectrum | null)[];
}
