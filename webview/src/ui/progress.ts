import { h } from '../dom';
import { registerToolkit } from './toolkit';

export function progressRing(label: string): HTMLElement {
  registerToolkit();
  return h('vscode-progress-ring' as 'div', { 'aria-label': label });
}
