// What the config checks need to know about the world outside the text: where the config file
// lives (relative paths in it are relative to that file), whether the user is editing or starting
// a run, and a file system. The checks stay pure because the file system is passed in; the
// language server and the CLI pass `nodeFileSystem` (schemas/node_file_system.ts), tests pass a
// map of paths.
import type { Diagnostic } from 'vscode-json-languageservice';

export type { Diagnostic };

/** The few file-system questions the semantic checks ask. Paths are absolute. */
export interface ConfigFileSystem {
  exists(path: string): boolean;
  isDirectory(path: string): boolean;
  /** Names (not paths) of the entries of a directory; empty when it cannot be read. */
  list(path: string): string[];
  /** The text of a small file (a checkpoint's config.json), or undefined when it cannot be read. */
  readText?(path: string): string | undefined;
}

export interface ConfigContext {
  /** Absolute path of the config file; relative paths inside it are resolved against its folder. */
  configPath: string;
  /**
   * `edit`: a missing checkpoint or data path is a warning (it may live on the training machine);
   * `run`: it is an error, because a run is about to start here.
   */
  mode: 'edit' | 'run';
  fileSystem: ConfigFileSystem;
}

/** The source label of every diagnostic L3M Studio adds on top of the JSON schema ones. */
export const diagnosticSource = 'l3m';
