// Driver of one lightcone simulation (SIMULATOR.md §2). Being implemented; the API is fixed in types.ts.
import type { AstroParams } from '../parameters';
import type { Lightcone, SimulateOptions } from './types';

export async function simulateLightcone(params: AstroParams, options: SimulateOptions): Promise<Lightcone> {
  void params;
  void options;
  throw new Error('simulateLightcone: the simulator pipeline is not committed yet (API contract only)');
}
