// Every task the jobs can run, in one place: a new task registers its definition here and lives in
// tasks/<name>/; nothing else names it.
import type { TaskDefinition } from './task_definition';
import { regressionDefinition } from './regression/regression_definition';
import { generationDefinition } from './generation/generation_definition';

const definitions: readonly TaskDefinition[] = [regressionDefinition, generationDefinition];

/** The names of the registered tasks (those `which` accepts), in registration order. */
export function taskNames(which: (definition: TaskDefinition) => boolean = () => true): string[] {
  return definitions.filter(which).map((definition) => definition.name);
}

/** Every registered definition. */
export function taskDefinitions(): readonly TaskDefinition[] {
  return definitions;
}

/**
 * The definition of `task` (a config's "task"); `source` names where it came from (a run's config.json),
 * so that an unknown task is reported with its place and the tasks this version knows.
 */
export function taskDefinition(task: unknown, source: string): TaskDefinition {
  const found = definitions.find((definition) => definition.name === task);
  if (!found) {
    throw new Error(
      `${source} has task ${JSON.stringify(task)}, which this version of L3M Studio does not know; the known tasks are ${taskNames()
        .map((name) => `"${name}"`)
        .join(', ')}.`,
    );
  }
  return found;
}
