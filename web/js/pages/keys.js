// Account › API keys: everyone manages their own keys.
import { pageHead } from '../ui.js';
import { keysPanel } from './keys_panel.js';

export async function renderKeys(ctx) {
  const panel = keysPanel({ base: '/admin/v1/me/api-keys', currentKeyId: ctx.me.api_key_id, signal: ctx.signal });
  ctx.main.append(pageHead('API keys', 'Keys for the gateway’s API (Writer- and OpenAI-compatible) and this console.'), panel.element);
  await panel.load();
}
