// Build › Model playground: the model picker a builder sees when building an agent (GET
// /v1/models lists only the models shared with their teams and in the pool), and a chat box
// that streams the answer (POST /v1/chat/completions with "stream": true).
import { api, streamChat } from '../api.js';
import { h, clear, field, controlOf, pageHead, errorPanel } from '../ui.js';

export async function renderPlayground(ctx) {
  const holder = h('div', { class: 'playground' });
  ctx.main.append(pageHead('Model playground', 'Pick one of the models you may use and chat with it.'), holder);
  let models;
  try {
    const body = await api('GET', '/v1/models', undefined, { signal: ctx.signal });
    models = body.data || body.models || [];
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    holder.append(errorPanel(e));
    return;
  }
  if (models.length === 0) {
    holder.append(h('div', { class: 'panel' }, h('p', {}, 'No models are available to your teams right now. Ask an admin to share a model with one of your teams.')));
    return;
  }
  const picker = field({
    label: 'Model', name: 'model', type: 'select',
    options: models.map((m) => ({ value: m.id, label: m.name && m.name !== m.id ? `${m.name} (${m.id})` : m.id })),
    hint: `${models.length} model${models.length === 1 ? '' : 's'} available to you.`,
  });
  const log = h('div', { class: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation' });
  const message = field({ label: 'Message', name: 'message', type: 'textarea', rows: 2, placeholder: 'Ask something… (Enter sends, Shift+Enter for a new line)' });
  const send = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send');
  const stop = h('button', { type: 'button', class: 'btn', hidden: true }, 'Stop');
  const reset = h('button', { type: 'button', class: 'btn btn-quiet' }, 'New chat');
  const form = h('form', { class: 'composer', novalidate: true }, h('div', { class: 'grow' }, message), h('div', { class: 'btn-row' }, send, stop));
  holder.append(h('div', { class: 'btn-row' }, picker, reset), log, form);

  let history = [];
  let controller = null;
  const input = controlOf(message);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  controlOf(picker).addEventListener('change', () => { history = []; clear(log); });
  reset.addEventListener('click', () => { if (controller) controller.abort(); history = []; clear(log); input.focus(); });
  stop.addEventListener('click', () => { if (controller) controller.abort(); });
  ctx.signal.addEventListener('abort', () => { if (controller) controller.abort(); });

  function bubble(role, text) {
    const t = h('div', { class: 'text' }, text);
    const el = h('div', { class: `msg ${role}`, 'data-role': role }, h('div', { class: 'role' }, role === 'user' ? 'You' : role === 'error' ? 'Error' : 'Assistant'), t);
    log.append(el);
    log.scrollTop = log.scrollHeight;
    return t;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || controller) return;
    input.value = '';
    history.push({ role: 'user', content: text });
    bubble('user', text);
    const out = bubble('assistant', '');
    out.parentElement.setAttribute('aria-busy', 'true');
    controller = new AbortController();
    send.disabled = true;
    stop.hidden = false;
    let answer = '';
    try {
      for await (const chunk of streamChat({ model: controlOf(picker).value, messages: history }, { signal: controller.signal })) {
        const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
        if (delta && delta.content) {
          answer += delta.content;
          out.textContent = answer;
          log.scrollTop = log.scrollHeight;
        }
      }
      history.push({ role: 'assistant', content: answer });
    } catch (err) {
      if (err.name === 'AbortError') {
        out.textContent = answer ? `${answer} [stopped]` : '[stopped]';
        if (answer) history.push({ role: 'assistant', content: answer });
      } else {
        if (!answer) out.parentElement.remove();
        history.pop();
        bubble('error', err.message);
      }
    } finally {
      out.parentElement && out.parentElement.removeAttribute('aria-busy');
      out.parentElement && out.parentElement.setAttribute('data-done', 'true');
      controller = null;
      send.disabled = false;
      stop.hidden = true;
      input.focus();
    }
  });
}
