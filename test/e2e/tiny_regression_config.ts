// The tiny regression experiment that the e2e tests train from the workbench: six cones of the
// simulator's `test` preset (about a second each) and a one-block backbone on the cpu backend, so a
// run is seen running and still ends well within a minute. `steps` sets how long it stays running.

export function tinyRegressionConfig(name: string, steps: number, evaluateEvery: number) {
  return {
    name,
    task: 'regression',
    backbone: {
      source: 'random',
      finetune: 'full',
      causal: false,
      architecture: {
        hidden_size: 16,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        intermediate_size: 32,
        vocab_size: 16,
        max_position_embeddings: 128,
      },
    },
    prompt: { template: 'minimal' },
    data: {
      source: 'simulator',
      simulator: { preset: 'test', count: 6, seed: 4 },
      splits: { validation_fraction: 0.2, test_fraction: 0.2, seed: 1 },
      preprocessing: { global_signal_tokens: 8 },
    },
    training: {
      batch_size: 2,
      unit: 'steps',
      steps,
      lr: 0.01,
      schedule: { warmup: 1, decay: 2 },
      checkpoint_every: steps,
      seed: 1,
    },
    evaluation: { every: evaluateEvery, batch_size: 2, regression_samples: 10 },
    runtime: { backend: 'cpu' },
  };
}
