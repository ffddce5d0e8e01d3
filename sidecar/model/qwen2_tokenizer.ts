// The checkpoint's tokenizer (`tokenizer.json`, read by @huggingface/tokenizers) and the ids the prompt
// templates need: the ChatML tokens <|im_start|> and <|im_end|>, the role words and the newline, exactly as
// Qwen2.5's chat template writes "<|im_start|>system\n...<|im_end|>\n".
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { errorMessage } from '../protocol/error_message';

export interface ChatTokenIds {
  imStart: number;
  imEnd: number;
  system: number;
  user: number;
  assistant: number;
  newline: number;
}

export class Qwen2Tokenizer {
  constructor(
    readonly tokenizer: Tokenizer,
    readonly source: string,
  ) {}

  /** Reads `<folder>/tokenizer.json` (and tokenizer_config.json when present). */
  static fromFolder(folder: string): Qwen2Tokenizer {
    const path = join(folder, 'tokenizer.json');
    if (!existsSync(path))
      throw new Error(`Checkpoint folder ${folder} has no tokenizer.json; copy it from the model's repository.`);
    const configPath = join(folder, 'tokenizer_config.json');
    let json: unknown;
    let config: unknown = {};
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
      if (existsSync(configPath)) config = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (cause) {
      throw new Error(`${path}: not valid JSON (${errorMessage(cause)}).`, { cause });
    }
    try {
      return new Qwen2Tokenizer(new Tokenizer(json as object, config as object), path);
    } catch (cause) {
      throw new Error(`${path}: @huggingface/tokenizers cannot read it (${errorMessage(cause)}).`, { cause });
    }
  }

  /** Token ids of `text`, without special tokens added around it. */
  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: number[]): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: false });
  }

  /** The id of a token that must exist as one vocabulary entry. */
  tokenId(token: string): number {
    const id = this.tokenizer.token_to_id(token);
    if (id === undefined) throw new Error(`${this.source}: token ${JSON.stringify(token)} is not in the vocabulary.`);
    return id;
  }

  /** The id of a piece of text that must encode to exactly one token (role words, newline). */
  singleTokenId(text: string): number {
    const ids = this.encode(text);
    if (ids.length !== 1) {
      throw new Error(
        `${this.source}: ${JSON.stringify(text)} encodes to ${ids.length} tokens [${ids.join(', ')}], ` +
          'but the chat template needs it as one token; is this a Qwen2 tokenizer?',
      );
    }
    return ids[0];
  }

  chatTokenIds(): ChatTokenIds {
    return {
      imStart: this.tokenId('<|im_start|>'),
      imEnd: this.tokenId('<|im_end|>'),
      system: this.singleTokenId('system'),
      user: this.singleTokenId('user'),
      assistant: this.singleTokenId('assistant'),
      newline: this.singleTokenId('\n'),
    };
  }
}
