// The real file system for the config checks (the language server and the `l3m` CLI use it).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { ConfigFileSystem } from './config_context';

/** Files larger than this are not read by `readText` (a checkpoint's config.json is a few kB). */
const maxTextBytes = 1 << 20;

export const nodeFileSystem: ConfigFileSystem = {
  exists(path) {
    try {
      statSync(path);
      return true;
    } catch {
      return false;
    }
  },
  isDirectory(path) {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  },
  list(path) {
    try {
      return readdirSync(path);
    } catch {
      return [];
    }
  },
  readText(path) {
    try {
      if (statSync(path).size > maxTextBytes) return undefined;
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
};
