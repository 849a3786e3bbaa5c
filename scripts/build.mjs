// Bundles the extension host code and the CLI with esbuild (the webview joins with the custom editor).
import { build } from 'esbuild';

const node = { bundle: true, sourcemap: true, logLevel: 'warning', platform: 'node', format: 'cjs', target: 'node20' };

await Promise.all([
  build({ ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } }),
  build({ ...node, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
]);
