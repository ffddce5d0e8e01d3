// The generation prompt (paper Sec. 5.1; reference generation/dataset.py `_get_static_inputs`,
// docs/paper-mapping.md#generation) as a prefix of segments followed by the lightcone tokens:
//   chat     <|im_start|>system\n[<|system-prompt-token|>×k]<|im_end|>\n<|im_start|>user\n
//            <|parameter_0|>…<|parameter_5|><|time_step|><|im_end|>\n<|im_start|>assistant\n<|lightcone-token|>
//   minimal  <|parameter_0|>…<|parameter_5|><|time_step|><|lightcone-token|>   (no chat tokens)
// then, per slice, [patch × cols, <|nl_1|>] × rows, <|nl_2|> (tokenization.ts, the paper's naming).
// Each <|parameter_i|> carries its normalised value through its own connector, and <|time_step|> the
// window's start slice through the t-index connector. Unlike the reference, the time-step vector IS
// written into the input (its bug leaves the model without absolute time, docs/paper-mapping.md#diff-t-index); with
// `connectors.t_index.enabled = false` the token is left out. The lightcone is always last, so
// autoregressive sampling only ever appends. <|nl_1|>, <|nl_2|>, <|lightcone-token|> and the system
// tokens are trainable vectors; chat pieces are the tokenizer's frozen embeddings on a pretrained
// backbone and trainable stand-ins on a random one (as in the regression prompt).
import type { ChatTokenIds } from '../../model/qwen2_tokenizer';
import { tokensPerSlice } from '../../data/tokenization';

export type GenerationTemplateName = 'minimal' | 'chat' | 'chat_trainable';

export type GenerationSegment =
  | { kind: 'text'; ids: number[] }
  | { kind: 'trainable'; names: string[] }
  | { kind: 'parameter'; index: number }
  | { kind: 'time_step' };

export const lightconeStartName = '<|lightcone-token|>';
export const rowSeparatorName = '<|nl_1|>';
export const sliceSeparatorName = '<|nl_2|>';
export const systemTokenName = (i: number) => `<|system-prompt-token|>${i}`;

const standIns = {
  imStart: '<|im_start|>',
  imEnd: '<|im_end|>',
  system: 'system',
  user: 'user',
  assistant: 'assistant',
  newline: '\\n',
} as const;

export interface GenerationPromptOptions {
  template: GenerationTemplateName;
  /** chat_trainable: number of trainable system-prompt vectors. */
  systemTokens: number;
  /** Include the <|time_step|> token (connectors.t_index.enabled). */
  timeStep: boolean;
  /** Tokenizer ids of a pretrained backbone; null on a random backbone. */
  chatIds: ChatTokenIds | null;
}

/** The prompt prefix, ending with <|lightcone-token|>; adjacent text or trainable pieces merged. */
export function buildGenerationPrompt(options: GenerationPromptOptions): GenerationSegment[] {
  if (!['minimal', 'chat', 'chat_trainable'].includes(options.template)) {
    throw new Error(
      `Prompt template "${String(options.template)}" is unknown; choose minimal, chat or chat_trainable.`,
    );
  }
  if (!Number.isInteger(options.systemTokens) || options.systemTokens < 0) {
    throw new Error(`prompt.trainable_system_tokens must be an integer ≥ 0, got ${options.systemTokens}.`);
  }
  const segments: GenerationSegment[] = [];
  const push = (segment: GenerationSegment) => {
    const last = segments[segments.length - 1];
    if (segment.kind === 'text' && last?.kind === 'text') last.ids.push(...segment.ids);
    else if (segment.kind === 'trainable' && last?.kind === 'trainable') last.names.push(...segment.names);
    else
      segments.push(
        segment.kind === 'text'
          ? { kind: 'text', ids: [...segment.ids] }
          : segment.kind === 'trainable'
            ? { kind: 'trainable', names: [...segment.names] }
            : segment,
      );
  };
  const piece = (key: keyof typeof standIns) =>
    push(
      options.chatIds ? { kind: 'text', ids: [options.chatIds[key]] } : { kind: 'trainable', names: [standIns[key]] },
    );
  const conditioning = () => {
    for (let i = 0; i < 6; i++) push({ kind: 'parameter', index: i });
    if (options.timeStep) push({ kind: 'time_step' });
  };
  if (options.template === 'minimal') {
    conditioning();
  } else {
    piece('imStart');
    piece('system');
    piece('newline');
    if (options.template === 'chat_trainable' && options.systemTokens > 0) {
      push({ kind: 'trainable', names: Array.from({ length: options.systemTokens }, (_, i) => systemTokenName(i)) });
    }
    piece('imEnd');
    piece('newline');
    piece('imStart');
    piece('user');
    piece('newline');
    conditioning();
    piece('imEnd');
    piece('newline');
    piece('imStart');
    piece('assistant');
    piece('newline');
  }
  push({ kind: 'trainable', names: [lightconeStartName] });
  return segments;
}

/** Tokens in the prefix. */
export function prefixLength(segments: readonly GenerationSegment[]): number {
  return segments.reduce(
    (n, s) => n + (s.kind === 'text' ? s.ids.length : s.kind === 'trainable' ? s.names.length : 1),
    0,
  );
}

/** Every trainable vector the model needs: the prompt's plus the two separators, in first-use order. */
export function generationTrainableNames(segments: readonly GenerationSegment[]): string[] {
  const names: string[] = [];
  for (const s of segments) if (s.kind === 'trainable') for (const n of s.names) if (!names.includes(n)) names.push(n);
  for (const n of [rowSeparatorName, sliceSeparatorName]) if (!names.includes(n)) names.push(n);
  return names;
}

/** Sequence length of a prompt with `slices` slices of rows×cols patches. */
export function sequenceLength(
  segments: readonly GenerationSegment[],
  slices: number,
  rows: number,
  cols: number,
): number {
  return prefixLength(segments) + slices * tokensPerSlice(rows, cols);
}

/**
 * The tokens to feed after sampling patch (row, col) of a slice, besides the patch itself: the row
 * separator after the last patch of a row, and the slice separator after the last row.
 */
export function separatorsAfter(row: number, col: number, rows: number, cols: number): ('row' | 'slice')[] {
  if (col < cols - 1) return [];
  return row < rows - 1 ? ['row'] : ['row', 'slice'];
}

/** The normalised time-step value of a window starting at `startSlice`: start/scale − ½, the reference's (t − 1175)/2350 for scale 2350. */
export function timeStepValue(startSlice: number, sliceScale: number): number {
  if (!(sliceScale > 0)) throw new Error(`timeStepValue: the slice scale must be positive, got ${sliceScale}.`);
  return startSlice / sliceScale - 0.5;
}
