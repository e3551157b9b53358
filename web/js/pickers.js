// Controls shared by several pages: team access (all teams / chosen teams), and the plain-words
// explanation of a model's health cause.
import { api } from './api.js';
import { h, uid } from './ui.js';

// Team access fieldset for admin-api `team_access`. Lists teams from GET /admin/v1/teams; a role
// that may not list teams (full_access) types team names instead. `current` is a model's
// team_access as read back ({all_teams, teams: [{id, name}]}) or undefined.
// Returns {element, value()}; value() is {"all_teams": true} or {"teams": [...]}.
export async function teamAccessPicker(current, { signal } = {}) {
  let teams = null;
  try {
    teams = (await api('GET', '/admin/v1/teams', undefined, { signal })).teams;
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    if (e.status !== 403) throw e;
  }
  const name = uid('access');
  const all = !current || current.all_teams;
  const chosen = new Set((current && current.teams ? current.teams : []).map((t) => t.id));
  const allRadio = h('input', { type: 'radio', name, value: 'all', checked: all, id: `${name}-all` });
  const someRadio = h('input', { type: 'radio', name, value: 'some', checked: !all, id: `${name}-some` });
  let list;
  let textInput = null;
  if (teams) {
    list = teams.length === 0
      ? h('p', { class: 'muted small' }, 'No teams exist yet. Create teams under Organization › Teams.')
      : h('div', { class: 'choices-inline', role: 'group', 'aria-label': 'Teams' }, teams.map((t) => {
        const id = uid('team');
        return h('div', { class: 'choice' },
          h('input', { type: 'checkbox', id, value: t.id, checked: chosen.has(t.id), 'data-team-name': t.name }),
          h('label', { for: id }, t.name));
      }));
  } else {
    const id = uid('teams');
    textInput = h('input', { type: 'text', id, 'data-param': 'team_access.teams', value: (current && current.teams ? current.teams.map((t) => t.name).join(', ') : '') });
    list = h('div', { class: 'field' }, h('label', { for: id }, 'Team names (comma-separated)'), textInput,
      h('div', { class: 'hint' }, 'Your role cannot list teams; type their names.'));
  }
  const teamBox = h('div', { class: 'team-list', hidden: all }, list);
  const sync = () => { teamBox.hidden = allRadio.checked; };
  allRadio.addEventListener('change', sync);
  someRadio.addEventListener('change', sync);
  const element = h('fieldset', { 'data-param': 'team_access' },
    h('legend', {}, 'Team access'),
    h('div', { class: 'choice' }, allRadio, h('label', { for: allRadio.id }, 'All teams')),
    h('div', { class: 'choice' }, someRadio, h('label', { for: someRadio.id }, 'Only chosen teams')),
    teamBox,
    h('div', { class: 'field-error', hidden: true }));
  return {
    element,
    value() {
      if (allRadio.checked) return { all_teams: true };
      if (textInput) return { teams: textInput.value.split(',').map((s) => s.trim()).filter(Boolean) };
      return { teams: [...element.querySelectorAll('input[type=checkbox]:checked')].map((c) => c.value) };
    },
  };
}

export function teamAccessText(ta) {
  if (!ta || ta.all_teams) return 'All teams';
  const names = (ta.teams || []).map((t) => t.name || t.id);
  return names.length ? names.join(', ') : 'No teams';
}

export function credentialText(c) {
  if (!c) return '—';
  if (c.inline) return `Inline (${c.auth_type === 'role_arn' ? 'role ARN' : 'access keys'})`;
  return c.name || c.id;
}

// admin-api health causes in plain words, with what to check.
const CAUSES = {
  credentials_invalid: {
    title: 'The provider rejected the credentials',
    what: 'The access key is unknown, expired or revoked, or the role could not be assumed.',
    check: ['Rotate the secret under LLM Credentials (Edit › new secret).', 'Check in AWS IAM that the access key is still active, or that the role trust policy allows the gateway.'],
  },
  permission_denied: {
    title: 'The credentials may not use this model',
    what: 'The provider accepted the credentials but refused access to this model.',
    check: ['Check the IAM policy allows bedrock:InvokeModel (and Converse) for this model.', 'Check model access is granted in the Bedrock console for this region.'],
  },
  model_not_available_in_region: {
    title: 'The model is not offered in this region',
    what: 'The provider does not serve this model in the region it is configured for.',
    check: ['Pick a region where the model is offered, or another model.'],
  },
  model_deprecated: {
    title: 'The provider retired this model',
    what: 'The model version has reached its end of life.',
    check: ['Add a newer version of the model and move clients to it.'],
  },
  throttled: {
    title: 'The provider is throttling requests',
    what: 'Requests are being refused for exceeding a rate or quota.',
    check: ['Check the service quotas of the account in this region.', 'It recovers by itself when the provider stops throttling.'],
  },
  provider_unavailable: {
    title: 'The provider is unavailable',
    what: 'The provider answered with a server error or said it is unavailable.',
    check: ['Check the provider\'s status page (AWS Health Dashboard).', 'It returns by itself once the provider recovers.'],
  },
  timeout: {
    title: 'The provider did not answer in time',
    what: 'The health check timed out waiting for the provider.',
    check: ['Check the provider\'s status and the network path to it.'],
  },
  network: {
    title: 'The provider could not be reached',
    what: 'The gateway could not connect to the provider.',
    check: ['Check DNS, proxies, firewalls and any endpoint override (AWS_ENDPOINT_URL).'],
  },
  model_rejected_request: {
    title: 'The provider rejected the check request',
    what: 'The credentials work, but the provider refused the probe for this model.',
    check: ['Check that the model supports chat (Converse) and on-demand use.'],
  },
};

export function causeInfo(cause) {
  return CAUSES[cause] || { title: cause ? `Cause: ${cause}` : 'The model is unhealthy', what: '', check: [] };
}
