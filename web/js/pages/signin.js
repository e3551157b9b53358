// Sign-in: exchanges an API key for a session cookie (POST /admin/v1/session). The key is sent
// once and never stored by the page; the browser keeps only the HttpOnly cookie.
import { api } from '../api.js';
import { h, field, controlOf, clearErrors, showError } from '../ui.js';

export function renderSignIn(main, { message, onSignedIn }) {
  const keyField = field({
    label: 'API key', name: 'api_key', type: 'password', required: true, autocomplete: 'off',
    hint: 'Your modelgate API key (mg_…). It is exchanged for a session and not kept by the page.',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in');
  const form = h('form', { novalidate: true, 'aria-labelledby': 'signin-title' },
    message ? h('p', { class: 'form-ok', role: 'status' }, message) : null,
    keyField, h('div', { class: 'btn-row' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const key = controlOf(keyField).value.trim();
    if (!key) {
      showError(form, { message: 'Enter your API key.', param: 'api_key' });
      return;
    }
    submit.disabled = true;
    try {
      const me = await api('POST', '/admin/v1/session', { api_key: key }, { quiet401: true });
      controlOf(keyField).value = '';
      onSignedIn(me);
    } catch (err) {
      showError(form, err.param ? err : { message: err.message, param: err.status === 401 ? 'api_key' : null });
    } finally {
      submit.disabled = false;
    }
  });
  main.append(h('section', { class: 'signin' },
    h('div', { class: 'panel' },
      h('h1', { id: 'signin-title', tabindex: '-1' }, 'Sign in to modelgate'),
      h('p', { class: 'subtitle' }, 'Manage models, credentials, teams and keys.'),
      form)));
  controlOf(keyField).focus();
}
