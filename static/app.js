// keyport UI behaviour. Loaded with `defer` after htmx; works under a strict
// CSP (no inline script/style) and with htmx.config.allowEval = false.
(function () {
  'use strict';

  const TOAST_MS = 4000;
  const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), ' +
    'select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
  const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');
  const $ = (id) => document.getElementById(id);

  let opener = null;      // element to return focus to when the dialog closes
  let lastFocused = null; // fallback opener: Safari does not focus buttons on click
  let toastHome = null;   // where #toasts lived before a dialog borrowed it
  let closedByServer = false; // a closeModal reply is in flight: its swap must not reopen
  let keyCopied = false;      // the key the dialog reveals was copied

  document.addEventListener('focusin', (e) => {
    if (!$('modal') || !$('modal').contains(e.target)) lastFocused = e.target;
  });

  function focusFirst(candidates) {
    for (const el of candidates) {
      if (!el || !el.isConnected) continue;
      el.focus();
      if (document.activeElement === el) return;
    }
  }

  // ---- Modal ---------------------------------------------------------------

  document.addEventListener('htmx:afterSwap', (e) => {
    const m = $('modal');
    if (!m || !e.detail.target || e.detail.target.id !== 'modal-body') return;
    // HX-Trigger events fire before the swap: don't reopen on a closeModal reply.
    if (closedByServer) return void ($('modal-body').innerHTML = '');
    if (!m.open) {
      const elt = e.detail.requestConfig && e.detail.requestConfig.elt;
      opener = elt && !m.contains(elt) ? elt : lastFocused;
      m.showModal();
    }
    const body = $('modal-body');
    if ($('new-key')) keyCopied = false;
    focusFirst([body.querySelector('[autofocus]'), body.querySelector(FOCUSABLE)]);
  });

  // A revealed key is shown once: an Escape or a click outside (easily a slip) asks
  // first if it was not copied. Done closes without asking. A second Escape closes:
  // the browser lets a page hold a dialog open only once per user action.
  function mustAsk() {
    const ask = $('close-confirm');
    return !!$('new-key') && !keyCopied && !!ask && ask.hidden;
  }
  function askBeforeClose(show) {
    const ask = $('close-confirm');
    const done = $('modal').querySelector('[data-done]');
    if (!ask) return;
    ask.hidden = !show;
    if (done) done.hidden = show;
    focusFirst(show ? [ask.querySelector('[data-keep-open]')] : [$('modal').querySelector('button[data-copy]')]);
  }
  document.addEventListener('copy', (e) => {
    if ($('new-key') && $('modal').contains(e.target)) keyCopied = true;
  });
  // The toasts an open dialog borrowed go back to the page.
  function returnToasts() {
    const toasts = $('toasts');
    if (toasts && $('modal').contains(toasts)) (toastHome || document.body).append(toasts);
  }

  // A revealed API key must not linger in the DOM once the dialog is gone. The `close`
  // event is too late for that: it is queued and may only arrive after the next frame.
  function forgetContent() {
    $('modal-body').innerHTML = '';
  }

  function closeModal() {
    const m = $('modal');
    if (m && m.open) m.close();
    returnToasts();
  }

  // A closeModal from the server comes first among the reply's events, and htmx
  // dispatches the others (showToast) on the form inside the dialog: the form must stay
  // in the DOM until the request is over.
  document.body.addEventListener('closeModal', () => { closedByServer = true; closeModal(); });
  document.addEventListener('htmx:afterRequest', () => {
    if (closedByServer && !$('modal').open) forgetContent();
    closedByServer = false;
  });
  // Escape: `cancel` comes right before the dialog closes.
  document.addEventListener('cancel', (e) => {
    if (e.target.id !== 'modal') return;
    if (mustAsk() && e.cancelable) {
      e.preventDefault();
      askBeforeClose(true);
      return;
    }
    forgetContent();
  }, true);

  // `close` does not bubble; the capture phase still sees it.
  document.addEventListener('close', (e) => {
    // A late `close` for a dialog that has been opened again since must not touch it.
    if (e.target.id !== 'modal' || e.target.open) return;
    returnToasts();
    forgetContent();
    // The browser gives focus back to the opener itself; step in only when the opener
    // is gone (its row was swapped out) and focus fell to the body.
    const active = document.activeElement;
    if (!active || active === document.body || e.target.contains(active)) {
      const h1 = document.querySelector('main h1');
      if (h1 && !h1.hasAttribute('tabindex')) h1.setAttribute('tabindex', '-1');
      focusFirst([opener, $('create-key-button'), h1]);
    }
    opener = null;
  }, true);

  // A backdrop click must start and end outside the box, so drag-selecting the
  // key text past the dialog edge does not close it.
  const onBackdrop = (m, e) => {
    const r = m.getBoundingClientRect();
    return e.target === m && (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom);
  };
  let pressedBackdrop = false;
  document.addEventListener('pointerdown', (e) => {
    pressedBackdrop = !!$('modal') && onBackdrop($('modal'), e);
  });
  document.addEventListener('click', (e) => {
    if (e.target.closest('[data-close-modal]')) {
      e.preventDefault();
      closeModal();
      forgetContent();
    } else if (e.target.closest('[data-keep-open]')) {
      askBeforeClose(false);
    } else if (pressedBackdrop && $('modal') && $('modal').open && onBackdrop($('modal'), e)) {
      if (mustAsk()) return void askBeforeClose(true);
      closeModal();
      forgetContent();
    }
  });

  // ---- Toasts --------------------------------------------------------------

  // An open modal dialog is in the top layer and makes the page behind it
  // inert, so the toast region moves into the dialog to stay seen and heard.
  function toastHost() {
    let host = $('toasts');
    if (!host) {
      host = document.createElement('div');
      host.id = 'toasts';
      host.setAttribute('aria-live', 'polite');
      document.body.append(host);
    }
    const m = $('modal');
    if (m && m.open && !m.contains(host)) { toastHome = host.parentNode; m.append(host); }
    return host;
  }

  function dismiss(el) {
    if (reducedMotion.matches) return el.remove();
    el.classList.add('leaving');
    el.addEventListener('transitionend', () => el.remove(), { once: true });
    setTimeout(() => el.remove(), 600); // transitionend never fires if hidden
  }

  function toast(message, kind) {
    const el = document.createElement('div');
    el.className = 'toast' + (kind === 'success' || kind === 'error' ? ' toast-' + kind : '');
    el.setAttribute('role', 'status');
    el.textContent = String(message);
    toastHost().append(el);
    setTimeout(() => dismiss(el), TOAST_MS);
  }

  // Server: `HX-Trigger: {"showToast":{"message":"Key revoked","kind":"success"}}`
  // (or `{"showToast":"Key revoked"}`, which htmx delivers as detail.value).
  document.body.addEventListener('showToast', (e) => {
    const d = e.detail || {};
    const message = typeof d.value === 'string' ? d.value : d.message;
    if (message) toast(message, d.kind || 'success');
  });

  // Failed requests are otherwise silent. 400/422 are skipped because the
  // server re-renders those forms with inline errors.
  document.body.addEventListener('htmx:responseError', (e) => {
    const xhr = e.detail.xhr;
    if (xhr.status === 400 || xhr.status === 422) return;
    if ((xhr.getResponseHeader('HX-Trigger') || '').includes('showToast')) return;
    toast('Something went wrong (' + xhr.status + '). Please try again.', 'error');
  });
  document.body.addEventListener('htmx:sendError', () => {
    toast('Network error. Check your connection and try again.', 'error');
  });

  // ---- Copy to clipboard ---------------------------------------------------

  const copyKeys = /Mac|iPhone|iPad/.test(navigator.platform || '') ? '\u2318C' : 'Ctrl+C';

  document.addEventListener('click', async (e) => {
    const btn = e.target.closest('button[data-copy]');
    const src = btn && $(btn.dataset.copy);
    if (!src) return;
    try {
      await navigator.clipboard.writeText(src.textContent.trim());
      keyCopied = true;
      if ($('close-confirm') && !$('close-confirm').hidden) askBeforeClose(false);
      toast('Copied to clipboard', 'success');
      if (!btn.dataset.label) btn.dataset.label = btn.textContent;
      btn.textContent = 'Copied';
      clearTimeout(btn.copyTimer);
      btn.copyTimer = setTimeout(() => { btn.textContent = btn.dataset.label; }, 2000);
    } catch (err) {
      // No clipboard API (plain http) or permission denied: let the user copy.
      console.warn('keyport: copying to the clipboard failed:', err);
      const range = document.createRange();
      range.selectNodeContents(src);
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      toast('Press ' + copyKeys + ' to copy', 'error');
    }
  });

  // ---- Relative times ------------------------------------------------------

  // The server writes "3 minutes ago"; on a page left open the words are kept true,
  // counted from the server's clock (body[data-now]) so that a client clock that is off
  // does not say "in 2 minutes", and by the server's rules (body[data-relative-steps],
  // relativeSteps in handlers/relative.go): [below, unit, size] in ms, below 0 = no bound.
  const SECOND = 1000;
  const skew = document.body.dataset.now ? Number(document.body.dataset.now) - Date.now() : 0;
  const steps = JSON.parse(document.body.dataset.relativeSteps || '[]');

  function relative(t, now) {
    let d = now - t;
    const future = d < 0;
    if (future) d = -d;
    let i = 0;
    while (i < steps.length - 1 && steps[i][0] !== 0 && d >= steps[i][0]) i++;
    const [, unit, size] = steps[i];
    if (!unit) return future ? 'in a few seconds' : 'just now';
    const n = Math.max(1, Math.floor((d + Math.floor(size / 2)) / size));
    const words = n + ' ' + unit + (n === 1 ? '' : 's');
    return future ? 'in ' + words : words + ' ago';
  }

  function refreshTimes() {
    if (!steps.length) return;
    const now = Date.now() + skew;
    document.querySelectorAll('time[data-relative]').forEach((el) => {
      const t = Date.parse(el.getAttribute('datetime'));
      if (!Number.isNaN(t)) el.textContent = relative(t, now);
    });
  }
  setInterval(refreshTimes, 30 * SECOND);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) refreshTimes(); });

  // ---- Server-rendered toasts ----------------------------------------------

  function init() {
    document.querySelectorAll('#toasts .toast[data-autodismiss]')
      .forEach((el) => setTimeout(() => dismiss(el), TOAST_MS));
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
