// The checkpoint tokenizer through @huggingface/tokenizers, on a tiny byte-level BPE tokenizer.json in Qwen's
// style (written here): chat-token ids, role words and newline as single tokens, clear errors otherwise.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Qwen2Tokenizer } from '../../sidecar/model/qwen2_tokenizer';
import { tinyTokenizerJson } from '../integration/train_fixture';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'l3m-tok-'));
  writeFileSync(
    join(dir, 'tokenizer.json'),
    JSON.stringify(tinyTokenizerJson(['system', 'user', 'assistant', 'hello'])),
  );
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
  assert.deepEqual(tokenizer.encode('<|im_start|>user\nhello<|im_end|>'), [
    ids.imStart,
    ids.user,
    ids.newline,
    tokenizer.singleTokenId('hello'),
    ids.imEnd,
  ]);
});

test('missing file, missing tokens and multi-token role words are clear errors', () => {
  assert.throws(() => Qwen2Tokenizer.fromFolder(join(dir, 'nowhere')), /has no tokenizer.json/);
  const other = join(dir, 'other');
  rmSync(other, { recursive: true, force: true });
  mkdirSync(other);
  writeFileSync(join(other, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson(['system', 'user'])));
  const tokenizer = Qwen2Tokenizer.fromFolder(other);
  assert.throws(() => tokenizer.singleTokenId('assistant'), /"assistant" encodes to \d+ tokens/);
  assert.throws(() => tokenizer.tokenId('<|lc_start|>'), /not in the vocabulary/);
});
