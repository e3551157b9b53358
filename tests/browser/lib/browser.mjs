// Debian's chromium driven by playwright-core, for the web console's browser tests: one browser
// per suite (playwright gives each launch a fresh temporary user-data dir), one context (own
// cookie jar) per signed-in person, pages whose console errors and uncaught exceptions are
// collected (CSP violations show up there), and screenshots kept as test artifacts.
import { chromium } from 'playwright-core';
import { mkdirSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = join(HERE, '..', 'artifacts');
export const CHROMIUM = process.env.MG_CHROMIUM ?? '/usr/bin/chromium';

export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium; tools/dev.sh deps does it)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-quic'],
  });
}

// A new context (own cookies) with one page on the console. Returns {page, errors, close()};
// `errors` collects console errors and page exceptions.
export async function openConsole(browser, baseUrl, { viewport = LAPTOP } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    // Chromium logs every 4xx fetch; the pages handle those and show them to the user.
    if (/Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return;
    errors.push(`console: ${text}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.setDefaultTimeout(15000);
  await page.goto(baseUrl + '/');
  return { page, errors, context, close: () => context.close() };
}

let shotCounter = 0;
const cleaned = new Set();
// Saves a full-page screenshot as tests/browser/artifacts/<suite>-NN-<name>.png (NN: the order
// taken), prints the path. The suite's screenshots of an earlier run are removed first.
export async function screenshot(page, suite, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  if (!cleaned.has(suite)) {
    cleaned.add(suite);
    for (const f of readdirSync(ARTIFACTS)) {
      if (f.startsWith(`${suite}-`) && f.endsWith('.png')) rmSync(join(ARTIFACTS, f));
    }
  }
  shotCounter += 1;
  const file = join(ARTIFACTS, `${suite}-${String(shotCounter).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot: ${file}`);
  return file;
}

// Signs in through the form and waits for the signed-in shell.
export async function signIn(page, key) {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

// Polls `fn` until it returns a truthy value or the deadline passes.
export async function eventually(fn, { timeoutMs = 15000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
