// Regenerates docs/sample-app.png: with `npm run start:sample` running, `node sample-app/scripts/screenshot.mjs`.
// Logs alice in on the allowed origin and captures the page (SPA_URL and OUT override the defaults).
import { chromium } from 'playwright-core';

const spa = process.env.SPA_URL ?? 'http://localhost:4200';
const out = process.env.OUT ?? 'docs/sample-app.png';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 780 } });
  await page.goto(`${spa}/index.html`);
  await page.waitForSelector('body[data-ready=true]');
  await page.click('#login');
  await page.waitForSelector('#username');
  await page.fill('#username', 'alice');
  await page.fill('#password', 'alice');
  await page.click('button[value=login]');
  await page.waitForURL(`${spa}/index.html`);
  await page.waitForSelector('body[data-ready=true]');
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
}
