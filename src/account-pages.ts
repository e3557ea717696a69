import type { FastifyInstance } from 'fastify';

/*
 * The two pages mailed links open when no front end of the deployer's own handles them:
 * `GET /confirm-email?token=…` and `GET /reset-password?token=…` (the default PUBLIC_URL is
 * the service itself). Each is a static HTML page; its inline script reads the token from the
 * address bar (it is never written into the HTML), removes it from the address bar and the
 * history, and calls the public GraphQL mutation (`confirmEmail`, `resetPassword`) with it, so
 * they grant nothing the API does not. Served with `Referrer-Policy: no-referrer`,
 * `Cache-Control: no-store` and a Content-Security-Policy allowing only their own inline code
 * and requests to this origin.
 */

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
};

const STYLE = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.4rem;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1rem}#status{margin-top:1rem;font-weight:600}`;

/**
 * Shared script: `token` from the query string (then dropped from the URL), `call(query, variables)`
 * → `{ ok, data }` or `{ ok: false, message }` (the error's per-field messages when it has them).
 */
const COMMON = `const params = new URLSearchParams(location.search);
const token = params.get('token');
history.replaceState(null, '', location.pathname);
const status = document.getElementById('status');
const say = (text) => { status.textContent = text; };
async function call(query, variables) {
  try {
    const res = await fetch(${JSON.stringify('/graphql')}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const body = await res.json();
    if (body.errors && body.errors.length) {
      const fields = (body.errors[0].extensions && body.errors[0].extensions.fields) || {};
      const details = Object.values(fields).filter((v) => typeof v === 'string');
      return { ok: false, message: details.length ? details.join(' ') : body.errors[0].message };
    }
    return { ok: true, data: body.data };
  } catch (e) {
    return { ok: false, message: 'The service could not be reached. Try again.' };
  }
}
if (!token) say('This link has no token. Open the link from the mail again.');`;

function page(title: string, body: string, script: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8" /><meta name="viewport" content="width=device-width, initial-scale=1" /><title>${title}</title><style>${STYLE}</style></head>
<body>
<h1>${title}</h1>
${body}
<p id="status" role="status" aria-live="polite"></p>
<script>
${COMMON}
${script}
</script>
</body>
</html>
`;
}

/** `GET /confirm-email?token=…`: confirms the address at once (no form; the link is the consent). */
export const CONFIRM_EMAIL_PAGE = page(
  'Confirm your email address',
  '',
  `if (token) {
  say('Confirming…');
  call('mutation ConfirmEmail($token: String!) { confirmEmail(token: $token) }', { token }).then((r) =>
    say(r.ok ? 'Your email address is confirmed. You can close this page.' : r.message));
}`,
);

/** `GET /reset-password?token=…`: a form for the new password (typed twice), then `resetPassword`. */
export const RESET_PASSWORD_PAGE = page(
  'Choose a new password',
  `<form id="reset">
<label for="password">New password</label><input id="password" type="password" autocomplete="new-password" required />
<label for="again">New password, again</label><input id="again" type="password" autocomplete="new-password" required />
<button type="submit">Set the new password</button>
</form>`,
  `const form = document.getElementById('reset');
if (!token) form.hidden = true;
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const password = document.getElementById('password').value;
  if (password !== document.getElementById('again').value) return say('The two passwords differ.');
  say('Saving…');
  const r = await call('mutation ResetPassword($token: String!, $newPassword: String!) { resetPassword(token: $token, newPassword: $newPassword) }', { token, newPassword: password });
  if (r.ok) { form.hidden = true; say('Your password is changed. Log in with the new one; your other sessions were ended.'); }
  else say(r.message);
});`,
);

/** Registers `GET /confirm-email` and `GET /reset-password` (see the module comment). */
export function registerAccountPages(app: FastifyInstance): void {
  app.get('/confirm-email', async (_request, reply) => reply.headers(HEADERS).send(CONFIRM_EMAIL_PAGE));
  app.get('/reset-password', async (_request, reply) => reply.headers(HEADERS).send(RESET_PASSWORD_PAGE));
}
