// Loader of the paper's own dataset format (docs/paper-mapping.md#data-formats): a folder of `.npz` files, one
// per lightcone, each with `image` [x, y, t] (t from low to high redshift) and `label`, a 1-D array
// whose LAST six entries are the parameters. The label order is configurable because the paper's
// code, its README and the generator that made the data disagree:
//   'code'   [m_WDM, Ω_m, E_0, log10 L_X, log10 T_vir, ζ]  (reference code and skatr; the default)
//   'readme' [m_WDM, Ω_m, log10 L_X, E_0, log10 T_vir, ζ]  (README, get_default_label_names, 3D-21cmPIE-Net)
// The zip container is read by npz_archive.ts (yauzl, with size and CRC-32 checks), so listing a folder
// reads only each file's `label` and the first bytes of `image` (its .npy header), never the voxels;
// fflate writes .npz files (tests, exports). The .npy members are decoded by our npy.ts. The README's
// key "labels" is accepted as a fallback for "label".
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { zipSync } from 'fflate';
import { openNpzArchive, readNpyMember, type NpzArchive } from './npz_archive';
import { readNpy, writeNpy, type NpyArray } from './npy';
import { byParameter, parameterNames, type AstroParams, type ParameterName } from './parameters';
import {
  DataError,
  checkFinite,
  checkParamsInPriors,
  checkRank,
  resolveSliceRange,
  xytToTxy,
  type LightconeEntry,
  type LightconeRecord,
  type LightconeSource,
  type SliceRange,
} from './lightcone_record';
import { errorReason } from '../protocol/error_message';

export type LabelOrder = 'code' | 'readme';

/** Positions of the canonical parameters inside the last six label entries, per order. */
export const labelOrders: Readonly<Record<LabelOrder, readonly ParameterName[]>> = {
  code: ['mWDM', 'omegaM', 'E0', 'log10LX', 'log10Tvir', 'zeta'],
  readme: ['mWDM', 'omegaM', 'log10LX', 'E0', 'log10Tvir', 'zeta'],
};

/** A named order, or any permutation of the six canonical names (the config's `label_order`). */
export type LabelOrderSpec = LabelOrder | readonly ParameterName[];

function orderNames(order: LabelOrderSpec): readonly ParameterName[] {
  if (typeof order === 'string') return labelOrders[order];
  if (order.length !== 6 || new Set(order).size !== 6 || order.some((n) => !parameterNames.includes(n))) {
    throw new DataError(
      `label order [${order.join(', ')}] is not a permutation of the six parameters ${parameterNames.join(', ')}.`,
    );
  }
  return order;
}

/** Reads the last six label entries in the given order into AstroParams. */
export function paramsFromLabel(label: ArrayLike<number>, order: LabelOrderSpec): AstroParams {
  const names = orderNames(order);
  const offset = label.length - 6;
  return byParameter((name) => Number(label[offset + names.indexOf(name)]));
}

/** Writes AstroParams as a six-entry label in the given order. */
export function labelFromParams(params: AstroParams, order: LabelOrderSpec = 'code'): Float64Array {
  return Float64Array.from(orderNames(order), (name) => params[name]);
}

const expectedNpz = 'an .npz file written by numpy.savez with arrays "image" [x, y, t] and "label"';

/** Opens an .npz and finds its `image` and `label` members (reading only the central directory). */
async function openLightconeNpz(file: string): Promise<{ archive: NpzArchive; image: string; label: string }> {
  const archive = await openNpzArchive(file, expectedNpz);
  const image = archive.members.has('image.npy') ? 'image.npy' : undefined;
  const label = ['label.npy', 'labels.npy'].find((name) => archive.members.has(name));
  if (!image || !label) {
    archive.zip.close();
    const have = [...archive.members.keys()].join(', ') || 'no members';
    throw new DataError(
      `${file}: .npz lacks ${image ? '"label"' : '"image"'} (found ${have}); ` +
        'expected arrays "image" [x, y, t] and "label" (last six entries = the parameters).',
    );
  }
  return { archive, image, label };
}

/** Decodes `image` and `label` of one .npz file; `headerOnly` reads just the image's .npy header. */
export async function readLightconeNpz(
  file: string,
  headerOnly = false,
): Promise<{ image?: NpyArray; imageShape: number[]; label: NpyArray }> {
  const { archive, image, label } = await openLightconeNpz(file);
  try {
    const labelMember = await readNpyMember(archive, archive.members.get(label)!);
    const labelArray = readNpy(labelMember.bytes!, `${file}:label`);
    const imageMember = await readNpyMember(archive, archive.members.get(image)!, headerOnly);
    if (headerOnly) return { imageShape: imageMember.header.shape, label: labelArray };
    const imageArray = readNpy(imageMember.bytes!, `${file}:image`);
    return { image: imageArray, imageShape: imageArray.shape, label: labelArray };
  } finally {
    archive.zip.close();
  }
}

/** Encodes a lightcone as the paper's .npz: `image` [x, y, t] float32 and `label` float64. */
export function encodeLightconeNpz(
  imageXyt: Float32Array,
  shape: [number, number, number],
  label: Float64Array,
): Uint8Array {
  return zipSync({
    'image.npy': [writeNpy(imageXyt, shape), { level: 0 }],
    'label.npy': [writeNpy(label, [label.length]), { level: 0 }],
  });
}

export interface NpzSourceOptions {
  labelOrder?: LabelOrderSpec;
  /** Skip the prior check (e.g. for data deliberately outside the paper's priors). Default false. */
  allowOutsidePriors?: boolean;
}

/** A folder of .npz lightcones. Entries are sorted by file name, never by directory order. */
export class NpzFolderSource implements LightconeSource {
  readonly description: string;
  private entries: Map<string, LightconeEntry> | undefined;

  constructor(
    private readonly folder: string,
    private readonly options: NpzSourceOptions = {},
  ) {
    this.description = `npz folder ${folder}`;
  }

  async list(): Promise<LightconeEntry[]> {
    if (!this.entries) {
      let names: string[];
      try {
        names = (await readdir(this.folder)).filter((n) => n.endsWith('.npz')).sort();
      } catch (error) {
        throw new DataError(
          `${this.folder}: cannot list the dataset folder (${errorReason(error)}); ` +
            'expected a folder of .npz files, one per lightcone.',
        );
      }
      if (names.length === 0)
        throw new DataError(`${this.folder}: no .npz files found; expected one .npz per lightcone.`);
      this.entries = new Map();
      // Listing reads each file's label and image header only, never its voxels.
      for (const name of names) {
        const file = join(this.folder, name);
        const { imageShape, label } = await readLightconeNpz(file, true);
        checkRank(imageShape, 3, file, 'image', '[x, y, t]');
        const params = this.params(label, file);
        this.entries.set(name, {
          id: name,
          shape: { nx: imageShape[0], ny: imageShape[1], nt: imageShape[2] },
          params,
        });
      }
    }
    return [...this.entries.values()];
  }

  async load(id: string, range?: SliceRange): Promise<LightconeRecord> {
    return this.readFile(basename(id), range);
  }

  close(): Promise<void> {
    this.entries = undefined;
    return Promise.resolve();
  }

  private params(label: NpyArray, file: string): AstroParams {
    if (label.shape.length !== 1 || label.shape[0] < 6) {
      throw new DataError(
        `${file}: dataset "label" has shape [${label.shape.join(', ')}]; expected a 1-D array of at least 6 entries ` +
          '(the last six are the parameters).',
      );
    }
    const order = this.options.labelOrder ?? 'code';
    const params = paramsFromLabel(label.data, order);
    const orderName = typeof order === 'object' ? order.join(',') : order;
    if (!this.options.allowOutsidePriors) checkParamsInPriors(params, file, `"label" (order ${orderName})`);
    return params;
  }

  private async readFile(name: string, range: SliceRange | undefined): Promise<LightconeRecord> {
    const file = join(this.folder, name);
    const { image, label } = await readLightconeNpz(file);
    checkRank(image!.shape, 3, file, 'image', '[x, y, t]');
    const params = this.params(label, file);
    const [nx, ny, ntFull] = image!.shape;
    const { start, end } = resolveSliceRange(range, ntFull, file);
    const full = xytToTxy(image!.data, nx, ny, ntFull);
    const brightness = start === 0 && end === ntFull ? full : full.slice(start * nx * ny, end * nx * ny);
    checkFinite(brightness, file, 'image');
    return { id: name, brightness, shape: { nx, ny, nt: end - start }, params, source: file, firstSlice: start };
  }
}
