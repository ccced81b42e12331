import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import { samplePlatforms, startTestSample, type TestSample } from '../support/sample.js';
import { launchChromium } from './chromium.js';

const BROWSER_TIMEOUT = 90_000; // a cold Chromium on a busy 2-core machine; no timing is asserted

/** Opens the SPA in a fresh browser context (its own storage), recording console errors. */
async function openSpa(browser: Browser, origin: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(`${origin}/index.html`);
  await page.waitForSelector('body[data-ready=true]');
  return { page, errors };
}

// a string, evaluated in the page (the tests are compiled without DOM types)
const NOT_READY = 'delete document.body.dataset.ready';
const status = (page: Page, id: string) => page.getAttribute(`#${id}`, 'data-status');
const text = (page: Page, selector: string) => page.textContent(selector);
const corsBlocked = (url: string, origin: string) => `Access to fetch at '${url}' from origin '${origin}' has been blocked by CORS policy`;

// Both client stores on each of Nest's platforms; the typeorm one on SQLite in memory (test/sample covers PostgreSQL).
const cases = samplePlatforms().flatMap((platform) => (['memory', 'typeorm'] as const).map((clientStore) => [platform, clientStore] as const));
describe.each(cases)('sample app on %s in headless Chromium (CLIENT_STORE=%s)', (platform, clientStore) => {
  let sample: TestSample;
  let browser: Browser;

  beforeAll(async () => {
    sample = await startTestSample({ clientStore, platform });
    browser = await launchChromium();
  }, BROWSER_TIMEOUT);
  afterAll(async () => {
    await browser?.close();
    await sample?.stop();
  });

  it('from the denied origin, discovery fails with a CORS error the page sees, while the allowed origin is still served', async () => {
    const denied = await openSpa(browser, sample.deniedOrigin);
    expect(await status(denied.page, 'discovery')).toBe('failed');
    expect(await text(denied.page, '#discovery pre')).toContain('Failed to fetch');
    expect(denied.errors.some((e) => e.startsWith(corsBlocked(`${sample.issuer}/.well-known/openid-configuration`, sample.deniedOrigin)))).toBe(true);
    expect(await denied.page.isDisabled('#login')).toBe(true);
    // the host API's policies are independent of the identity endpoints' CORS
    expect(await status(denied.page, 'api-public')).toBe('ok');
    expect(await status(denied.page, 'api-partner')).toBe('failed');
    expect(await status(denied.page, 'api-internal')).toBe('failed');

    const allowed = await openSpa(browser, sample.allowedOrigin);
    expect(await status(allowed.page, 'discovery')).toBe('ok');
    expect(await text(allowed.page, '#discovery pre')).toContain(`"issuer": "${sample.issuer}"`);
    await denied.page.context().close();
    await allowed.page.context().close();
  }, BROWSER_TIMEOUT);

  it('from the allowed origin, alice logs in; userinfo and the host API answer; refresh and revocation work', async () => {
    const { page, errors } = await openSpa(browser, sample.allowedOrigin);
    expect(await status(page, 'user')).toBe('failed'); // not signed in yet
    await page.click('#login');
    await page.waitForURL(`${sample.issuer}/connect/authorize?**`);
    await page.fill('#username', 'alice');
    await page.fill('#password', 'alice');
    const tokenResponse = page.waitForResponse((r) => r.url() === `${sample.issuer}/connect/token` && r.request().method() === 'POST');
    await page.click('button[value=login]');
    expect((await tokenResponse).status()).toBe(200);
    await page.waitForURL(`${sample.allowedOrigin}/index.html`);
    await page.waitForSelector('body[data-ready=true]');

    expect(await status(page, 'user')).toBe('ok');
    expect(await text(page, '#user .status')).toBe('Alice Smith');
    expect(await status(page, 'userinfo')).toBe('ok');
    expect(await text(page, '#userinfo pre')).toContain('"preferred_username": "alice"');
    expect(await status(page, 'api-public')).toBe('ok');
    expect(await status(page, 'api-partner')).toBe('ok');
    expect(await status(page, 'api-internal')).toBe('failed');
    // the only CORS failures are those of the deliberately disabled /api/internal
    const internalBlocked = corsBlocked(`${sample.issuer}/api/internal`, sample.allowedOrigin);
    const otherCorsErrors = () => errors.filter((e) => e.includes('blocked by CORS policy') && !e.startsWith(internalBlocked));
    expect(errors.some((e) => e.startsWith(internalBlocked))).toBe(true);
    expect(otherCorsErrors()).toEqual([]);

    const refresh = page.waitForResponse((r) => r.url() === `${sample.issuer}/connect/token` && (r.request().postData() ?? '').includes('grant_type=refresh_token'));
    await page.evaluate(NOT_READY);
    await page.click('#refresh');
    expect((await refresh).status()).toBe(200);
    await page.waitForSelector('body[data-ready=true]');
    expect(await status(page, 'userinfo')).toBe('ok');

    const revocation = page.waitForResponse((r) => r.url() === `${sample.issuer}/connect/revocation`);
    await page.evaluate(NOT_READY);
    await page.click('#logout');
    expect((await revocation).status()).toBe(200);
    await page.waitForSelector('body[data-ready=true]');
    expect(await text(page, '#user .status')).toBe('not signed in');
    expect(otherCorsErrors()).toEqual([]);
    await page.context().close();
  }, BROWSER_TIMEOUT);
});
