const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; background: #f4f5f7; margin: 0; display: grid; place-items: center; min-height: 100vh; }
  main { background: #fff; padding: 2rem 2.5rem; border-radius: 8px; box-shadow: 0 2px 10px #0002; min-width: 20rem; }
  h1 { font-size: 1.3rem; margin-top: 0; } label { display: block; margin: .8rem 0 .2rem; }
  input[type=text], input[type=password] { width: 100%; padding: .4rem; box-sizing: border-box; }
  button { margin-top: 1.2rem; padding: .5rem 1.2rem; } .error { color: #b00020; } .hint { color: #666; font-size: .9rem; }
</style></head><body><main>${body}</main></body></html>`;

/** The sign-in form; the authorize request travels in hidden fields, so no session is needed. */
export function loginPage(clientName: string, params: Record<string, string>, error?: string): string {
  const hidden = Object.entries(params)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  return page(
    'Sign in',
    `<h1>Sign in to ${escapeHtml(clientName)}</h1>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/connect/authorize">
${hidden}
<label for="username">Username</label><input id="username" name="username" type="text" autocomplete="username" autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit" name="action" value="login">Sign in</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>
<p class="hint">Demo user: alice / alice</p>`,
  );
}

/** Shown when the request cannot be sent back to the client (unknown client or redirect URI). */
export function errorPage(message: string): string {
  return page('Sign-in error', `<h1>Sign-in error</h1><p class="error" role="alert">${escapeHtml(message)}</p>`);
}
