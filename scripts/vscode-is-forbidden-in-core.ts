// src/core/tsconfig.json maps the module 'vscode' to this file, so that any
// import of it from the core (which must run in plain Node and the CLI) fails to compile.
const vscodeImport: never = 'src/core must not import vscode';
export default vscodeImport;
