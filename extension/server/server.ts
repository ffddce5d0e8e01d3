// Entry point of the language server of *.l3m.json experiment configs (dist/server.js). The
// extension's language client starts it with `--node-ipc`; `--stdio` works too (bench/validate.ts
// drives it that way). createConnection picks the transport from those arguments.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { nodeFileSystem } from '../../schemas/node_file_system';
import { startConfigServer } from './config_server';

startConfigServer(createConnection(ProposedFeatures.all), nodeFileSystem);
