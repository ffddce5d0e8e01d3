// The checkpoint tokenizer through @huggingface/tokenizers, on a tiny byte-level BPE tokenizer.json in Qwen's
// style (written here): chat-token ids, role words and newline as single tokens, clear errors otherwise.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Qwen2Tokenizer } from '../../sidecar/model/qwen2_tokenizer';

let dir: string;

/** A byte-level BPE whose merges build exactly `words` (left to right), plus Ġ (space) and Ċ (newline). */
function tinyTokenizer(words: string[]): object {
  const vocab: Record<string, number> = {};
  const merges: string[] = [];
  const add = (token: string) => { if (!(token in vocab)) vocab[token] = Object.keys(vocab).length; };
  for (const word of words) for (const ch of word) add(ch);
  add('Ġ');
  add('Ċ');
  for (const word of words) {
    for (let i = 2; i <= word.length; i++) {
      const merge = `${word.slice(0, i - 1)} ${word[i - 1]}`;
      if (!merges.includes(merge)) merges.push(merge);
      add(word.slice(0, i));
    }
  }
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const next = Object.keys(vocab).length;
  return {
    version: '1.0',
    added_tokens: [special('<|endoftext|>', next), special('<|im_start|>', next + 1), special('<|im_end|>', next + 2)],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, vocab, merges },
  };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'l3m-tok-'));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizer(['system', 'user', 'assistant', 'hello'])));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('chat token ids: <|im_start|>, <|im_end|>, role words and newline', () => {
  const tokenizer = Qwen2Tokenizer.fromFolder(dir);
  const ids = tokenizer.chatTokenIds();
  assert.equal(ids.imStart, tokenizer.tokenId('<|im_start|>'));
  assert.equal(ids.imEnd, ids.imStart + 1);
  assert.equal(tokenizer.decode([ids.system]), 'system');
  assert.equal(tokenizer.decode([ids.assistant]), 'assistant');
  assert.equal(tokenizer.decode([ids.newline]), '\n');
  // The ChatML header encodes as the special token, the role word and the newline, as Qwen's template.
  assert.deepEqual(tokenizer.encode('<|im_start|>user\nhello<|im_end|>'),
    [ids.imStart, ids.user, ids.newline, tokenizer.singleTokenId('hello'), ids.imEnd]);
});

test('missing file, missing tokens and multi-token role words are clear errors', () => {
  assert.throws(() => Qwen2Tokenizer.fromFolder(join(dir, 'nowhere')), /has no tokenizer.json/);
  const other = join(dir, 'other');
  rmSync(other, { recursive: true, force: true });
  mkdirSync(other);
  writeFileSync(join(other, 'tokenizer.json'), JSON.stringify(tinyTokenizer(['system', 'user'])));
  const tokenizer = Qwen2Tokenizer.fromFolder(other);
  assert.throws(() => tokenizer.singleTokenId('assistant'), /"assistant" encodes to \d+ tokens/);
  assert.throws(() => tokenizer.tokenId('<|lc_start|>'), /not in the vocabulary/);
});
