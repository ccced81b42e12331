import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium); CI installs it and sets REQUIRE_BROWSER=1. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

// Flags for a container: no sandbox (no user namespaces), no GPU, and no background traffic to Google.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}, and the browser tests must run (REQUIRE_BROWSER=1): apt-get install chromium`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
}
