// Screenshots of the page for the README, written to docs/screenshots/.
// Run by `make screenshots`, not by the tests: every run draws new captchas,
// so the files change each time.
//
//   PASSPORT_SERVER_BIN=target/debug/passport-server node web/tests/screenshots.mjs

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT, startStack } from './harness.mjs';

const OUT_DIR = path.join(REPO_ROOT, 'docs', 'screenshots');

const SHOTS = [
  { file: 'desktop.png', viewport: { width: 1280, height: 800 }, query: '' },
  { file: 'phone.png', viewport: { width: 390, height: 844 }, query: '' },
  { file: 'desktop-en-sent.png', viewport: { width: 1280, height: 800 }, query: '?lang=en', send: true },
  { file: 'phone-sent.png', viewport: { width: 390, height: 844 }, query: '', send: true },
];

async function captchaLoaded(page) {
  await page.waitForFunction(() => {
    const img = document.getElementById('captcha-image');
    return img.getAttribute('src') && img.complete && img.naturalWidth > 0 &&
      !img.classList.contains('is-loading');
  });
  const src = await page.getAttribute('#captcha-image', 'src');
  return new URL(src, 'http://page.invalid').searchParams.get('code_id');
}

const stack = await startStack();
try {
  await mkdir(OUT_DIR, { recursive: true });
  let mobile = 13912345677;
  for (const shot of SHOTS) {
    const context = await stack.browser.newContext({
      viewport: shot.viewport,
      deviceScaleFactor: 1,
      locale: 'zh-CN',
      colorScheme: 'light',
      reducedMotion: 'reduce',
    });
    try {
      const page = await context.newPage();
      await page.goto(stack.baseUrl + '/' + shot.query);
      const codeId = await captchaLoaded(page);
      if (shot.send) {
        const answer = await stack.redis.get(`ImageCode_${codeId}`);
        await page.fill('#mobile', String(++mobile));
        await page.fill('#image-code', answer);
        await page.click('#send-sms');
        await page.waitForSelector('#form-status.is-success');
        await captchaLoaded(page);
      }
      const file = path.join(OUT_DIR, shot.file);
      await page.screenshot({ path: file });
      console.log(`wrote ${path.relative(REPO_ROOT, file)}`);
    } finally {
      await context.close();
    }
  }
} finally {
  await stack.stop();
}
