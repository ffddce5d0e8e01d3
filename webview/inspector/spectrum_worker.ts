// The inspector's power-spectrum worker: computes the 2D power spectra of the slices it is sent, off
// the page's thread, so that moving the slice slider never waits for them. esbuild bundles this file
// on its own and the inspector bundle carries it as text, started from a blob: URL, since a webview
// cannot start a worker from a script of another origin and may not fetch one.
import { powerSpectrum2d } from '../shared/power_spectrum';
import type { SpectrumReply, SpectrumRequest } from './spectrum_messages';

self.onmessage = (event: MessageEvent<SpectrumRequest>) => {
  const { id, slices } = event.data;
  const reply: SpectrumReply = {
    id,
    spectra: slices.map((slice) => (slice ? powerSpectrum2d(slice.values, 0, slice.rows, slice.cols) : null)),
  };
  self.postMessage(reply);
};
