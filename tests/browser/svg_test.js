// SPDX-License-Identifier: MIT
// svg_test: opens a flame graph written by `scorch convert` in headless
// Chromium, as a file:// URL, and checks what a user does with it: hover,
// click to zoom, Reset Zoom, search with Ctrl-F and the Search button, and
// the URL that reopens the same view.
// Usage: node svg_test.js CHROMIUM SCORCH FIXTURE.folded WORKDIR
'use strict';

const assert = require('assert/strict');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');
const { Browser } = require('./cdp');

const [chromium, scorch, fixture, workdir] = process.argv.slice(2);
const TOTAL = 25; // sum of the fixture's counts
const AVAIL = 1180; // image width minus padding

// Selector of the frame group whose name is `name` (the name table N maps class to name).
const frameSel = (page, name, depth) => page.eval(`(() => {
  const want = ${JSON.stringify(name)};
  for (const g of document.querySelectorAll('#frames > g')) {
    const n = N[+g.getAttribute('class').split(' ')[0].slice(1)];
    const d = Math.round((C.md * C.fh + C.top - +g.firstElementChild.getAttribute('y')) / C.fh);
    if (n === want && (${depth === undefined} || d === ${depth}))
      return '#frames > g:nth-child(' + ([...g.parentNode.children].indexOf(g) + 1) + ') > rect';
  }
  return null;
})()`);

async function state(page) {
  return page.eval(`(() => {
    const o = {};
    for (const g of document.querySelectorAll('#frames > g')) {
      const n = N[+g.getAttribute('class').split(' ')[0].slice(1)];
      const r = g.firstElementChild;
      (o[n] = o[n] || []).push({ w: +r.getAttribute('width'), x: +r.getAttribute('x'),
        dim: g.classList.contains('dim'), hid: g.classList.contains('hid'),
        hl: g.classList.contains('hl'), label: g.querySelector('text')?.textContent ?? '' });
    }
    return { frames: o, url: location.href, matched: document.getElementById('matched').textContent,
      details: document.getElementById('details').textContent,
      tip: document.getElementById('tip').textContent,
      tipHidden: document.getElementById('tip').classList.contains('hid'),
      reset: !document.getElementById('reset').classList.contains('hid'),
      search: document.getElementById('search').textContent };
  })()`);
}

function near(a, b, what) {
  assert.ok(Math.abs(a - b) < 0.02, `${what}: ${a} is not ${b}`);
}

async function checkLoaded(page, weird) {
  const s = await state(page);
  assert.equal(Object.keys(s.frames).length, 9, 'one name per distinct frame');
  near(s.frames.all[0].w, AVAIL, 'root width');
  near(s.frames.foo[0].w, AVAIL * 15 / TOTAL, 'foo width');
  assert.equal(s.frames.rec.length, 3, 'rec at three depths');
  assert.ok(s.frames[weird], 'escaped name survives the round trip');
  assert.equal(s.reset, false, 'Reset Zoom hidden before zooming');
}

async function checkHover(page) {
  await page.pointAt(await frameSel(page, 'foo'), false);
  const s = await state(page);
  assert.equal(s.details, 'foo (15 samples, 60.00%)');
  assert.equal(s.tipHidden, false, 'tooltip shown on hover');
  assert.ok(s.tip.includes('foo') && s.tip.includes('15 samples (60.00%)'), `tooltip: ${s.tip}`);
}

async function checkZoom(page) {
  await page.pointAt(await frameSel(page, 'foo'), true);
  const s = await state(page);
  near(s.frames.foo[0].w, AVAIL, 'zoomed frame is full width');
  near(s.frames.bar[0].w, AVAIL * 10 / 15, 'child rescaled');
  assert.ok(s.frames.main[0].dim && s.frames.all[0].dim, 'ancestors dimmed');
  assert.ok(!s.frames.foo[0].dim, 'zoomed frame not dimmed');
  assert.ok(s.frames.rec.every((f) => f.hid), 'frames outside the zoom hidden');
  assert.equal(s.reset, true, 'Reset Zoom shown');
  assert.match(s.url, /[?&]x=\d+&y=2(&|$)/, 'zoom in the URL');
}

async function checkSearch(page) {
  const msg = await page.answerPrompt(() => page.key('f', 'KeyF', 70, 2), '^rec$');
  assert.match(msg, /regular expression/);
  const s = await state(page);
  // rec spans 6 samples; summing its nested frames would give 14.
  assert.equal(s.matched, 'Matched: 24.00%');
  assert.ok(s.frames.rec.every((f) => f.hl), 'matches highlighted');
  assert.ok(!s.frames.foo[0].hl, 'non-matches not highlighted');
  assert.match(s.url, /[?&]s=%5Erec%24(&|$)/, 'search in the URL');
  return s.url;
}

async function checkReopen(page, url) {
  await page.goto(url);
  const s = await state(page);
  near(s.frames.foo[0].w, AVAIL, 'zoom restored from the URL');
  assert.ok(s.frames.main[0].dim, 'ancestors dimmed after reopening');
  assert.equal(s.matched, 'Matched: 24.00%', 'search restored from the URL');
}

async function checkReset(page) {
  await page.pointAt('#search', true); // "Clear search" while a search is active
  await page.pointAt('#reset', true);
  const s = await state(page);
  assert.equal(s.search, 'Search');
  assert.equal(s.matched, '');
  near(s.frames.foo[0].w, AVAIL * 15 / TOTAL, 'width restored');
  assert.ok(Object.values(s.frames).flat().every((f) => !f.hid && !f.dim && !f.hl), 'all frames plain');
  assert.equal(new URL(s.url).search, '', 'URL cleared');
  const msg = await page.answerPrompt(() => page.pointAt('#search', true), 'o+');
  assert.match(msg, /regular expression/);
  assert.equal((await state(page)).matched, 'Matched: 72.00%', 'foo (15) and other (3)');
}

async function main() {
  fs.mkdirSync(workdir, { recursive: true });
  const svg = path.join(workdir, 'flame.svg');
  execFileSync(scorch, ['convert', fixture, '-o', svg, '--title', 'Browser <test> & "quotes"']);
  const weird = fs.readFileSync(fixture, 'utf8').split('\n').find((l) => l.includes('lambda'))
    .split(';').pop().replace(/ \d+$/, '');
  const browser = new Browser(chromium);
  try {
    const page = await browser.newPage(1200, 400);
    await page.goto(pathToFileURL(svg).href);
    assert.equal(await page.eval('document.getElementById("title").textContent'),
      'Browser <test> & "quotes"');
    await checkLoaded(page, weird);
    await checkHover(page);
    await checkZoom(page);
    const url = await checkSearch(page);
    await checkReopen(page, url);
    await checkReset(page);
    assert.deepEqual(page.errors, [], 'no script errors');
  } finally {
    await browser.close();
  }
  console.log('svg_test: all checks passed');
}

main().catch((e) => {
  console.error(`svg_test: ${e.stack || e}`);
  process.exit(1);
});
