import * as assert from 'node:assert/strict';
import { Frame, FrameLocator, Page } from 'playwright-core';
import { onnx } from '../../src/core';
import { DataType, encode, floatTensor, graph, model, node, randomFloats, valueInfo } from '../support/model-builder';
import {
  clearNotifications, openFile, runPaletteCommand, STEP_TIMEOUT_MS, StepScreenshots, useSession, waitForActiveEditorText,
  waitForNotification, waitForText, webviewFrame,
} from './support';

/** Strings that run script, or make links, if anything puts them into HTML or markdown. */
const PAYLOADS = {
  imgOnError: '<img src=x onerror="window.__pwned=1">',
  scriptBreakout: '</script><script>window.__pwned=2</script>',
  javascriptLink: '<a href="javascript:window.__pwned=3">x</a>',
  svgOnLoad: '<svg onload="window.__pwned=4">',
  template: "{{constructor.constructor('window.__pwned=5')()}}",
  iframe: '<iframe src="javascript:window.__pwned=6"></iframe>',
  alertImg: '<img src=x onerror=alert(7)>',
  scriptAlert: '<script>alert(8)</script>',
  /** VS Code's notifications turn [label](command:…) into a link that runs the command. */
  commandLink: '[Open a terminal](command:workbench.action.terminal.new)',
};

const MODEL_NAME = 'hostile.onnx';
const WEIGHT_SIZE = 4;

/**
 * Two MatMul layers (the table lists them) and an op ONNX Runtime does not know
 * (so that measuring fails naming that node), every name and text a payload.
 */
function hostileModel(): Uint8Array {
  const docString = PAYLOADS.scriptAlert;
  const nodes = [
    node('MatMul', [PAYLOADS.scriptBreakout, PAYLOADS.iframe], ['hidden'], [], PAYLOADS.svgOnLoad),
    node('MatMul', ['hidden', PAYLOADS.alertImg], ['projected'], [], PAYLOADS.template),
    node('Frobnicate', ['projected'], [PAYLOADS.javascriptLink], [], PAYLOADS.commandLink, 'com.example.unknown'),
  ].map((entry) => Object.assign(entry, { docString }));
  const proto = model(graph({
    name: PAYLOADS.imgOnError,
    nodes,
    initializers: [
      floatTensor(PAYLOADS.iframe, [WEIGHT_SIZE, WEIGHT_SIZE], randomFloats(WEIGHT_SIZE ** 2, 1)),
      floatTensor(PAYLOADS.alertImg, [WEIGHT_SIZE, WEIGHT_SIZE], randomFloats(WEIGHT_SIZE ** 2, 2)),
    ],
    inputs: [valueInfo(PAYLOADS.scriptBreakout, DataType.FLOAT, [1, WEIGHT_SIZE])],
    outputs: [valueInfo(PAYLOADS.javascriptLink, DataType.FLOAT, [1, WEIGHT_SIZE])],
  }), { extraOpsets: [{ domain: 'com.example.unknown', version: 1 }] });
  proto.graph!.docString = docString;
  proto.producerName = PAYLOADS.imgOnError;
  proto.docString = docString;
  proto.metadataProps = [onnx.StringStringEntryProto.create({ key: PAYLOADS.imgOnError, value: PAYLOADS.scriptBreakout })];
  return encode(proto);
}

/**
 * Lists the elements a payload would have created, in the document and its shadow roots: handlers
 * (on*), javascript: URLs, embedding or linking elements, svg outside the charts the webview draws,
 * and any script but two: the bundle (with the page's nonce) and the one VS Code injects into every
 * webview (#_vscodeApiScript). Browser code, given as text (the tests compile without DOM types).
 */
const LIST_INJECTED_ELEMENTS = `(() => {
  const found = [];
  const visit = (root) => {
    for (const element of root.querySelectorAll('*')) {
      const tag = element.tagName.toLowerCase();
      const handlers = element.getAttributeNames().filter((name) => name.toLowerCase().startsWith('on'));
      const scriptUrls = element.getAttributeNames().filter((name) => /^\\s*javascript:/i.test(element.getAttribute(name)));
      if (handlers.length > 0 || scriptUrls.length > 0) found.push('<' + tag + ' ' + handlers.concat(scriptUrls).join(' ') + '>');
      if (['img', 'iframe', 'a', 'object', 'embed', 'frame', 'base', 'form'].includes(tag)) found.push('<' + tag + '>');
      const expectedScript = element.id === '_vscodeApiScript' || (element.nonce && /\\/dist\\/webview\\/main\\.js$/.test(element.src));
      if (tag === 'script' && !expectedScript) found.push('<script> ' + (element.src || element.textContent.slice(0, 80)));
      if (tag === 'svg' && root === document && !element.closest('.chart, .spark')) found.push('<svg> outside the charts');
      if (element.shadowRoot) visit(element.shadowRoot);
    }
  };
  visit(document);
  const scripts = document.querySelectorAll('script').length;
  if (scripts !== 2) found.push(scripts + ' scripts');
  return found;
})()`;

/** window.__pwned in every frame of the page: the workbench, the webview's host frame and its content. */
async function pwnedValues(page: Page): Promise<unknown[]> {
  const values = await Promise.all(page.frames().map((frame) => frame.evaluate('window.__pwned').catch(() => undefined)));
  return values.filter((value) => value !== undefined);
}

async function contentFrame(frame: FrameLocator): Promise<Frame> {
  const body = await frame.locator('body').elementHandle({ timeout: STEP_TIMEOUT_MS });
  const owner = await body?.ownerFrame();
  if (!owner) throw new Error('The webview has no content frame.');
  return owner;
}

/** Marks invisible characters the extension puts into notifications to keep link syntax inert. */
const INVISIBLE = /[\u200b-\u200d\u2060]/g;

describe('model names that carry script, in a real VS Code (code-server)', function () {
  const session = useSession({ name: 'hostile-names', files: { [MODEL_NAME]: { content: hostileModel() } } });
  const dialogs: string[] = [];

  before(function () {
    session().page.on('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
  });

  it('shows every payload as text in the editor, its tooltips and the detail pane, and runs none', async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    await openFile(page, MODEL_NAME);
    const frame = webviewFrame(page);
    const rows = frame.locator('.layer-table .row[data-layer-id]');
    await rows.nth(1).locator('.spark rect').first().waitFor({ timeout: STEP_TIMEOUT_MS });
    await screenshots.take('editor showing the hostile names');

    const overview = frame.locator('[data-testid=overview]');
    assert.equal(await overview.locator('.fact', { hasText: 'Producer' }).locator('.value').innerText(), PAYLOADS.imgOnError);
    assert.deepEqual(await overview.locator('.io code').allInnerTexts(),
      [`${PAYLOADS.scriptBreakout}: float32[1,4]`, `${PAYLOADS.javascriptLink}: float32[1,4]`]);
    assert.deepEqual(await rows.locator('.cell:first-child').allInnerTexts(), [PAYLOADS.svgOnLoad, PAYLOADS.template]);
    for (const name of [PAYLOADS.svgOnLoad, PAYLOADS.template]) {
      const nameCell = rows.filter({ hasText: name }).locator('.cell').first();
      await nameCell.hover();
      assert.equal(await nameCell.getAttribute('title'), name, 'the tooltip holds the name as it is');
      assert.equal(await frame.getByText(name, { exact: true }).count(), 1);
    }
    await screenshots.take('hovering a hostile layer name');

    await rows.filter({ hasText: PAYLOADS.template }).click();
    const detailTitle = frame.locator('[data-testid=detail] h2');
    await waitForText(page, detailTitle, /MatMul/);
    assert.equal(await detailTitle.innerText(), `${PAYLOADS.template} MatMul · ${PAYLOADS.alertImg} [4×4] float32`);
    await frame.locator('[data-testid=histogram] rect').first().waitFor({ timeout: STEP_TIMEOUT_MS });
    await screenshots.take('detail pane of a hostile layer');

    const content = await contentFrame(frame);
    assert.deepEqual(await content.evaluate(LIST_INJECTED_ELEMENTS), [], 'no element was created from a payload in the webview');
    assert.deepEqual(await pwnedValues(page), [], 'no payload ran');
    assert.deepEqual(dialogs, [], 'no dialog opened');
  });

  it('shows the payloads as text in the text view', async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    await runPaletteCommand(page, 'ONNX Lens: Show Model as Text');
    const text = await waitForActiveEditorText(page, /= MatMul/);
    await screenshots.take('text view of the hostile model');
    assert.ok(text.includes(`producer_name: ${JSON.stringify(PAYLOADS.imgOnError)}`), text);
    assert.ok(text.includes(`hidden = MatMul (${JSON.stringify(PAYLOADS.scriptBreakout)}, ${JSON.stringify(PAYLOADS.iframe)})`), text);
    const lens = page.locator('.codelens-decoration', { hasText: `Layer actions: ${PAYLOADS.svgOnLoad}` });
    await lens.waitFor({ timeout: STEP_TIMEOUT_MS });
    assert.equal(await lens.locator('img, svg, iframe, script').count(), 0, 'the lens shows the name as text');
    assert.equal(await page.locator('.monaco-workbench [onerror], .monaco-workbench [onload], a[href^="javascript:"]').count(), 0);
    assert.deepEqual(await pwnedValues(page), []);
    assert.deepEqual(dialogs, []);
  });

  it('keeps a node name in an error notification as text, not as a command link', async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    await page.locator('.tabs-container .tab', { hasText: MODEL_NAME }).first().click();
    await clearNotifications(page);
    await runPaletteCommand(page, 'ONNX Lens: Measure Latency');
    const message = await waitForNotification(page, /ONNX Runtime could not load/);
    await screenshots.take('error notification naming a hostile node');
    const shown = (await message.innerText()).replace(INVISIBLE, '');
    assert.ok(shown.includes(`at node ${JSON.stringify(PAYLOADS.commandLink)}`), shown);
    assert.equal(await message.locator('a').count(), 0, 'the notification holds no link made from the node name');
    assert.deepEqual(await pwnedValues(page), []);
    assert.deepEqual(dialogs, []);
  });
});
