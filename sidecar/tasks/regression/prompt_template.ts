// The three prompt templates of the paper's Sec. 4.1 for the regression task, as a list of segments
// that the regression model turns into input vectors:
//   minimal         <lightcone tokens> <|ska-param|>   (reference `minimalistic_chat_template`:
//                   "{sys}{pre_lc}<|lightcone_1|><|ska_param|>" with no sys/pre_lc tokens)
//   chat            <|im_start|>system\n<|im_end|>\n<|im_start|>user\n<lightcone><|im_end|>\n
//                   <|im_start|>assistant\n<|ska-param|>   (Qwen's chat template with an empty system turn,
//                   add_generation_prompt, then the summary token: reference regression/dataset.py)
//   chat_trainable  the same with k trainable <|system-prompt-token|> vectors as the system turn and
//                   m trainable <|lightcone-token|> vectors before the lightcone (reference
//                   num_sys_prompt_tokens / num_pre_lc_tokens)
// Text pieces come from the tokenizer of a pretrained backbone (frozen embedding rows). A random backbone
// has no meaningful embedding for them, so each piece is then a trainable stand-in vector instead.
// The summary token is always last, so the model reads the hidden state at the final position.

import type { ChatTokenIds } from '../../model/qwen2_tokenizer';

export type { ChatTokenIds };

export type PromptTemplateName = 'minimal' | 'chat' | 'chat_trainable';

export type PromptSegment =
  { kind: 'text'; ids: number[] } | { kind: 'trainable'; names: string[] } | { kind: 'lightcone' };

export const summaryTokenName = '<|ska-param|>';
export const systemPromptTokenName = (i: number) => `<|system-prompt-token|>${i}`;
export const lightconeMarkerName = (i: number) => `<|lightcone-token|>${i}`;

/** The stand-in names used for chat pieces on a random backbone. */
const standIn = {
  imStart: '<|im_start|>',
  imEnd: '<|im_end|>',
  system: 'system',
  user: 'user',
  assistant: 'assistant',
  newline: '\\n',
} as const;

export interface PromptOptions {
  template: PromptTemplateName;
  /** chat_trainable: number of <|system-prompt-token|> vectors. */
  systemTokens: number;
  /** chat_trainable: number of <|lightcone-token|> vectors. */
  lightconeTokens: number;
  /** Tokenizer ids for a pretrained backbone; null on a random backbone (trainable stand-ins). */
  chatIds: ChatTokenIds | null;
}

/** The prompt as segments, adjacent segments of the same kind merged. */
export function buildPrompt(options: PromptOptions): PromptSegment[] {
  const segments: PromptSegment[] = [];
  const push = (segment: PromptSegment) => {
    const last = segments[segments.length - 1];
    if (segment.kind === 'text' && last?.kind === 'text') {
      last.ids.push(...segment.ids);
      return;
    }
    if (segment.kind === 'trainable' && last?.kind === 'trainable') {
      last.names.push(...segment.names);
      return;
    }
    segments.push(
      segment.kind === 'text'
        ? { kind: 'text', ids: [...segment.ids] }
        : segment.kind === 'trainable'
          ? { kind: 'trainable', names: [...segment.names] }
          : { kind: 'lightcone' },
    );
  };
  const piece = (key: keyof typeof standIn) => {
    if (options.chatIds === null) push({ kind: 'trainable', names: [standIn[key]] });
    else {
      push({ kind: 'text', ids: [options.chatIds[key]] });
    }
  };
  const { template } = options;
  if (template !== 'minimal' && template !== 'chat' && template !== 'chat_trainable') {
    throw new Error(`Prompt template "${String(template)}" is unknown; choose minimal, chat or chat_trainable.`);
  }
  if (template === 'chat_trainable') {
    for (const [label, count] of [
      ['trainable_system_tokens', options.systemTokens],
      ['trainable_lightcone_tokens', options.lightconeTokens],
    ] as const) {
      if (!Number.isInteger(count) || count < 0)
        throw new Error(`prompt.${label} must be an integer ≥ 0, got ${count}.`);
    }
  }
  if (template === 'minimal') {
    push({ kind: 'lightcone' });
  } else {
    piece('imStart');
    piece('system');
    piece('newline');
    if (template === 'chat_trainable' && options.systemTokens > 0) {
      push({
        kind: 'trainable',
        names: Array.from({ length: options.systemTokens }, (_, i) => systemPromptTokenName(i)),
      });
    }
    piece('imEnd');
    piece('newline');
    piece('imStart');
    piece('user');
    piece('newline');
    if (template === 'chat_trainable' && options.lightconeTokens > 0) {
      push({
        kind: 'trainable',
        names: Array.from({ length: options.lightconeTokens }, (_, i) => lightconeMarkerName(i)),
      });
    }
    push({ kind: 'lightcone' });
    piece('imEnd');
    piece('newline');
    piece('imStart');
    piece('assistant');
    piece('newline');
  }
  push({ kind: 'trainable', names: [summaryTokenName] });
  return segments;
}

/** Every trainable token name a prompt uses, in first-use order. */
export function trainableTokenNames(segments: readonly PromptSegment[]): string[] {
  const names: string[] = [];
  for (const segment of segments) {
    if (segment.kind !== 'trainable') continue;
    for (const name of segment.names) if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** Sequence length of a prompt around `lightconeTokens` lightcone tokens. */
export function promptLength(segments: readonly PromptSegment[], lightconeTokens: number): number {
  return segments.reduce(
    (sum, s) => sum + (s.kind === 'text' ? s.ids.length : s.kind === 'trainable' ? s.names.length : lightconeTokens),
    0,
  );
}
