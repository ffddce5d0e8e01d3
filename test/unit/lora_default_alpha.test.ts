// LoRA's alpha left unset in a config means 2 × rank (a scale alpha / rank of 2), as the schema says
// and the reference code does, for every task: regression once fell back to the LoRA module's own
// default of 2, which scaled its adapters by 2 / rank (0.25 at rank 8) instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../schemas/load_config';
import { buildBackbone } from '../../sidecar/tasks/shared/backbone_setup';
import { tinyConfig, tinyGenerationData, tinyGenerationModel } from '../integration/train_fixture';

for (const task of ['regression', 'generation'] as const) {
  test(`${task}: an unset LoRA alpha scales every adapter by 2, and a set one by alpha / rank`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'l3m-lora-alpha-'));
    try {
      const base =
        task === 'regression'
          ? tinyConfig()
          : {
              ...tinyConfig(),
              name: 'tiny-generation',
              task: 'generation',
              ...tinyGenerationModel(),
              data: tinyGenerationData(),
            };
      for (const [alpha, scale] of [
        [null, 2],
        [4, 1],
      ] as const) {
        const config = {
          ...base,
          backbone: { ...(base.backbone as object), finetune: 'lora', lora: { rank: 4, alpha } },
        };
        const configPath = join(dir, `${task}.l3m.json`);
        writeFileSync(configPath, JSON.stringify(config));
        const loaded = await loadConfigFile(configPath, 'edit');
        assert.ok(loaded.config, JSON.stringify(loaded.diagnostics));
        const built = buildBackbone(loaded.config, configPath, dir, { describeMask: false });
        try {
          const scales = built.backbone.linearLayers().map(({ layer }) => layer.loraScale);
          assert.ok(scales.length > 0);
          assert.deepEqual([...new Set(scales)], [scale], `alpha ${alpha}, rank 4`);
        } finally {
          built.backbone.dispose();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
