// The register page in headless Chromium against the real passport-server and
// a private Redis. The tests read captcha answers from Redis, as only a party
// with database access could; the page itself never learns them.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { startServer, startStack, waitFor } from './harness.mjs';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const CJK = /[\u3000-\u9fff\uff00-\uffef]/;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const TEST_TIMEOUT = 30_000;

let stack;

before(async () => {
  stack = await startStack();
}, { timeout: 60_000 });

after(async () => {
  if (stack) await stack.stop();
});

// Each test asks for its own mobile numbers, so the per-mobile interval of one
// test never meets another.
let nextMobile = 13800138000;
const newMobile = () => String(++nextMobile);

/**
 * A fresh browser context and page on `baseUrl + path`. After `body` it checks
 * that the page raised no script error and broke no CSP rule.
 */
async function withPage({ path = '/', locale = 'zh-CN', baseUrl } = {}, body) {
  const context = await stack.browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
  // Well inside the test's own timeout, so a stuck wait fails with its own message.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  const smsRequests = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/passport/sms_code') smsRequests.push(request);
  });
  try {
    const firstImage = page.waitForResponse((r) => r.url().includes('/passport/image_code'));
    const response = await page.goto((baseUrl || stack.baseUrl) + path);
    assert.equal(response.status(), 200);
    await waitForCaptcha(page);
    await body(page, { response, firstImage: await firstImage, smsRequests });
    const violations = await page.evaluate(() => window.__cspViolations);
    assert.deepEqual(violations, [], 'the page breaks its Content-Security-Policy');
    assert.deepEqual(problems, [], 'the page logged errors');
  } finally {
    await context.close();
  }
}

async function captchaId(page) {
  const src = await page.getAttribute('#captcha-image', 'src');
  return new URL(src, 'http://page.invalid').searchParams.get('code_id');
}

/** Waits until the captcha image has a decoded picture. */
async function waitForCaptcha(page) {
  await page.waitForFunction(() => {
    const img = document.getElementById('captcha-image');
    return img.getAttribute('src') && img.complete && img.naturalWidth > 0 &&
      !img.classList.contains('is-loading');
  });
  return captchaId(page);
}

/** Waits until the captcha shows a picture other than the one named `oldId`. */
async function waitForNewCaptcha(page, oldId) {
  await page.waitForFunction((old) => {
    const img = document.getElementById('captcha-image');
    return !img.getAttribute('src').endsWith(old) && img.complete && img.naturalWidth > 0 &&
      !img.classList.contains('is-loading');
  }, oldId);
  return captchaId(page);
}

async function answerFor(codeId) {
  return waitFor(`ImageCode_${codeId} in Redis`, () => stack.redis.get(`ImageCode_${codeId}`), 5_000);
}

/** A string the server must reject for `answer`, whatever case or spacing rules it applies. */
const wrongAnswerFor = (answer) => `${answer}Q`;

const text = (page, selector) => page.locator(selector).innerText();

async function fillForm(page, { mobile, imageCode }) {
  await page.fill('#mobile', mobile);
  await page.fill('#image-code', imageCode);
}

/** Clicks "get SMS code" and returns the server's answer to the POST it makes. */
async function sendAndWait(page) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/passport/sms_code'),
    page.click('#send-sms'),
  ]);
  return response;
}

async function countdownValue(page) {
  const value = await page.getAttribute('#send-sms', 'data-countdown');
  return value === null ? null : Number(value);
}

describe('captcha', { timeout: TEST_TIMEOUT }, () => {
  test('loads as a PNG under the strict CSP, its answer stored under ImageCode_<code_id>', async () => {
    await withPage({}, async (page, { response, firstImage }) => {
      const csp = response.headers()['content-security-policy'] || '';
      assert.match(csp, /script-src 'self'/, 'the page is served with a strict CSP');

      assert.equal(firstImage.status(), 200);
      assert.equal(firstImage.headers()['content-type'], 'image/png');
      const bytes = await firstImage.body();
      assert.deepEqual(bytes.subarray(0, 8), PNG_SIGNATURE);

      const id = await captchaId(page);
      assert.match(id, UUID_V4);
      assert.equal(new URL(firstImage.url()).searchParams.get('code_id'), id);
      const width = await page.$eval('#captcha-image', (img) => img.naturalWidth);
      assert.ok(width > 0, 'the image decoded');
      assert.ok((await answerFor(id)).length > 0);

      const alt = await page.getAttribute('#captcha-image', 'alt');
      assert.equal(alt, '图片验证码');
    });
  });

  test('a click on the picture, or the refresh button by keyboard, loads a new one with a new code_id', async () => {
    await withPage({}, async (page) => {
      const first = await captchaId(page);
      await page.click('#captcha-image');
      const second = await waitForNewCaptcha(page, first);
      assert.notEqual(second, first);
      assert.match(second, UUID_V4);
      assert.ok(await answerFor(second));

      const refresh = page.getByRole('button', { name: '换一张图片验证码' });
      await refresh.focus();
      await page.keyboard.press('Enter');
      const third = await waitForNewCaptcha(page, second);
      assert.notEqual(third, second);
      assert.ok(await answerFor(third));
      assert.equal(await page.evaluate(() => document.activeElement.id), 'image-code');
    });
  });

  test('without crypto.randomUUID (plain http) the page still makes v4 ids', async () => {
    const context = await stack.browser.newContext({ locale: 'zh-CN' });
    context.setDefaultTimeout(10_000);
    try {
      await context.addInitScript(() => {
        Object.defineProperty(Crypto.prototype, 'randomUUID', { value: undefined });
      });
      const page = await context.newPage();
      await page.goto(stack.baseUrl + '/');
      assert.equal(await page.evaluate(() => typeof crypto.randomUUID), 'undefined');
      const id = await waitForCaptcha(page);
      assert.match(id, UUID_V4);
      assert.ok(await answerFor(id));
    } finally {
      await context.close();
    }
  });
});

describe('get SMS code', { timeout: TEST_TIMEOUT }, () => {
  test('invalid mobile or empty captcha: inline errors, and no request is sent', async () => {
    await withPage({}, async (page, { smsRequests }) => {
      await fillForm(page, { mobile: '12345678901', imageCode: 'ABCD' });
      await page.click('#send-sms');
      assert.equal(await text(page, '#mobile-error'), '手机号格式不正确，请输入 11 位中国大陆手机号');
      assert.equal(await page.getAttribute('#mobile', 'aria-invalid'), 'true');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'mobile');

      await fillForm(page, { mobile: '', imageCode: 'ABCD' });
      await page.click('#send-sms');
      assert.equal(await text(page, '#mobile-error'), '请输入手机号');

      await fillForm(page, { mobile: newMobile(), imageCode: '   ' });
      await page.click('#send-sms');
      assert.equal(await text(page, '#mobile-error'), '');
      assert.equal(await page.getAttribute('#mobile', 'aria-invalid'), null);
      assert.equal(await text(page, '#image-code-error'), '请输入图片中的字符');
      assert.equal(await page.getAttribute('#image-code', 'aria-invalid'), 'true');

      // The error regions are live regions, so a screen reader announces them.
      assert.equal(await page.getAttribute('#mobile-error', 'aria-live'), 'polite');
      assert.equal(await page.getAttribute('#image-code-error', 'aria-live'), 'polite');
      assert.equal(smsRequests.length, 0, 'no request for invalid input');

      // A valid form does send: the counter above was listening.
      await page.fill('#image-code', 'ABCD');
      await sendAndWait(page);
      assert.equal(smsRequests.length, 1);
    });
  });

  test('a wrong captcha shows the error text and loads a fresh captcha', async () => {
    await withPage({}, async (page, { smsRequests }) => {
      const id = await captchaId(page);
      const answer = await answerFor(id);
      await fillForm(page, { mobile: newMobile(), imageCode: wrongAnswerFor(answer) });
      const response = await sendAndWait(page);
      assert.equal(response.status(), 400);
      assert.equal((await response.json()).errno, '4004');

      await page.waitForSelector('#form-status.is-error');
      assert.equal(await text(page, '#form-status'), '图片验证码错误');
      assert.equal(await page.getAttribute('#form-status', 'aria-live'), 'polite');
      const fresh = await waitForNewCaptcha(page, id);
      assert.notEqual(fresh, id);
      assert.equal(await stack.redis.get(`ImageCode_${id}`), null, 'the old captcha is used up');
      assert.ok(await answerFor(fresh));
      assert.equal(await page.inputValue('#image-code'), '');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'image-code');
      assert.equal(await page.isEnabled('#send-sms'), true, 'no countdown after a captcha error');
      assert.equal(smsRequests.length, 1);
    });
  });

  test('the right captcha: success, countdown on the disabled button, code in Redis under SMS_<mobile>', async () => {
    await withPage({}, async (page, { smsRequests }) => {
      const mobile = newMobile();
      const id = await captchaId(page);
      const answer = await answerFor(id);
      // Typed with +86, spaces and in lower case, as a person might.
      const typedMobile = `+86 ${mobile.slice(0, 3)} ${mobile.slice(3, 7)} ${mobile.slice(7)}`;
      await fillForm(page, { mobile: typedMobile, imageCode: answer.toLowerCase() });
      const response = await sendAndWait(page);

      const request = smsRequests[0];
      assert.equal(request.method(), 'POST');
      assert.match(request.headers()['content-type'], /^application\/json/);
      assert.deepEqual(request.postDataJSON(), {
        mobile,
        image_code: answer.toLowerCase(),
        image_code_id: id,
      });
      assert.equal(response.status(), 200);
      assert.deepEqual(await response.json(), { errno: '0', errmsg: '发送成功' });

      await page.waitForSelector('#form-status.is-success');
      assert.equal(
        await text(page, '#form-status'),
        `验证码已发送到 ${mobile.slice(0, 3)}****${mobile.slice(7)}，请查收短信。`,
      );
      assert.equal(await page.isDisabled('#send-sms'), true);
      const start = await countdownValue(page);
      assert.ok(start >= 58 && start <= 60, `countdown starts near 60, got ${start}`);
      assert.match(await text(page, '#send-sms'), /^\d+ 秒后重新获取$/);
      await page.waitForFunction(
        (s) => Number(document.getElementById('send-sms').dataset.countdown) < s,
        start,
      );
      assert.equal(await page.isDisabled('#send-sms'), true, 'still disabled while counting');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'sms-code');

      const smsCode = await stack.redis.get(`SMS_${mobile}`);
      assert.match(smsCode || '', /^\d{6}$/);
      assert.ok((await stack.redis.ttl(`SMS_${mobile}`)) > 0, 'the SMS code expires');
      assert.equal(await stack.redis.get(`ImageCode_${id}`), null, 'the captcha is used up');
      const fresh = await waitForNewCaptcha(page, id);
      assert.ok(await answerFor(fresh), 'a fresh captcha for the next request');
      assert.equal(await page.inputValue('#image-code'), '');
    });
  });

  test('a network failure shows a message and a fresh captcha', async () => {
    await withPage({}, async (page) => {
      await page.route('**/passport/sms_code', (route) => route.abort('internetdisconnected'));
      const id = await captchaId(page);
      await fillForm(page, { mobile: newMobile(), imageCode: 'ABCD' });
      await page.click('#send-sms');
      await page.waitForSelector('#form-status.is-error');
      assert.equal(await text(page, '#form-status'), '网络连接失败，请检查网络后重试');
      await waitForNewCaptcha(page, id);
      assert.equal(await page.isEnabled('#send-sms'), true);
    });
  });

  test('by keyboard alone: Tab through the form, Enter sends', async () => {
    await withPage({}, async (page) => {
      const order = [];
      for (let i = 0; i < 7; i++) {
        await page.keyboard.press('Tab');
        order.push(await page.evaluate(() => document.activeElement.id || document.activeElement.className));
      }
      assert.deepEqual(order.slice(2), ['mobile', 'image-code', 'captcha-refresh', 'sms-code', 'send-sms']);

      const mobile = newMobile();
      const answer = await answerFor(await captchaId(page));
      await page.focus('#mobile');
      await page.keyboard.type(mobile);
      await page.keyboard.press('Tab');
      await page.keyboard.type(answer);
      const [response] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/passport/sms_code'),
        page.keyboard.press('Enter'),
      ]);
      assert.equal(response.status(), 200);
      await page.waitForSelector('#form-status.is-success');
      assert.match(await stack.redis.get(`SMS_${mobile}`), /^\d{6}$/);
    });
  });
});

describe('rate limit', { timeout: TEST_TIMEOUT }, () => {
  // An interval other than the page's own 60 s, so the countdown can only
  // have come from Retry-After.
  const INTERVAL = 45;
  let server;
  before(async () => {
    server = await startServer(stack.redis.url, { PASSPORT__LIMITS__SMS_INTERVAL_SECS: String(INTERVAL) });
  });
  after(async () => {
    if (server) await server.stop();
  });

  test('a second request within the interval gets 429 and counts down from Retry-After', async () => {
    const mobile = newMobile();
    await withPage({ baseUrl: server?.baseUrl }, async (page) => {
      await fillForm(page, { mobile, imageCode: await answerFor(await captchaId(page)) });
      assert.equal((await sendAndWait(page)).status(), 200);
    });
    // A new page has no countdown of its own: only the server knows.
    await withPage({ baseUrl: server?.baseUrl }, async (page) => {
      const id = await captchaId(page);
      await fillForm(page, { mobile, imageCode: await answerFor(id) });
      const response = await sendAndWait(page);
      assert.equal(response.status(), 429);
      const body = await response.json();
      assert.equal(body.errno, '4201');
      const retryAfter = Number(response.headers()['retry-after']);
      assert.ok(retryAfter > 0 && retryAfter <= INTERVAL, `Retry-After ${retryAfter}`);

      await page.waitForSelector('#form-status.is-error');
      assert.equal(await text(page, '#form-status'), body.errmsg);
      assert.equal(await page.isDisabled('#send-sms'), true);
      const shown = await countdownValue(page);
      // A tick or two may pass between the answer and this read on a busy machine.
      assert.ok(
        shown <= retryAfter && shown >= retryAfter - 2,
        `countdown ${shown} follows Retry-After ${retryAfter}`,
      );
      assert.match(await text(page, '#send-sms'), new RegExp(`^${shown} 秒后重新获取$`));
      await waitForNewCaptcha(page, id);
    });
  });
});

describe('language', { timeout: TEST_TIMEOUT }, () => {
  /** Visible text outside elements marked as Chinese (the language switch). */
  const englishPageText = (page) => page.evaluate(() => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const parts = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const owner = node.parentElement;
      if (owner.closest('[lang^="zh"]') || owner.closest('noscript')) continue;
      parts.push(node.textContent);
    }
    const attrs = [...document.querySelectorAll('[placeholder],[alt],[aria-label],[title]')]
      .flatMap((el) => ['placeholder', 'alt', 'aria-label', 'title'].map((a) => el.getAttribute(a) || ''));
    return [document.title, ...parts, ...attrs].join('\n');
  });

  test('Chinese by default', async () => {
    await withPage({ locale: 'zh-CN' }, async (page) => {
      assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
      assert.equal(await text(page, '#send-sms'), '获取验证码');
      await page.getByLabel('手机号').fill('1');
      assert.equal(await page.getAttribute('#lang-switch', 'href'), '?lang=en');
    });
  });

  test('?lang=en switches every text, and the request asks for English', async () => {
    await withPage({ locale: 'zh-CN', path: '/?lang=en' }, async (page, { smsRequests }) => {
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.equal(await page.title(), 'Sign up · Passport');
      assert.equal(await text(page, '#send-sms'), 'Get code');
      assert.equal(await page.getAttribute('#captcha-image', 'alt'), 'Picture code');
      await page.getByLabel('Mobile number').fill('123');
      await page.getByRole('button', { name: 'Get a new picture code' }).focus();
      const all = await englishPageText(page);
      assert.doesNotMatch(all, CJK, `Chinese text left on the English page:\n${all}`);

      await page.click('#send-sms');
      assert.equal(await text(page, '#mobile-error'), 'Enter an 11-digit mainland China mobile number');

      const id = await captchaId(page);
      const answer = await answerFor(id);
      await fillForm(page, { mobile: newMobile(), imageCode: wrongAnswerFor(answer) });
      const response = await sendAndWait(page);
      assert.equal(smsRequests[0].headers()['accept-language'], 'en');
      const { errmsg } = await response.json();
      assert.doesNotMatch(errmsg, CJK, 'the server answers in English when asked');
      await page.waitForSelector('#form-status.is-error');
      assert.equal(await text(page, '#form-status'), errmsg);
    });
  });

  test('on the English page a Chinese errmsg (a backend that ignores Accept-Language) reads in English', async () => {
    await withPage({ path: '/?lang=en' }, async (page) => {
      // Stands in for a seed-era backend; the page's own handling is under test.
      await page.route('**/passport/sms_code', (route) => route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ errno: '4004', errmsg: '图片验证码错误' }),
      }));
      await fillForm(page, { mobile: newMobile(), imageCode: 'ABCD' });
      await page.click('#send-sms');
      await page.waitForSelector('#form-status.is-error');
      assert.equal(await text(page, '#form-status'), 'The picture code is wrong');
    });
  });

  test('an English browser gets English; ?lang=zh overrides it', async () => {
    await withPage({ locale: 'en-US' }, async (page) => {
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.equal(await text(page, '#form-title'), 'Create an account');
    });
    await withPage({ locale: 'en-US', path: '/?lang=zh' }, async (page) => {
      assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
      assert.equal(await text(page, '#form-title'), '注册账号');
    });
  });
});

describe('accessibility', { timeout: TEST_TIMEOUT }, () => {
  let axeSource;
  before(async () => {
    axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  });

  /** axe-core's WCAG 2.1 A/AA and best-practice rules; the violations, readable. */
  async function axeViolations(page) {
    // Evaluated through the debugging protocol, which the page's CSP does not govern.
    await page.evaluate(axeSource);
    const result = await page.evaluate(() => window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    }));
    return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  }

  test('no axe-core violations: fresh page, inline errors, a server error, in both languages', async () => {
    await withPage({}, async (page) => {
      assert.deepEqual(await axeViolations(page), []);
      await page.click('#send-sms');
      await page.waitForSelector('#mobile[aria-invalid="true"]');
      assert.deepEqual(await axeViolations(page), []);
    });
    await withPage({ path: '/?lang=en' }, async (page) => {
      const id = await captchaId(page);
      await fillForm(page, { mobile: newMobile(), imageCode: wrongAnswerFor(await answerFor(id)) });
      await sendAndWait(page);
      await page.waitForSelector('#form-status.is-error');
      await waitForNewCaptcha(page, id);
      assert.deepEqual(await axeViolations(page), []);
    });
  });
});

describe('compat mode (errors as HTTP 200)', { timeout: TEST_TIMEOUT }, () => {
  let compat;
  before(async () => {
    compat = await startServer(stack.redis.url, { PASSPORT__COMPAT__ERRORS_AS_200: 'true' });
  });
  after(async () => {
    if (compat) await compat.stop();
  });

  test('errno decides: a wrong captcha answered with 200 still shows the error', async () => {
    await withPage({ baseUrl: compat?.baseUrl }, async (page) => {
      const id = await captchaId(page);
      await fillForm(page, { mobile: newMobile(), imageCode: wrongAnswerFor(await answerFor(id)) });
      const response = await sendAndWait(page);
      assert.equal(response.status(), 200);
      assert.equal((await response.json()).errno, '4004');
      await page.waitForSelector('#form-status.is-error');
      assert.equal(await text(page, '#form-status'), '图片验证码错误');
      await waitForNewCaptcha(page, id);
      assert.equal(await page.isEnabled('#send-sms'), true);
    });
  });

  test('errno decides: a rate limit answered with 200 still counts down from Retry-After', async () => {
    const mobile = newMobile();
    await withPage({ baseUrl: compat?.baseUrl }, async (page) => {
      await fillForm(page, { mobile, imageCode: await answerFor(await captchaId(page)) });
      assert.equal((await sendAndWait(page)).status(), 200);
    });
    await withPage({ baseUrl: compat?.baseUrl }, async (page) => {
      await fillForm(page, { mobile, imageCode: await answerFor(await captchaId(page)) });
      const response = await sendAndWait(page);
      assert.equal(response.status(), 200);
      assert.equal((await response.json()).errno, '4201');
      const retryAfter = Number(response.headers()['retry-after']);
      assert.ok(retryAfter > 0, 'Retry-After is still set in compat mode');
      await page.waitForSelector('#form-status.is-error');
      const shown = await countdownValue(page);
      assert.ok(shown <= retryAfter && shown >= retryAfter - 2, `countdown ${shown}, Retry-After ${retryAfter}`);
      assert.equal(await page.isDisabled('#send-sms'), true);
    });
  });
});
