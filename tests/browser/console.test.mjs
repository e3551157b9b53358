// The web console end to end in Debian's chromium, against the real binary and the fake AWS:
// an admin signs in, creates teams and users, adds a credential, adds models from the live
// catalog with team access, watches them turn healthy, breaks one with a fault and sees it turn
// Unhealthy with its cause, fixes it and sees it recover, edits team access and deletes; a builder
// sees only their models in the playground and streams an answer; a member sees no admin pages.
// Screenshots of every page go to tests/browser/artifacts/.
//   MODELGATE_BIN=build/dev/modelgate node --test tests/browser/console.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, dumpOnFailure } from '../integration/lib/gateway.mjs';
import { startFakeAws, DEFAULT_KEY_ID, DEFAULT_SECRET, DEFAULT_ROLE_ARN } from '../fakes/fake-aws.mjs';
import { launchBrowser, openConsole, screenshot, signIn, eventually, PHONE, LAPTOP } from './lib/browser.mjs';

const SUITE = 'console';
const LITE = 'amazon.nova-lite-v1:0';
const PRO = 'amazon.nova-pro-v1:0';
const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const LLAMA = 'meta.llama3-8b-instruct-v1:0';

let fake, gw, browser, admin;
const people = {};  // name -> {key}

before(async () => {
  fake = await startFakeAws();
  gw = await startGateway({
    env: { AWS_ENDPOINT_URL: fake.url, AWS_ACCESS_KEY_ID: DEFAULT_KEY_ID, AWS_SECRET_ACCESS_KEY: DEFAULT_SECRET },
    args: ['--health-interval', '500ms', '--health-cooldown', '300ms'],
  });
  browser = await launchBrowser();
});
after(async () => {
  if (browser) await browser.close();
  if (gw) { await gw.stop(); gw.cleanup(); }
  if (fake) await fake.close();
});

async function fakeControl(method, path, body) {
  const res = await fetch(fake.url + path, {
    method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status}`);
}

function assertNoPageErrors(c) {
  assert.deepEqual(c.errors, [], 'the page logged errors (CSP violations and exceptions show up here)');
}

const row = (page, text) => page.locator('tbody tr', { hasText: text });
// A row of the models table, and of the provider catalog on the add-model page.
const modelRow = (page, id) => page.locator(`tr[data-model-id="${id}"]`);
const catalogRow = (page, id) => page.locator(`tr[data-provider-model-id="${id}"]`);

async function navigate(page, label) {
  const toggle = page.getByRole('button', { name: 'Menu' });
  if (await toggle.isVisible()) {
    if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  }
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();
  await page.locator('h1').first().waitFor();
}

async function menuAction(page, rowText, action) {
  await row(page, rowText).getByRole('button', { name: /^Actions for / }).click();
  await page.getByRole('menuitem', { name: action }).click();
}

test('an admin signs in: the key becomes an HttpOnly session cookie, wrong keys are shown at the field', async (t) => {
  dumpOnFailure(t, gw);
  admin = await openConsole(browser, gw.url);
  const { page } = admin;
  await page.getByRole('heading', { name: 'Sign in to modelgate' }).waitFor();
  await screenshot(page, SUITE, 'sign-in');

  await page.getByLabel('API key').fill('mg_not-a-key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const err = page.locator('.field-error', { hasText: 'Invalid, unknown or revoked API key' });
  await err.waitFor();
  assert.equal(await page.getByLabel('API key').getAttribute('aria-invalid'), 'true');
  await screenshot(page, SUITE, 'sign-in-error');

  await signIn(page, gw.adminKey);
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const label of ['Models', 'LLM Credentials', 'Model playground', 'Teams', 'Users', 'Audit log', 'API keys']) {
    await nav.getByRole('link', { name: label, exact: true }).waitFor();
  }
  const cookies = await admin.context.cookies();
  const session = cookies.find((c) => c.name === 'mg_session');
  assert.ok(session, 'session cookie set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.notEqual(session.value, gw.adminKey);
  const stored = await page.evaluate(() => ({ cookie: document.cookie, local: localStorage.length, session: sessionStorage.length }));
  assert.deepEqual(stored, { cookie: '', local: 0, session: 0 }, 'the page holds no key');
  assert.ok(!(await page.content()).includes(gw.adminKey), 'the key is not left in the page');
  await screenshot(page, SUITE, 'models-empty');
  assertNoPageErrors(admin);
});

test('teams and users: create teams, a builder and a member, and their keys (shown once)', async (t) => {
  dumpOnFailure(t, gw);
  const { page } = admin;
  await navigate(page, 'Teams');
  for (const name of ['research', 'sales']) {
    await page.getByRole('button', { name: 'Add team' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add team' });
    await dialog.getByLabel('Team name').fill(name);
    await dialog.getByRole('button', { name: 'Add team' }).click();
    await row(page, name).waitFor();
  }
  // A duplicate name: the API's error is shown in the dialog, which stays open.
  await page.getByRole('button', { name: 'Add team' }).click();
  const dup = page.getByRole('dialog', { name: 'Add team' });
  await dup.getByLabel('Team name').fill('sales');
  await dup.getByRole('button', { name: 'Add team' }).click();
  await dup.locator('[role=alert]').waitFor();
  await screenshot(page, SUITE, 'teams-duplicate-error');
  await page.keyboard.press('Escape');
  await dup.waitFor({ state: 'detached' });
  await screenshot(page, SUITE, 'teams');

  await navigate(page, 'Users');
  for (const [name, role] of [['Bea Builder', 'builder'], ['Max Member', 'member']]) {
    await page.getByRole('button', { name: 'Add user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add user' });
    await dialog.getByLabel('Email').fill(`${role}@example.com`);
    await dialog.getByLabel('Name', { exact: true }).fill(name);
    await dialog.getByLabel('Role', { exact: true }).selectOption(role);
    await dialog.getByLabel('research', { exact: true }).check();
    if (role === 'builder') await screenshot(page, SUITE, 'users-add-dialog');
    await dialog.getByRole('button', { name: 'Add user' }).click();
    await row(page, `${role}@example.com`).waitFor();

    await menuAction(page, `${role}@example.com`, 'API keys');
    const keys = page.getByRole('dialog', { name: `API keys of ${name}` });
    await keys.getByRole('button', { name: 'Create API key' }).click();
    const create = page.getByRole('dialog', { name: 'Create API key' });
    await create.getByLabel('Key name').fill('browser');
    await create.getByRole('button', { name: 'Create key' }).click();
    const once = page.getByTestId('new-key');
    await once.waitFor();
    const key = (await once.textContent()).trim();
    assert.match(key, /^mg_[A-Za-z0-9_-]{43}$/);
    people[role] = { key, name };
    if (role === 'builder') await screenshot(page, SUITE, 'api-key-shown-once');
    await page.getByRole('button', { name: 'I have saved it' }).click();
    await keys.locator('tbody tr', { hasText: 'browser' }).waitFor();
    await keys.getByRole('button', { name: 'Close' }).click();
  }
  const builderRow = row(page, 'builder@example.com');
  assert.match(await builderRow.textContent(), /builder.*research/);
  await screenshot(page, SUITE, 'users');
  assertNoPageErrors(admin);
});

test('add a credential: errors at the field, test it, save; secrets never come back', async (t) => {
  dumpOnFailure(t, gw);
  const { page } = admin;
  await navigate(page, 'LLM Credentials');
  await page.getByRole('button', { name: 'Add credentials' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add credentials' });
  await dialog.getByLabel('Name', { exact: true }).fill('prod us east!');
  await dialog.getByLabel('Region', { exact: true }).selectOption('us-east-1');
  await dialog.getByLabel('Access key ID').fill(DEFAULT_KEY_ID);
  await dialog.getByLabel('Secret access key').fill(DEFAULT_SECRET);
  await dialog.getByRole('button', { name: 'Test' }).click();
  await dialog.getByText(/These credentials work: \d+ models visible/).waitFor();
  await dialog.getByRole('button', { name: 'Save credentials' }).click();
  // The API names the field at fault; the console shows its message right there.
  const nameField = dialog.locator('.field', { has: page.getByLabel('Name', { exact: true }) });
  await nameField.locator('.field-error', { hasText: "'name' must be" }).waitFor();
  assert.equal(await dialog.getByLabel('Name', { exact: true }).getAttribute('aria-invalid'), 'true');
  await screenshot(page, SUITE, 'credential-field-error');
  await dialog.getByLabel('Name', { exact: true }).fill('prod-us-east');
  await dialog.getByRole('button', { name: 'Save credentials' }).click();
  await dialog.waitFor({ state: 'detached' });
  const r = row(page, 'prod-us-east');
  await r.waitFor();
  const text = await r.textContent();
  assert.match(text, /Access keys/);
  assert.match(text, /us-east-1/);
  assert.match(text, /None/);
  await screenshot(page, SUITE, 'credentials');

  // Rotate the secret: the edit form never shows the stored one, only that it is set.
  await menuAction(page, 'prod-us-east', 'Edit');
  const edit = page.getByRole('dialog', { name: 'Edit prod-us-east' });
  const secret = edit.getByLabel('Secret access key');
  assert.equal(await secret.inputValue(), '');
  assert.match(await secret.getAttribute('placeholder'), /\(set\)/);
  await edit.getByLabel('Access key ID').fill(DEFAULT_KEY_ID);
  await secret.fill(DEFAULT_SECRET);
  await screenshot(page, SUITE, 'credential-rotate');
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'detached' });
  const audit = await gw.call('GET', '/admin/v1/audit?limit=5');
  assert.ok(audit.body.events.some((e) => e.action === 'credential.rotate'), 'rotated');

  const api = await gw.call('GET', '/admin/v1/credentials');
  assert.ok(!api.text.includes(DEFAULT_SECRET), 'no secret in reads');
  assert.ok(!(await page.content()).includes(DEFAULT_SECRET), 'no secret in the page');
  assertNoPageErrors(admin);
});

test('add two models from the live catalog with team access; the catalog marks LEGACY and already-added models', async (t) => {
  dumpOnFailure(t, gw);
  const { page } = admin;
  await navigate(page, 'Models');
  await page.getByRole('link', { name: '+ Add model' }).click();
  await page.getByRole('heading', { name: 'Add models' }).waitFor();
  assert.equal(await page.getByLabel(/HuggingFace/).isDisabled(), true);
  assert.equal(await page.getByLabel(/Nvidia/).isDisabled(), true);
  assert.equal(await page.getByLabel(/AWS Bedrock/).isChecked(), true);
  await page.getByLabel('Use saved credentials', { exact: true }).check();
  assert.match(await page.getByLabel('Saved credentials', { exact: true }).inputValue(), /^cred_/);
  assert.equal(await page.getByLabel('Region', { exact: true }).inputValue(), 'us-east-1');
  await page.getByRole('button', { name: 'Show available models' }).click();
  await catalogRow(page, LITE).waitFor();
  assert.ok(await catalogRow(page, 'anthropic.claude-3-sonnet-20240229-v1:0').getByText('LEGACY').isVisible(), 'LEGACY marked');
  await screenshot(page, SUITE, 'add-model-catalog');

  await page.getByLabel('Search', { exact: true }).fill('nova');
  assert.equal(await catalogRow(page, HAIKU).count(), 0, 'search filters');
  await catalogRow(page, LITE).getByRole('checkbox').check();
  await catalogRow(page, PRO).getByRole('checkbox').check();
  await page.getByLabel('Vendor', { exact: true }).selectOption('Amazon');
  await page.getByLabel('Only chosen teams').check();
  await page.getByLabel('research', { exact: true }).check();
  await screenshot(page, SUITE, 'add-model-selected');
  await page.getByRole('button', { name: 'Add 2 models' }).click();
  await page.getByRole('heading', { name: 'Models', exact: true }).waitFor();
  for (const id of [LITE, PRO]) {
    const text = await modelRow(page, id).textContent();
    assert.match(text, /AWS Bedrock/);
    assert.match(text, /us-east-1/);
    assert.match(text, /prod-us-east/);
    assert.match(text, /research/);
  }

  // A third model, for sales only: the catalog now marks the first two as already added.
  await page.getByRole('link', { name: '+ Add model' }).click();
  await page.getByLabel('Use saved credentials', { exact: true }).check();
  await page.getByRole('button', { name: 'Show available models' }).click();
  const liteRow = catalogRow(page, LITE);
  await liteRow.getByText('Already added').waitFor();
  assert.equal(await liteRow.getByRole('checkbox').isDisabled(), true);
  await catalogRow(page, HAIKU).getByRole('checkbox').check();
  await page.getByLabel('Only chosen teams').check();
  await page.getByLabel('sales', { exact: true }).check();
  await screenshot(page, SUITE, 'add-model-already-added');
  await page.getByRole('button', { name: 'Add 1 model' }).click();
  await modelRow(page, HAIKU).waitFor();
  assertNoPageErrors(admin);
});

test('the models turn Healthy; a fault turns one Unhealthy with its cause; fixed, it recovers', async (t) => {
  dumpOnFailure(t, gw);
  const { page } = admin;
  await navigate(page, 'Models');
  for (const id of [LITE, PRO, HAIKU]) await modelRow(page, id).getByText('Healthy', { exact: true }).waitFor({ timeout: 20000 });
  assert.doesNotMatch(await modelRow(page, LITE).locator('td[data-label="Last checked"]').textContent(), /Never/);
  await screenshot(page, SUITE, 'models-healthy');

  await fakeControl('POST', '/__fake/script', { match: { model: LITE }, error: 'AccessDeniedException' });
  await modelRow(page, LITE).getByRole('link').click();
  const status = page.getByTestId('health-status');
  await status.getByText('Unhealthy').waitFor({ timeout: 20000 });
  const cause = page.getByTestId('cause');
  await cause.getByText('The credentials may not use this model').waitFor();
  assert.match(await cause.textContent(), /What to check/);
  await page.getByRole('heading', { name: 'Recent checks' }).waitFor();
  await screenshot(page, SUITE, 'model-unhealthy');
  await navigate(page, 'Models');
  await modelRow(page, LITE).getByText('Unhealthy').waitFor();
  assert.ok(await modelRow(page, PRO).getByText('Healthy', { exact: true }).isVisible(), 'the other model is unaffected');
  await screenshot(page, SUITE, 'models-one-unhealthy');

  await fakeControl('DELETE', '/__fake/script');
  await modelRow(page, LITE).getByRole('link').click();
  await status.getByText('Healthy', { exact: true }).waitFor({ timeout: 20000 });
  await page.getByRole('button', { name: 'Check now' }).click();
  await page.locator('.toast', { hasText: 'Check finished: Healthy' }).waitFor();
  const history = await page.locator('section', { has: page.getByRole('heading', { name: 'Recent checks' }) }).textContent();
  assert.match(history, /Unhealthy/);
  assert.match(history, /Healthy/);
  await screenshot(page, SUITE, 'model-recovered');
  assertNoPageErrors(admin);
});

test('edit team access; delete asks first (Escape cancels); a credential in use cannot be deleted', async (t) => {
  dumpOnFailure(t, gw);
  const { page } = admin;
  await navigate(page, 'Models');
  await menuAction(page, PRO, 'Edit');
  const edit = page.getByRole('dialog', { name: /^Edit / });
  await edit.getByLabel('sales', { exact: true }).check();
  await screenshot(page, SUITE, 'model-edit');
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'detached' });
  await eventually(async () => /research, sales/.test(await modelRow(page, PRO).textContent()), { what: 'team access updated' });
  const api = await gw.call('GET', `/admin/v1/models/${encodeURIComponent(PRO)}`);
  assert.deepEqual(api.body.team_access.teams.map((x) => x.name).sort(), ['research', 'sales']);

  await menuAction(page, HAIKU, 'Delete');
  const confirm = page.getByRole('dialog', { name: /^Delete / });
  await confirm.getByText(/cannot be undone/).waitFor();
  await screenshot(page, SUITE, 'model-delete-confirm');
  await page.keyboard.press('Escape');
  await confirm.waitFor({ state: 'detached' });
  assert.equal(await modelRow(page, HAIKU).count(), 1, 'Escape cancels');
  await menuAction(page, HAIKU, 'Delete');
  await page.getByRole('dialog', { name: /^Delete / }).getByRole('button', { name: 'Delete' }).click();
  await modelRow(page, HAIKU).waitFor({ state: 'detached' });
  assert.equal((await gw.call('GET', `/admin/v1/models/${encodeURIComponent(HAIKU)}`)).status, 404);

  await navigate(page, 'LLM Credentials');
  assert.match(await row(page, 'prod-us-east').textContent(), new RegExp(`2: .*${LITE.replace(/[.]/g, '\\.')}`));
  await menuAction(page, 'prod-us-east', 'Delete');
  const del = page.getByRole('dialog', { name: 'Delete prod-us-east?' });
  await del.getByText('In use by 2 models:').waitFor();
  await del.getByRole('button', { name: 'Delete' }).click();
  await del.locator('[role=alert]').waitFor();
  await screenshot(page, SUITE, 'credential-delete-blocked');
  await del.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await row(page, 'prod-us-east').count(), 1);

  await navigate(page, 'Audit log');
  await page.locator('tbody tr', { hasText: 'model.delete' }).first().waitFor();
  await screenshot(page, SUITE, 'audit');
  assertNoPageErrors(admin);
});

test('a builder sees only their models in the playground and the answer streams in', async (t) => {
  dumpOnFailure(t, gw);
  const b = await openConsole(browser, gw.url);
  try {
    const { page } = b;
    await signIn(page, people.builder.key);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Model playground' }).waitFor();
    assert.deepEqual(await nav.getByRole('link').allTextContents(), ['Model playground', 'API keys']);
    await page.getByRole('heading', { name: 'Model playground' }).waitFor();
    const options = await page.getByLabel('Model', { exact: true }).locator('option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(options.sort(), [LITE, PRO].sort(), 'only models shared with research');

    await page.getByLabel('Model', { exact: true }).selectOption(LITE);
    // Slow the stream down so its pieces arrive one by one.
    await fakeControl('POST', '/__fake/script', { match: { op: 'converse-stream' }, event_delay_ms: 250, times: 1 });
    const question = 'hello from the browser playground';
    await page.getByLabel('Message').fill(question);
    await page.getByRole('button', { name: 'Send' }).click();
    const answer = page.locator('.msg.assistant .text').last();
    const seen = new Set();
    await eventually(async () => {
      seen.add(await answer.textContent());
      return (await page.locator('.msg.assistant[data-done]').count()) > 0;
    }, { intervalMs: 30, what: 'the streamed answer' });
    const final = await answer.textContent();
    assert.equal(final, `echo: ${question}`);
    const partial = [...seen].filter((s) => s && s !== final);
    assert.ok(partial.length >= 1, `the answer arrived in pieces (saw ${JSON.stringify([...seen])})`);
    await screenshot(page, SUITE, 'playground');

    // Not an admin: the admin pages answer 403 and say so.
    await page.goto(`${gw.url}/#/models`);
    await page.getByText('You do not have access to this page').waitFor();
    await screenshot(page, SUITE, 'builder-models-forbidden');
    assertNoPageErrors(b);
  } finally {
    await b.close();
  }
});

test('a member sees no admin pages, only their own API keys', async (t) => {
  dumpOnFailure(t, gw);
  const m = await openConsole(browser, gw.url);
  try {
    const { page } = m;
    await signIn(page, people.member.key);
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.deepEqual(await nav.getByRole('link').allTextContents(), ['API keys']);
    await page.locator('tbody tr', { hasText: 'browser' }).getByText('This session').waitFor();
    await screenshot(page, SUITE, 'member-keys');
    for (const hash of ['#/models', '#/credentials', '#/teams', '#/users', '#/audit', '#/playground']) {
      await page.goto(`${gw.url}/${hash}`);
      await page.getByText('You do not have access to this page').waitFor();
      assert.match(await page.locator('[role=alert]').first().textContent(), /may not|Your role/);
    }
    await screenshot(page, SUITE, 'member-forbidden');

    // Revoking the key of this session signs the member out at once.
    await navigate(page, 'API keys');
    await page.getByRole('button', { name: 'Revoke browser' }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke browser?' });
    await confirm.getByText('ends this session').waitFor();
    await confirm.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('heading', { name: 'Sign in to modelgate' }).waitFor();
    await screenshot(page, SUITE, 'member-signed-out-after-revoke');
    assertNoPageErrors(m);
  } finally {
    await m.close();
  }
});

test('full_access manages models and credentials but sees no teams, users or audit log', async (t) => {
  dumpOnFailure(t, gw);
  const email = 'full@example.com';
  const u = await gw.call('POST', '/admin/v1/users', { body: { email, name: 'Fay Full', role: 'full_access', teams: ['research'] } });
  assert.equal(u.status, 201, u.text);
  const k = await gw.call('POST', `/admin/v1/users/${u.body.id}/api-keys`, { body: { name: 'browser' } });
  const f = await openConsole(browser, gw.url);
  try {
    const { page } = f;
    await signIn(page, k.body.key);
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.deepEqual(await nav.getByRole('link').allTextContents(), ['Models', 'LLM Credentials', 'Model playground', 'API keys']);
    await modelRow(page, LITE).waitFor();
    // Inline credentials (a role the gateway assumes), browsed before anything is saved; this
    // role may not list teams, so team access is typed by name.
    await page.getByRole('link', { name: '+ Add model' }).click();
    await page.getByLabel('Use a role ARN').check();
    await page.getByLabel('Role ARN', { exact: true }).fill(DEFAULT_ROLE_ARN);
    await page.getByRole('button', { name: 'Show available models' }).click();
    await catalogRow(page, LLAMA).getByRole('checkbox').check();
    await page.getByLabel('Only chosen teams').check();
    await page.getByLabel('Team names (comma-separated)').fill('research');
    await screenshot(page, SUITE, 'full-access-add-model-inline');
    await page.getByRole('button', { name: 'Add 1 model' }).click();
    const added = modelRow(page, LLAMA);
    await added.waitFor();
    assert.match(await added.textContent(), /Inline \(role ARN\)/);
    assert.match(await added.textContent(), /research/);
    await page.goto(`${gw.url}/#/users`);
    await page.getByText('You do not have access to this page').waitFor();
    assertNoPageErrors(f);
  } finally {
    await f.close();
  }
});

test('keyboard: menus and dialogs work without a mouse, focus stays in dialogs, Escape closes', async (t) => {
  dumpOnFailure(t, gw);
  const { page } = admin;
  await navigate(page, 'Models');
  const menuButton = modelRow(page, PRO).getByRole('button', { name: /^Actions for / });
  await menuButton.focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('role')), 'menuitem');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Edit');
  await page.keyboard.press('Escape');
  assert.equal(await menuButton.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-haspopup')), 'menu', 'focus back on the menu button');

  await page.keyboard.press('Enter');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: /^Edit / });
  await dialog.waitFor();
  for (let i = 0; i < 15; i++) {
    await page.keyboard.press('Tab');
    assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)), `focus left the dialog after ${i + 1} Tab presses`);
  }
  await page.keyboard.press('Shift+Tab');
  assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)));
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-haspopup')), 'menu', 'focus returns to where it was');
  assertNoPageErrors(admin);
});

test('readable at phone width: every page, with the navigation behind a Menu button', async (t) => {
  dumpOnFailure(t, gw);
  const { page } = admin;
  await page.setViewportSize(PHONE);
  await page.goto(`${gw.url}/#/models`);
  await page.getByRole('heading', { name: 'Models', exact: true }).waitFor();
  const toggle = page.getByRole('button', { name: 'Menu' });
  await toggle.waitFor();
  assert.equal(await page.getByRole('navigation', { name: 'Main' }).isVisible(), false, 'nav collapsed');
  for (const [label, name] of [['Models', 'models'], ['LLM Credentials', 'credentials'], ['Teams', 'teams'],
    ['Users', 'users'], ['API keys', 'keys'], ['Model playground', 'playground'], ['Audit log', 'audit']]) {
    await navigate(page, label);
    await page.waitForLoadState('networkidle');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${label}: the page scrolls sideways by ${overflow}px at 390px`);
    await screenshot(page, SUITE, `phone-${name}`);
  }
  await page.goto(`${gw.url}/#/models/${encodeURIComponent(LITE)}`);
  await page.getByTestId('health-status').waitFor();
  await screenshot(page, SUITE, 'phone-model-detail');
  await page.goto(`${gw.url}/#/add-model`);
  await page.getByRole('heading', { name: 'Add models' }).waitFor();
  await screenshot(page, SUITE, 'phone-add-model');
  await page.setViewportSize(LAPTOP);
  assertNoPageErrors(admin);
});

test('sign-out ends the session: the old cookie no longer works', async (t) => {
  dumpOnFailure(t, gw);
  const { page } = admin;
  const before = (await admin.context.cookies()).find((c) => c.name === 'mg_session');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to modelgate' }).waitFor();
  assert.equal((await admin.context.cookies()).find((c) => c.name === 'mg_session'), undefined);
  const res = await fetch(`${gw.url}/admin/v1/me`, { headers: { cookie: `mg_session=${before.value}` } });
  assert.equal(res.status, 401);
  await screenshot(page, SUITE, 'signed-out');
  assertNoPageErrors(admin);
  await admin.close();
});
