import { h } from '../dom';
import { registerToolkit } from './toolkit';

export function select<V extends string>(options: readonly { value: V; label: string }[], selected: V, onChange: (value: V) => void, label: string): HTMLElement {
  registerToolkit();
  const dropdown = h('vscode-dropdown' as 'select', { 'aria-label': label },
    ...options.map((option) => h('vscode-option' as 'option', { value: option.value, selected: option.value === selected }, option.label)));
  dropdown.addEventListener('change', () => onChange((dropdown as unknown as { value: V }).value));
  return dropdown;
}
