// SPDX-License-Identifier: MIT
// cdp: a minimal DevTools protocol client for the browser tests.  It starts
// headless Chromium with --remote-debugging-pipe (messages are JSON, each
// ended by a NUL byte, written to the browser's fd 3 and read from its fd 4),
// so the tests need no npm packages.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
  '--disable-default-apps', '--remote-debugging-pipe', '--hide-scrollbars',
];

class Browser {
  constructor(exe) {
    this.profile = fs.mkdtempSync(path.join(os.tmpdir(), 'scorch-chromium-'));
    this.proc = spawn(exe, [...FLAGS, `--user-data-dir=${this.profile}`, 'about:blank'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.next = 1;
    this.pending = new Map();
    this.listeners = [];
    this.buf = Buffer.alloc(0);
    this.proc.stdio[4].on('data', (d) => this.receive(d));
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
    this.exited.then(() => {
      for (const { reject } of this.pending.values())
        reject(new Error(`chromium exited:\n${this.stderr}`));
      this.pending.clear();
    });
  }

  receive(data) {
    this.buf = Buffer.concat([this.buf, data]);
    for (let end; (end = this.buf.indexOf(0)) >= 0;) {
      const msg = JSON.parse(this.buf.subarray(0, end).toString('utf8'));
      this.buf = this.buf.subarray(end + 1);
      if (msg.id && this.pending.has(msg.id)) {
        const { resolve, reject, method } = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
        else resolve(msg.result);
      } else if (msg.method) {
        for (const l of this.listeners) l(msg);
      }
    }
  }

  send(method, params = {}, sessionId = undefined) {
    const id = this.next++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.proc.stdio[3].write(JSON.stringify(msg) + '\0');
    });
  }

  // Resolves with the first event named method (in the session) for which pred holds.
  waitFor(method, sessionId, pred = () => true, ms = 10000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((x) => x !== l);
        reject(new Error(`timed out waiting for ${method}`));
      }, ms);
      const l = (msg) => {
        if (msg.method !== method || msg.sessionId !== sessionId || !pred(msg.params)) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((x) => x !== l);
        resolve(msg.params);
      };
      this.listeners.push(l);
    });
  }

  on(method, fn) {
    this.listeners.push((msg) => { if (msg.method === method) fn(msg.params, msg.sessionId); });
  }

  async newPage(width, height) {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, sessionId);
    await page.send('Page.enable');
    await page.send('Runtime.enable');
    await page.send('Emulation.setDeviceMetricsOverride',
      { width, height, deviceScaleFactor: 1, mobile: false });
    return page;
  }

  async close() {
    try {
      await Promise.race([this.send('Browser.close'), this.exited]);
    } catch (e) { /* already gone */ }
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3000))]);
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    fs.rmSync(this.profile, { recursive: true, force: true });
  }
}

class Page {
  constructor(browser, sessionId) {
    this.browser = browser;
    this.sessionId = sessionId;
    this.errors = [];
    browser.on('Runtime.exceptionThrown', (p, s) => {
      if (s === sessionId) this.errors.push(p.exceptionDetails.exception?.description || p.exceptionDetails.text);
    });
  }

  send(method, params) {
    return this.browser.send(method, params, this.sessionId);
  }

  async goto(url) {
    const loaded = this.browser.waitFor('Page.loadEventFired', this.sessionId);
    const r = await this.send('Page.navigate', { url });
    if (r.errorText) throw new Error(`${url}: ${r.errorText}`);
    await loaded;
  }

  // Evaluates a JavaScript expression in the page and returns its value.
  async eval(expr) {
    const r = await this.send('Runtime.evaluate', { expression: expr, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails)
      throw new Error(`${expr}: ${r.exceptionDetails.exception?.description || r.exceptionDetails.text}`);
    return r.result.value;
  }

  async mouse(type, x, y) {
    await this.send('Input.dispatchMouseEvent',
      { type, x, y, button: type === 'mouseMoved' ? 'none' : 'left', clickCount: 1 });
  }

  // Moves the pointer to the centre of the element the selector finds, then clicks if asked.
  async pointAt(selector, click) {
    const c = await this.eval(`(() => { const r = document.querySelector(${JSON.stringify(selector)})
      .getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`);
    await this.mouse('mouseMoved', c[0], c[1]);
    if (click) {
      await this.mouse('mousePressed', c[0], c[1]);
      await this.mouse('mouseReleased', c[0], c[1]);
    }
  }

  // Presses a key with modifiers (2 is Ctrl).
  async key(key, code, keyCode, modifiers) {
    const base = { key, code, windowsVirtualKeyCode: keyCode, nativeVirtualKeyCode: keyCode, modifiers };
    await this.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', ...base });
    await this.send('Input.dispatchKeyEvent', { type: 'keyUp', ...base });
  }

  // Runs action, answers the prompt it opens with text, and returns the prompt's message.
  async answerPrompt(action, text) {
    const opened = this.browser.waitFor('Page.javascriptDialogOpening', this.sessionId);
    const acted = action();
    const d = await opened;
    await this.send('Page.handleJavaScriptDialog', { accept: true, promptText: text });
    await acted;
    return d.message;
  }
}

module.exports = { Browser };
