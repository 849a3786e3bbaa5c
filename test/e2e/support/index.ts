export * from './browser';
export * from './code-server';
export * from './paths';
export * from './screenshots';
export * from './session';
export * from './workbench-actions';
export * from './workspace';
export * from './workbench-widgets';
