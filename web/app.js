// The register page: image captcha, then an SMS code.
// Served under a strict CSP (script-src 'self'), so every handler is bound here
// and no markup carries inline script or style.
(function () {
  'use strict';

  var IMAGE_CODE_URL = '/passport/image_code?code_id=';
  var AUDIO_CODE_URL = '/passport/audio_code?code_id=';
  var SMS_CODE_URL = '/passport/sms_code';
  // The server allows one SMS per mobile per minute; the button waits as long.
  var RESEND_SECONDS = 60;
  var REQUEST_TIMEOUT_MS = 15000;
  // Mainland China mobile numbers, optionally written with the +86 country code.
  var MOBILE_RE = /^(?:\+86)?(1[3-9]\d{9})$/;
  var CJK_RE = /[\u3000-\u9fff\uff00-\uffef]/;
  // Spoken answers are always 6 digits, whatever the picture's length.
  var AUDIO_ANSWER_RE = /^\d{6}$/;

  var MESSAGES = {
    zh: {
      'doc.title': '注册 · Passport',
      'lang.switch': 'English',
      'intro.eyebrow': '手机号注册',
      'intro.title': '两步拿到短信验证码',
      'intro.lede': '输入手机号和图片中的字符，我们会把 6 位验证码发到你的手机上。',
      'step1.title': '输入图片验证码',
      'step1.text': '证明操作的是人。每张图只能用一次，看不清可以换一张。',
      'step2.title': '获取短信验证码',
      'step2.text': '同一个手机号 60 秒内只能获取一次。',
      'step3.title': '在应用里完成注册',
      'step3.text': '接入 Passport 的应用核对验证码，再创建你的账号。',
      'form.title': '注册账号',
      'form.sub': '所有字段都是必填的。',
      'mobile.label': '手机号',
      'mobile.placeholder': '11 位手机号',
      'captcha.label': '图片验证码',
      'captcha.placeholder': '图中字符',
      'captcha.alt': '图片验证码',
      'captcha.refresh': '换一张图片验证码',
      'captcha.refreshShort': '换一张',
      'captcha.hint': '请输入图中大的空心字符（忽略小字符），不区分大小写。点击图片可以换一张，看不清也可以听语音。',
      'captcha.listen': '听语音验证码',
      'captcha.listenShort': '听语音',
      'audio.label': '语音验证码',
      'audio.placeholder': '6 位数字',
      'audio.note': '语音验证码已启用，这张图片已失效',
      'audio.hint': '请输入听到的 6 位数字。点“换一张”可以换回图片验证码。',
      'audio.replay': '再听一遍语音验证码',
      'audio.player': '语音验证码',
      'sms.label': '短信验证码',
      'sms.placeholder': '6 位数字',
      'sms.send': '获取验证码',
      'sms.resend': '重新获取',
      'sms.sending': '发送中…',
      'sms.wait': '{n} 秒后重新获取',
      'sms.waitLong': '{n} 后重新获取',
      'sms.hint': '先填好手机号和图片验证码，再获取短信验证码。',
      'sms.hintSent': '请输入短信里的 6 位数字。',
      'note.integration': '最后的“注册”一步由接入 Passport 的应用完成：应用的后端核对你输入的短信验证码，然后创建账号。这个页面只负责发送验证码。',
      'footer.text': 'Passport · 自托管的图片验证码与短信验证码服务',
      'error.mobileEmpty': '请输入手机号',
      'error.mobileInvalid': '手机号格式不正确，请输入 11 位中国大陆手机号',
      'error.captchaEmpty': '请输入图片中的字符',
      'error.captchaLoad': '图片验证码加载失败，请点右边的按钮换一张',
      'error.audioEmpty': '请输入听到的 6 位数字',
      'error.audioDigits': '语音验证码是 6 位数字',
      'error.audioLoad': '语音验证码加载失败，请再点一次“听语音”，或换回图片验证码',
      'error.network': '网络连接失败，请检查网络后重试',
      'error.unexpected': '服务暂时不可用，请稍后再试',
      'errno.4001': '服务暂时不可用，请稍后再试',
      'errno.4002': '图片验证码已过期，请重新输入',
      'errno.4004': '图片验证码错误',
      'errno.4103': '参数错误',
      'errno.4201': '请求过于频繁，请稍后再试',
      'errno.4301': '短信发送失败，请稍后再试',
      'errno.4500': '服务器出错，请稍后再试',
      'sent': '验证码已发送到 {mobile}，请查收短信。',
      'next.integration': '下一步（注册）由接入 Passport 的应用完成。'
    },
    en: {
      'doc.title': 'Sign up · Passport',
      'lang.switch': '中文',
      'intro.eyebrow': 'Sign up with your mobile',
      'intro.title': 'Your SMS code in two steps',
      'intro.lede': 'Enter your mobile number and the characters in the picture, and we will text you a 6-digit code.',
      'step1.title': 'Type the picture code',
      'step1.text': 'It shows a person is here. Each picture works once; get a new one if it is hard to read.',
      'step2.title': 'Get the SMS code',
      'step2.text': 'One code per mobile number every 60 seconds.',
      'step3.title': 'Finish in the app',
      'step3.text': 'The app that uses Passport checks the code and creates your account.',
      'form.title': 'Create an account',
      'form.sub': 'All fields are required.',
      'mobile.label': 'Mobile number',
      'mobile.placeholder': '11 digits',
      'captcha.label': 'Picture code',
      'captcha.placeholder': 'Characters',
      'captcha.alt': 'Picture code',
      'captcha.refresh': 'Get a new picture code',
      'captcha.refreshShort': 'New picture',
      'captcha.hint': 'Type the large outlined characters (ignore the small ones); not case-sensitive. Click the picture for a new one, or listen to an audio code.',
      'captcha.listen': 'Listen to an audio code',
      'captcha.listenShort': 'Audio code',
      'audio.label': 'Audio code',
      'audio.placeholder': '6 digits',
      'audio.note': 'Audio code on: this picture no longer applies',
      'audio.hint': 'Type the 6 digits you hear. The “new picture” button goes back to a picture code.',
      'audio.replay': 'Play the audio code again',
      'audio.player': 'Audio code',
      'sms.label': 'SMS code',
      'sms.placeholder': '6 digits',
      'sms.send': 'Get code',
      'sms.resend': 'Send again',
      'sms.sending': 'Sending…',
      'sms.wait': 'Again in {n} s',
      'sms.waitLong': 'Again in {n}',
      'sms.hint': 'Fill in your mobile number and the picture code first.',
      'sms.hintSent': 'Type the 6 digits from the SMS.',
      'note.integration': 'The final sign-up step belongs to the app that uses Passport: its back end checks the SMS code you type and then creates the account. This page only sends the code.',
      'footer.text': 'Passport · self-hosted picture and SMS verification codes',
      'error.mobileEmpty': 'Enter your mobile number',
      'error.mobileInvalid': 'Enter an 11-digit mainland China mobile number',
      'error.captchaEmpty': 'Enter the characters in the picture',
      'error.captchaLoad': 'The picture code did not load. Use the button beside it to get a new one',
      'error.audioEmpty': 'Enter the 6 digits you hear',
      'error.audioDigits': 'The audio code is 6 digits',
      'error.audioLoad': 'The audio code did not load. Use the listen button again, or go back to a picture code',
      'error.network': 'Could not reach the server. Check your connection and try again',
      'error.unexpected': 'The service is unavailable. Please try again later',
      'errno.4001': 'The service is unavailable. Please try again later',
      'errno.4002': 'The picture code has expired. Please type the new one',
      'errno.4004': 'The picture code is wrong',
      'errno.4103': 'Invalid request',
      'errno.4201': 'Too many requests. Please wait and try again',
      'errno.4301': 'The SMS could not be sent. Please try again later',
      'errno.4500': 'Something went wrong on the server. Please try again later',
      'sent': 'Code sent to {mobile}. Check your messages.',
      'next.integration': 'The next step (sign-up) happens in the app that uses Passport.'
    }
  };

  var lang = pickLanguage();
  var els = {};
  var state = {
    imageCodeId: null,
    // True while the spoken answer is the one the server holds for imageCodeId.
    audio: false,
    busy: false,
    countdownTimer: null,
    deadline: 0
  };

  function pickLanguage() {
    var asked = new URLSearchParams(window.location.search).get('lang');
    if (asked) {
      asked = asked.toLowerCase();
      if (asked.indexOf('en') === 0) return 'en';
      if (asked.indexOf('zh') === 0) return 'zh';
    }
    var browser = (navigator.language || '').toLowerCase();
    return browser.indexOf('en') === 0 ? 'en' : 'zh';
  }

  function t(key, params) {
    var text = MESSAGES[lang][key];
    if (text === undefined) text = MESSAGES.zh[key] || key;
    if (params) {
      Object.keys(params).forEach(function (name) {
        text = text.replace('{' + name + '}', params[name]);
      });
    }
    return text;
  }

  function applyLanguage() {
    document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
    document.querySelectorAll('[data-i18n]').forEach(function (el) {
      el.textContent = t(el.getAttribute('data-i18n'));
    });
    [['data-i18n-placeholder', 'placeholder'],
     ['data-i18n-alt', 'alt'],
     ['data-i18n-aria-label', 'aria-label'],
     ['data-i18n-title', 'title']].forEach(function (pair) {
      document.querySelectorAll('[' + pair[0] + ']').forEach(function (el) {
        el.setAttribute(pair[1], t(el.getAttribute(pair[0])));
      });
    });
    var other = lang === 'en' ? 'zh' : 'en';
    var params = new URLSearchParams(window.location.search);
    params.set('lang', other);
    els.langSwitch.textContent = t('lang.switch');
    els.langSwitch.setAttribute('href', '?' + params.toString());
    els.langSwitch.setAttribute('lang', other === 'en' ? 'en' : 'zh-CN');
    els.langSwitch.setAttribute('hreflang', other === 'en' ? 'en' : 'zh-CN');
  }

  // crypto.randomUUID exists only in secure contexts (https, localhost);
  // a deployment on plain http still needs a v4 UUID.
  function newCodeId() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === 'function') return c.randomUUID();
    var bytes = new Uint8Array(16);
    c.getRandomValues(bytes);
    // The version (4) and variant (10xx) bits the server's UUID check expects.
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join('');
    return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' +
      hex.slice(16, 20) + '-' + hex.slice(20);
  }

  // Each id names one captcha on the server; a new picture always gets a new id.
  // A picture always means leaving the audio challenge.
  function generateImageCode() {
    if (state.audio) leaveAudio();
    state.imageCodeId = newCodeId();
    els.captchaImage.classList.add('is-loading');
    els.captchaImage.src = IMAGE_CODE_URL + state.imageCodeId;
  }

  // The server answers audio_code with a new answer for the id, replacing the
  // picture's: from here on only what is spoken counts, so the picture goes.
  function loadAudioCode(play) {
    var url = AUDIO_CODE_URL + state.imageCodeId + '&lang=' + (lang === 'en' ? 'en' : 'zh');
    els.audio.src = url;
    if (play) {
      var playing = els.audio.play();
      // A browser that refuses to play still shows the controls; the error
      // event reports a load that failed.
      if (playing && typeof playing.catch === 'function') playing.catch(function () {});
    }
  }

  function renderCaptchaMode() {
    var audio = state.audio;
    var keys = audio
      ? { label: 'audio.label', placeholder: 'audio.placeholder', hint: 'audio.hint', listen: 'audio.replay' }
      : { label: 'captcha.label', placeholder: 'captcha.placeholder', hint: 'captcha.hint', listen: 'captcha.listen' };
    els.imageCodeLabel.setAttribute('data-i18n', keys.label);
    els.imageCodeLabel.textContent = t(keys.label);
    els.imageCode.setAttribute('data-i18n-placeholder', keys.placeholder);
    els.imageCode.setAttribute('placeholder', t(keys.placeholder));
    els.imageCodeHint.setAttribute('data-i18n', keys.hint);
    els.imageCodeHint.textContent = t(keys.hint);
    els.captchaListen.setAttribute('data-i18n-aria-label', keys.listen);
    els.captchaListen.setAttribute('aria-label', t(keys.listen));
    if (audio) {
      els.imageCode.setAttribute('inputmode', 'numeric');
    } else {
      els.imageCode.removeAttribute('inputmode');
    }
    els.captchaImage.hidden = audio;
    els.audioNote.hidden = !audio;
    els.audio.hidden = !audio;
  }

  function listen() {
    var loadError = els.imageCodeError.textContent;
    if (loadError === t('error.captchaLoad') || loadError === t('error.audioLoad')) {
      setFieldError(els.imageCode, els.imageCodeError, '');
    }
    if (!state.audio) {
      state.audio = true;
      renderCaptchaMode();
      loadAudioCode(true);
    } else if (els.audio.error || !els.audio.getAttribute('src')) {
      loadAudioCode(true);
    } else {
      // The same answer again: asking the server would replace it.
      els.audio.currentTime = 0;
      var playing = els.audio.play();
      if (playing && typeof playing.catch === 'function') playing.catch(function () {});
    }
    els.imageCode.focus();
  }

  function leaveAudio() {
    state.audio = false;
    els.audio.pause();
    els.audio.removeAttribute('src');
    els.audio.load();
    if (els.imageCodeError.textContent === t('error.audioLoad')) {
      setFieldError(els.imageCode, els.imageCodeError, '');
    }
    renderCaptchaMode();
  }

  // A used-up captcha is replaced in the form the user chose; a new audio
  // answer waits for the listen button instead of talking over the message.
  function renewCaptcha() {
    if (state.audio) {
      state.imageCodeId = newCodeId();
      loadAudioCode(false);
    } else {
      generateImageCode();
    }
  }

  // Digits typed with a Chinese input method may come full-width, or in groups.
  function normaliseAudioAnswer(value) {
    return value.replace(/\s+/g, '').replace(/[\uff10-\uff19]/g, function (d) {
      return String.fromCharCode(d.charCodeAt(0) - 0xfee0);
    });
  }

  function setFieldError(input, errorEl, message) {
    errorEl.textContent = message || '';
    if (message) {
      input.setAttribute('aria-invalid', 'true');
    } else {
      input.removeAttribute('aria-invalid');
    }
  }

  function setStatus(kind, message) {
    els.status.className = 'form-status' + (kind ? ' is-' + kind : '');
    els.status.textContent = message || '';
  }

  function maskMobile(mobile) {
    return mobile.slice(0, 3) + '****' + mobile.slice(7);
  }

  function readForm() {
    var rawMobile = els.mobile.value.replace(/[\s-]/g, '');
    var mobileMatch = MOBILE_RE.exec(rawMobile);
    var imageCode = els.imageCode.value.trim();
    if (state.audio) imageCode = normaliseAudioAnswer(imageCode);
    var firstInvalid = null;

    if (!rawMobile) {
      setFieldError(els.mobile, els.mobileError, t('error.mobileEmpty'));
      firstInvalid = els.mobile;
    } else if (!mobileMatch) {
      setFieldError(els.mobile, els.mobileError, t('error.mobileInvalid'));
      firstInvalid = els.mobile;
    } else {
      setFieldError(els.mobile, els.mobileError, '');
    }

    if (!imageCode) {
      setFieldError(els.imageCode, els.imageCodeError, t(state.audio ? 'error.audioEmpty' : 'error.captchaEmpty'));
      firstInvalid = firstInvalid || els.imageCode;
    } else if (state.audio && !AUDIO_ANSWER_RE.test(imageCode)) {
      // Caught here, since the server would use the captcha up on it.
      setFieldError(els.imageCode, els.imageCodeError, t('error.audioDigits'));
      firstInvalid = firstInvalid || els.imageCode;
    } else {
      setFieldError(els.imageCode, els.imageCodeError, '');
    }

    if (firstInvalid) {
      firstInvalid.focus();
      return null;
    }
    return { mobile: mobileMatch[1], imageCode: imageCode };
  }

  // Retry-After is either delta-seconds or an HTTP date.
  function parseRetryAfter(value) {
    if (!value) return null;
    var trimmed = value.trim();
    if (/^\d+$/.test(trimmed)) return parseInt(trimmed, 10);
    var when = Date.parse(trimmed);
    if (isNaN(when)) return null;
    return Math.max(0, Math.ceil((when - Date.now()) / 1000));
  }

  function formatWait(seconds) {
    if (seconds < 120) return t('sms.wait', { n: String(seconds) });
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    return t('sms.waitLong', { n: minutes + ':' + (rest < 10 ? '0' : '') + rest });
  }

  function renderSendButton() {
    var remaining = 0;
    if (state.countdownTimer !== null) {
      remaining = Math.max(0, Math.ceil((state.deadline - Date.now()) / 1000));
    }
    if (state.busy) {
      els.send.disabled = true;
      els.send.setAttribute('aria-busy', 'true');
      els.send.textContent = t('sms.sending');
      els.send.removeAttribute('data-countdown');
    } else if (remaining > 0) {
      els.send.disabled = true;
      els.send.removeAttribute('aria-busy');
      els.send.textContent = formatWait(remaining);
      els.send.setAttribute('data-countdown', String(remaining));
    } else {
      els.send.disabled = false;
      els.send.removeAttribute('aria-busy');
      els.send.removeAttribute('data-countdown');
      els.send.textContent = t(els.send.hasAttribute('data-sent') ? 'sms.resend' : 'sms.send');
    }
  }

  function stopCountdown() {
    if (state.countdownTimer !== null) {
      window.clearTimeout(state.countdownTimer);
      state.countdownTimer = null;
    }
  }

  // Ticks on the wall clock, so a throttled background tab still ends on time.
  function startCountdown(seconds) {
    stopCountdown();
    if (!(seconds > 0)) {
      renderSendButton();
      return;
    }
    state.deadline = Date.now() + seconds * 1000;
    var tick = function () {
      var left = state.deadline - Date.now();
      if (left <= 0) {
        state.countdownTimer = null;
        renderSendButton();
        return;
      }
      renderSendButton();
      state.countdownTimer = window.setTimeout(tick, (left % 1000) || 1000);
    };
    state.countdownTimer = 0;
    tick();
  }

  function errorMessage(errno, errmsg, httpStatus) {
    var known = errno && MESSAGES.zh['errno.' + errno] !== undefined;
    if (typeof errmsg === 'string' && errmsg.trim()) {
      // A server set to Chinese texts still has to read well on the English page.
      if (lang === 'en' && CJK_RE.test(errmsg)) {
        return known ? t('errno.' + errno) : t('error.unexpected');
      }
      return errmsg.trim();
    }
    if (known) return t('errno.' + errno);
    return httpStatus === 429 ? t('errno.4201') : t('error.unexpected');
  }

  function afterFailure() {
    // The server takes the captcha on every attempt, right or wrong: it is used up.
    els.imageCode.value = '';
    renewCaptcha();
    els.imageCode.focus();
  }

  function sendSmsCode() {
    if (state.busy || state.countdownTimer !== null) return;
    var input = readForm();
    if (!input) return;

    setStatus('', '');
    state.busy = true;
    renderSendButton();

    var body = JSON.stringify({
      mobile: input.mobile,
      image_code: input.imageCode,
      image_code_id: state.imageCodeId
    });
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timeout = controller ? window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;

    fetch(SMS_CODE_URL, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Accept': 'application/json',
        'Accept-Language': lang === 'en' ? 'en' : 'zh-CN'
      },
      body: body,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.json().then(function (json) {
        return { response: response, json: json };
      }, function () {
        return { response: response, json: null };
      });
    }).then(function (result) {
      finish();
      var response = result.response;
      var json = result.json;
      // In compat mode every error comes with HTTP 200, so errno decides.
      var errno = json && json.errno !== undefined && json.errno !== null ? String(json.errno) : null;
      if (errno === '0' && response.ok) {
        els.send.setAttribute('data-sent', '');
        setStatus('success', t('sent', { mobile: maskMobile(input.mobile) }));
        els.smsHint.setAttribute('data-i18n', 'sms.hintSent');
        els.smsHint.textContent = t('sms.hintSent');
        startCountdown(RESEND_SECONDS);
        // This captcha is used up too; asking again later needs a new one.
        els.imageCode.value = '';
        renewCaptcha();
        els.smsCode.focus();
        return;
      }
      setStatus('error', errorMessage(errno, json && json.errmsg, response.status));
      if (errno === '4201' || response.status === 429) {
        var wait = parseRetryAfter(response.headers.get('Retry-After'));
        startCountdown(wait === null ? RESEND_SECONDS : wait);
      }
      afterFailure();
    }, function () {
      finish();
      setStatus('error', t('error.network'));
      afterFailure();
    });

    function finish() {
      if (timeout !== null) window.clearTimeout(timeout);
      state.busy = false;
      renderSendButton();
    }
  }

  function onSubmit(event) {
    event.preventDefault();
    // Enter in the SMS code field means "register", which is the app's step.
    if (document.activeElement === els.smsCode && els.smsCode.value.trim()) {
      setStatus('info', t('next.integration'));
      return;
    }
    sendSmsCode();
  }

  function init() {
    els.langSwitch = document.getElementById('lang-switch');
    els.form = document.getElementById('register-form');
    els.mobile = document.getElementById('mobile');
    els.mobileError = document.getElementById('mobile-error');
    els.imageCode = document.getElementById('image-code');
    els.imageCodeLabel = document.querySelector('label[for="image-code"]');
    els.imageCodeHint = document.getElementById('image-code-hint');
    els.imageCodeError = document.getElementById('image-code-error');
    els.captchaImage = document.getElementById('captcha-image');
    els.captchaRefresh = document.getElementById('captcha-refresh');
    els.captchaListen = document.getElementById('captcha-listen');
    els.audio = document.getElementById('captcha-audio');
    els.audioNote = document.getElementById('captcha-audio-note');
    els.smsCode = document.getElementById('sms-code');
    els.smsHint = document.getElementById('sms-hint');
    els.send = document.getElementById('send-sms');
    els.status = document.getElementById('form-status');

    applyLanguage();

    els.form.addEventListener('submit', onSubmit);
    els.captchaImage.addEventListener('click', generateImageCode);
    els.captchaRefresh.addEventListener('click', function () {
      generateImageCode();
      els.imageCode.focus();
    });
    els.captchaImage.addEventListener('load', function () {
      els.captchaImage.classList.remove('is-loading', 'is-broken');
      if (els.imageCodeError.textContent === t('error.captchaLoad')) {
        setFieldError(els.imageCode, els.imageCodeError, '');
      }
    });
    els.captchaImage.addEventListener('error', function () {
      if (!els.captchaImage.getAttribute('src')) return;
      els.captchaImage.classList.remove('is-loading');
      els.captchaImage.classList.add('is-broken');
      setFieldError(els.imageCode, els.imageCodeError, t('error.captchaLoad'));
    });
    els.captchaListen.addEventListener('click', listen);
    els.audio.addEventListener('loadeddata', function () {
      if (els.imageCodeError.textContent === t('error.audioLoad')) {
        setFieldError(els.imageCode, els.imageCodeError, '');
      }
    });
    els.audio.addEventListener('error', function () {
      if (!state.audio || !els.audio.getAttribute('src')) return;
      setFieldError(els.imageCode, els.imageCodeError, t('error.audioLoad'));
    });
    els.mobile.addEventListener('input', function () {
      if (els.mobile.hasAttribute('aria-invalid')) setFieldError(els.mobile, els.mobileError, '');
    });
    els.imageCode.addEventListener('input', function () {
      if (els.imageCode.hasAttribute('aria-invalid')) setFieldError(els.imageCode, els.imageCodeError, '');
    });
    // A page restored from the back/forward cache may show a captcha already used up.
    window.addEventListener('pageshow', function (event) {
      if (event.persisted) renewCaptcha();
    });

    renderSendButton();
    generateImageCode();
  }

  // Exposed for integrators who embed the form and want a new captcha on demand.
  window.generateImageCode = function () { generateImageCode(); };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
