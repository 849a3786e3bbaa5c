import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { FrameLocator, Page } from 'playwright-core';
import {
  chooseContextMenuItem, contextMenu, openFile, pickColorTheme, REPO_ROOT, STEP_TIMEOUT_MS, StepScreenshots, useSession, waitForText,
  webviewFrame,
} from './support';

const MODEL_NAME = 'hello_deepa.onnx';
const MODEL_SOURCE = path.join(REPO_ROOT, 'node_modules', 'openwakeword-js', 'models', MODEL_NAME);

/** VS Code's built-in themes: their setting names, their labels in the Color Theme picker, and the class the webview's body gets. */
const THEMES = [
  { name: 'Default Light Modern', pickerLabel: 'Light Modern', bodyClass: 'vscode-light' },
  { name: 'Default Dark Modern', pickerLabel: 'Dark Modern', bodyClass: 'vscode-dark' },
  { name: 'Default High Contrast', pickerLabel: 'Dark High Contrast', bodyClass: 'vscode-high-contrast' },
] as const;

const TRANSPARENT = 'rgba(0, 0, 0, 0)';

/** Computed colours in the webview, each theme variable resolved the way the browser resolves it. */
interface WebviewColours {
  editorForeground: string;
  editorBackground: string;
  chartsBlue: string;
  focusOutline: string;
  bodyColour: string;
  bodyBackground: string;
  cellColour: string;
  barFill: string;
  cursorOutline: { style: string; width: string; colour: string };
}

async function webviewColours(frame: FrameLocator): Promise<WebviewColours> {
  return frame.locator('body').evaluate((body) => {
    const view = body.ownerDocument.defaultView!;
    const getComputedStyle = (element: typeof body) => view.getComputedStyle(element);
    const resolve = (variable: string) => {
      if (getComputedStyle(body).getPropertyValue(variable).trim() === '') throw new Error(`The webview has no ${variable}.`);
      const probe = body.ownerDocument.createElement('div');
      probe.style.color = `var(${variable})`;
      body.append(probe);
      const colour = getComputedStyle(probe).color;
      probe.remove();
      return colour;
    };
    const plainCell = body.querySelector('.layer-table .row[data-layer-id]:not(.selected) .cell')!;
    const bar = body.querySelector('.layer-table .spark rect.bar')!;
    const cursor = getComputedStyle(body.querySelector('.layer-table .row.cursor')!);
    return {
      editorForeground: resolve('--vscode-editor-foreground'),
      editorBackground: resolve('--vscode-editor-background'),
      chartsBlue: resolve('--vscode-charts-blue'),
      focusOutline: resolve(getComputedStyle(body).getPropertyValue('--vscode-list-focusOutline').trim() ? '--vscode-list-focusOutline' : '--vscode-focusBorder'),
      bodyColour: getComputedStyle(body).color,
      bodyBackground: getComputedStyle(body).backgroundColor,
      cellColour: getComputedStyle(plainCell).color,
      barFill: getComputedStyle(bar).fill,
      cursorOutline: { style: cursor.outlineStyle, width: cursor.outlineWidth, colour: cursor.outlineColor },
    };
  });
}

async function switchTheme(page: Page, frame: FrameLocator, theme: typeof THEMES[number]): Promise<void> {
  await pickColorTheme(page, theme.pickerLabel);
  await frame.locator(`body.${theme.bodyClass}`).waitFor({ state: 'attached', timeout: STEP_TIMEOUT_MS });
}

function layerRows(frame: FrameLocator) {
  return frame.locator('.layer-table .row[data-layer-id]');
}

async function expectSelected(frame: FrameLocator, layerId: string, why: string): Promise<void> {
  await frame.locator(`.layer-table .row.selected[data-layer-id="${layerId}"]`).waitFor({ timeout: STEP_TIMEOUT_MS })
    .catch(() => assert.fail(`${why}: ${layerId} is not the selected row.`));
}

async function openModelAndFocusTable(page: Page): Promise<FrameLocator> {
  await openFile(page, MODEL_NAME);
  const frame = webviewFrame(page);
  await frame.locator('.layer-table .spark rect').first().waitFor({ timeout: STEP_TIMEOUT_MS });
  await layerRows(frame).first().click();
  return frame;
}

describe('the ONNX Lens editor in light, dark and high-contrast themes, by keyboard, in a real VS Code (code-server)', function () {
  const session = useSession({ name: 'themes', files: { [MODEL_NAME]: { copyFrom: MODEL_SOURCE } } });

  it("draws text, background, histograms and the focused row in each theme's own colours", async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    const frame = await openModelAndFocusTable(page);
    const byTheme = new Map<string, WebviewColours>();
    for (const theme of THEMES) {
      await switchTheme(page, frame, theme);
      await frame.locator('.layer-table .viewport').focus();
      const colours = await webviewColours(frame);
      console.log(`      ${theme.name}: ${JSON.stringify(colours)}`);
      assert.equal(colours.bodyColour, colours.editorForeground, `${theme.name}: body text is the editor's foreground`);
      assert.equal(colours.bodyBackground, colours.editorBackground, `${theme.name}: the background is the editor's`);
      assert.equal(colours.cellColour, colours.editorForeground, `${theme.name}: table text is the editor's foreground`);
      assert.equal(colours.barFill, colours.chartsBlue, `${theme.name}: histogram bars use the theme's chart colour`);
      assert.equal(colours.cursorOutline.style, 'solid', `${theme.name}: the focused row has an outline`);
      assert.notEqual(colours.cursorOutline.width, '0px', `${theme.name}: the focused row's outline has a width`);
      assert.equal(colours.cursorOutline.colour, colours.focusOutline, `${theme.name}: in the theme's focus colour`);
      assert.notEqual(colours.cursorOutline.colour, TRANSPARENT, `${theme.name}: a visible focus outline`);
      assert.notEqual(colours.cursorOutline.colour, colours.editorBackground, `${theme.name}: the outline stands out from the background`);
      byTheme.set(theme.name, colours);
      await screenshots.take(theme.name);
    }
    const light = byTheme.get('Default Light Modern')!;
    const dark = byTheme.get('Default Dark Modern')!;
    assert.notEqual(light.bodyColour, dark.bodyColour, 'light and dark text differ');
    assert.notEqual(light.bodyBackground, dark.bodyBackground, 'light and dark backgrounds differ');
assert.notEqual(light.barFill, dark.barFill, 'the histogram colour follows the theme');
  });

  it('moves, selects and opens the layer menu by keyboard', async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    const frame = await openModelAndFocusTable(page);
    const ids = await layerRows(frame).evaluateAll((rows) => rows.map((row) => row.getAttribute('data-layer-id')!));
    const detailTitle = frame.locator('[data-testid=detail] h2');
    await expectSelected(frame, ids[0], 'the clicked row is selected');

    await page.keyboard.press('ArrowDown');
    await expectSelected(frame, ids[1], 'ArrowDown selects the next row');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    await expectSelected(frame, ids[1], 'ArrowUp selects the row above');

    await page.keyboard.press('Control+ArrowDown');
    await page.keyboard.press('Control+ArrowDown');
    await expectSelected(frame, ids[1], 'Ctrl+arrows move the cursor, not the selection');
    assert.equal(await frame.locator('.layer-table .row.cursor').getAttribute('data-layer-id'), ids[3]);
    await page.keyboard.press('Enter');
    await expectSelected(frame, ids[3], 'Enter selects the cursor row');
    const layerName = await frame.locator('.layer-table .row.selected .cell').first().innerText();
    await waitForText(page, detailTitle, new RegExp(`^${layerName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

    await page.keyboard.press('Control+ArrowUp');
    await page.keyboard.press(' ');
    await expectSelected(frame, ids[2], 'Space selects the cursor row');
    await screenshots.take('selected by keyboard');

    await page.keyboard.press('Home');
    await expectSelected(frame, ids[0], 'Home selects the first row');
    await page.keyboard.press('Shift+F10');
    await contextMenu(page).waitFor({ timeout: STEP_TIMEOUT_MS });
    assert.equal(await contextMenu(page).count(), 1, 'one menu opens');
    await contextMenu(page).locator('.action-label[aria-label="Quantize This Layer (int8)"]').waitFor({ timeout: STEP_TIMEOUT_MS });
    await screenshots.take('layer menu from Shift+F10');
    await chooseContextMenuItem(page, 'Quantize This Layer (int8)');
    await waitForText(page, frame.locator(`.layer-table .row[data-layer-id="${ids[0]}"] .cell.delta`), /^int8 · /);

    await frame.locator('.layer-table .viewport').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ContextMenu');
    await contextMenu(page).locator(`.action-label[aria-label="Measure This Layer's Effect"]`).waitFor({ timeout: STEP_TIMEOUT_MS });
    await screenshots.take('layer menu from the context-menu key');
    await page.keyboard.press('Escape');
    await contextMenu(page).waitFor({ state: 'detached', timeout: STEP_TIMEOUT_MS });
  });
});
