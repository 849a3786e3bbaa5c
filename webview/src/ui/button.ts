import { h } from '../dom';
import { registerToolkit } from './toolkit';

export interface ButtonOptions {
  readonly label: string;
  readonly onClick: () => void;
  readonly secondary?: boolean;
  /** When set, the button is disabled and this sentence says why. */
  readonly disabledReason?: string;
  readonly testId?: string;
}

export function button(options: ButtonOptions): HTMLElement {
  registerToolkit();
  const element = h('vscode-button' as 'button', {
    appearance: options.secondary ? 'secondary' : 'primary',
    disabled: options.disabledReason !== undefined,
    title: options.disabledReason,
    'data-testid': options.testId,
  }, options.label);
  element.addEventListener('click', () => {
    if (options.disabledReason === undefined) options.onClick();
  });
  return element;
}
