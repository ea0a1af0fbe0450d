// SPDX-License-Identifier: MIT
// diff_test: opens a differential flame graph written by `scorch diff` in
// headless Chromium and checks that a frame that grew is reddish, one that
// shrank bluish, one unchanged white, that the tooltip gives both counts,
// both shares and the change, and that zoom and search still work.
// Usage: node diff_test.js CHROMIUM SCORCH WORKDIR
'use strict';

const assert = require('assert/strict');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');
const { Browser } = require('./cdp');

const [chromium, scorch, workdir] = process.argv.slice(2);

// The frame's rect selector and its fill, by name.
const frame = (page, name) => page.eval(`(() => {
  const gs = [...document.querySelectorAll('#frames > g')];
  const i = gs.findIndex((g) => N[+g.getAttribute('class').split(' ')[0].slice(1)] === ${JSON.stringify(name)});
  if (i < 0) return null;
  const r = gs[i].firstElementChild;
  return { sel: '#frames > g:nth-child(' + (i + 1) + ') > rect', fill: getComputedStyle(r).fill,
    w: +r.getAttribute('width') };
})()`);

const rgb = (fill) => fill.match(/\d+/g).map(Number);

async function checkColours(page) {
  const [r1, g1, b1] = rgb((await frame(page, 'grow')).fill);
  assert.ok(r1 > 150 && r1 > b1 + 100 && r1 > g1 + 100, `grown frame is reddish: ${r1},${g1},${b1}`);
  const [r2, g2, b2] = rgb((await frame(page, 'shrink')).fill);
  assert.ok(b2 > 120 && b2 > r2 + 100, `shrunk frame is bluish: ${r2},${g2},${b2}`);
  assert.deepEqual(rgb((await frame(page, 'same')).fill), [255, 255, 255], 'unchanged frame is white');
}

async function checkTooltip(page) {
  await page.pointAt((await frame(page, 'grow')).sel, false);
  const tip = await page.eval('document.getElementById("tip").textContent');
  assert.ok(tip.includes('new: 30 samples (60.00%)'), `tooltip has the new count and share: ${tip}`);
  assert.ok(tip.includes('base: 10 samples (20.00%)'), `tooltip has the base count and share: ${tip}`);
  assert.ok(tip.includes('change: +40.00 points'), `tooltip has the change: ${tip}`);
  const details = await page.eval('document.getElementById("details").textContent');
  assert.match(details, /^grow \(new: 30 samples/, 'details line');
}

async function checkZoomSearch(page) {
  await page.pointAt((await frame(page, 'shrink')).sel, true);
  assert.ok((await frame(page, 'shrink')).w > 1000, 'zoomed frame is full width');
  assert.match(await page.eval('location.href'), /[?&]x=\d+&y=2/, 'zoom in the URL');
  await page.answerPrompt(() => page.key('f', 'KeyF', 70, 2), '^grow$');
  assert.equal(await page.eval('document.getElementById("matched").textContent'), 'Matched: 60.00%');
  const hl = await page.eval(`getComputedStyle(document.querySelector('#frames .hl > rect')).fill`);
  assert.deepEqual(rgb(hl), [224, 63, 216], 'search highlight wins over the diff colour');
}

function writeDiff(base, next, svg, extra) {
  const r = spawnSync(scorch, ['diff', base, next, '-o', svg, ...extra], { encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 1, `scorch diff exited ${r.status}: ${r.stderr}`);
}

async function main() {
  fs.mkdirSync(workdir, { recursive: true });
  const base = path.join(workdir, 'base.folded'), next = path.join(workdir, 'new.folded');
  fs.writeFileSync(base, 'main;grow 10\nmain;shrink 30\nmain;same 10\n');
  fs.writeFileSync(next, 'main;grow 30\nmain;shrink 10\nmain;same 10\n');
  const svg = path.join(workdir, 'diff.svg'), neg = path.join(workdir, 'negated.svg');
  writeDiff(base, next, svg, []);
  writeDiff(base, next, neg, ['--negate']);
  const browser = new Browser(chromium);
  try {
    const page = await browser.newPage(1200, 400);
    await page.goto(pathToFileURL(svg).href);
    await checkColours(page);
    await checkTooltip(page);
    await checkZoomSearch(page);
    // --negate draws base's shape (shrink is the wide one) with the same colours.
    await page.goto(pathToFileURL(neg).href);
    await checkColours(page);
    assert.ok((await frame(page, 'shrink')).w > (await frame(page, 'grow')).w, 'base shape drawn');
    assert.deepEqual(page.errors, [], 'no script errors');
  } finally {
    await browser.close();
  }
  console.log('diff_test: all checks passed');
}

main().catch((e) => {
  console.error(`diff_test: ${e.stack || e}`);
  process.exit(1);
});
