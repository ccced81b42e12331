// The sample's browser app: oidc-client-ts against the sample identity server, then the host API.
const config = window.SAMPLE_CONFIG;
const manager = new oidc.UserManager({
  authority: config.authority,
  client_id: config.clientId,
  redirect_uri: location.origin + '/callback.html',
  response_type: 'code',
  scope: 'openid profile email offline_access',
  loadUserInfo: true, // oidc-client-ts calls userinfo itself (a CORS GET with Authorization: a preflight)
  automaticSilentRenew: false,
});

const $ = (id) => document.getElementById(id);

/** Shows one result: status 'ok' or 'failed', a short text and optional details. */
function show(id, status, text, details) {
  const element = $(id);
  element.dataset.status = status;
  element.querySelector('.status').textContent = text;
  element.querySelector('pre').textContent = details === undefined ? '' : typeof details === 'string' ? details : JSON.stringify(details, null, 2);
}

// A fetch that the browser refuses for CORS rejects with a TypeError and no status: the page cannot
// read why (the browser console says "blocked by CORS policy").
const corsHint = (error) =>
  error instanceof TypeError ? `${error.message}: the browser blocked the response (CORS) or the server is unreachable; see the console` : error.message;

async function discover() {
  try {
    const metadata = await manager.metadataService.getMetadata();
    show('discovery', 'ok', 'ok', { issuer: metadata.issuer, token_endpoint: metadata.token_endpoint });
    return metadata;
  } catch (error) {
    show('discovery', 'failed', 'failed', corsHint(error));
    return undefined;
  }
}

async function showUser(metadata) {
  const user = metadata && (await manager.getUser());
  $('login').disabled = !metadata || !!user;
  $('refresh').disabled = $('logout').disabled = !user;
  if (!user) {
    show('user', 'failed', metadata ? 'not signed in' : 'cannot sign in without discovery');
    show('userinfo', 'failed', 'not signed in');
    return;
  }
  show('user', 'ok', `${user.profile.name ?? user.profile.sub}`, { sub: user.profile.sub, email: user.profile.email, scope: user.scope, expires_in: user.expires_in, has_refresh_token: !!user.refresh_token });
  try {
    const response = await fetch(metadata.userinfo_endpoint, { headers: { Authorization: `Bearer ${user.access_token}` } });
    const body = await response.json();
    show('userinfo', response.ok ? 'ok' : 'failed', response.ok ? 'ok' : `HTTP ${response.status} ${response.headers.get('WWW-Authenticate') ?? ''}`, body);
  } catch (error) {
    show('userinfo', 'failed', 'failed', corsHint(error));
  }
}

async function callApi(id, path, init) {
  try {
    const response = await fetch(config.authority + path, init);
    show(id, response.ok ? 'ok' : 'failed', `HTTP ${response.status}`, await response.json());
  } catch (error) {
    show(id, 'failed', 'blocked', corsHint(error));
  }
}

async function refresh() {
  const metadata = await discover();
  await showUser(metadata);
  await Promise.all([
    callApi('api-public', '/api/public'),
    callApi('api-partner', '/api/partner', { credentials: 'include' }),
    callApi('api-internal', '/api/internal'),
  ]);
  document.body.dataset.ready = 'true';
}

$('origin').textContent = location.origin;
$('authority').textContent = config.authority;
$('client-id').textContent = config.clientId;
$('login').onclick = () =>
  manager.signinRedirect().catch((error) => show('user', 'failed', 'login failed', corsHint(error)));
$('refresh').onclick = async () => {
  try {
    await manager.signinSilent(); // with a refresh token: the refresh_token grant at the token endpoint
    await refresh();
  } catch (error) {
    show('user', 'failed', 'refresh failed', corsHint(error));
  }
};
$('logout').onclick = async () => {
  await manager.revokeTokens(['access_token', 'refresh_token']).catch((error) => console.warn('revocation failed', error));
  await manager.removeUser();
  await refresh();
};
refresh();
