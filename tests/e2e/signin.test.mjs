// Signing in with a bearer token, a refused token, signing out.
import { suite, uiTest, signIn } from './lib/ui.mjs';
import { assert, count, hasText, visible } from './lib/expect.mjs';

const tokenInStorage = (page) => page.evaluate(() => sessionStorage.getItem('interlock.token'));

suite('sign-in', (env) => {
  uiTest(env, 'a bad token is refused at sign-in', async (ui) => {
    // The refused /v1/me is a 401, which Chromium logs as a failed load.
    ui.allowConsoleError(/status of 401/);
    const page = await ui.newPage();
    await page.goto(`${env.server.url}/`);
    const field = await visible(page.getByLabel('Bearer token', { exact: true }));
    assert.equal(await field.getAttribute('type'), 'password', 'the token field hides what is typed');
    await ui.shot(page, 'sign-in form');

    // Well-formed but unknown to the server.
    await signIn(page, `itk_0123456789abcdef_${'ab'.repeat(32)}`);
    await hasText(page.getByRole('alert'), /not accepted/);
    await ui.shot(page, 'unknown token refused');
    assert.equal(await tokenInStorage(page), null, 'a refused token is not kept');
    await count(page.getByTestId('whoami'), 0);
    await visible(page.getByRole('button', { name: 'Sign in', exact: true }));

    // Alice's real token with its secret altered.
    const real = await env.server.token('alice');
    await signIn(page, real.slice(0, -4) + (real.endsWith('0000') ? '1111' : '0000'));
    await hasText(page.getByRole('alert'), /not accepted/);
    assert.equal(await tokenInStorage(page), null);
    await count(page.getByRole('heading', { level: 1, name: 'Overview' }), 0);
  });

  uiTest(env, 'signs in with a token, shows who is signed in, and signs out', async (ui) => {
    const page = await ui.newPage({ label: 'bob' });
    await page.goto(`${env.server.url}/`);
    assert.match(await page.title(), /Interlock/);
    const token = await env.server.token('bob');
    await signIn(page, token);
    await visible(page.getByRole('heading', { level: 1, name: 'Overview', exact: true }));
    const who = await hasText(page.getByTestId('whoami'), /\bbob\b/);
    assert.match(who, /team-lead/, 'whoami names the roles');
    assert.match(await page.title(), /Interlock/);
    assert.equal(await tokenInStorage(page), token);
    await ui.shot(page, 'signed in as bob');

    // Still signed in after a reload (the token is in sessionStorage).
    await page.reload();
    await hasText(page.getByTestId('whoami'), /\bbob\b/);

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await visible(page.getByLabel('Bearer token', { exact: true }));
    assert.equal(await tokenInStorage(page), null, 'Sign out clears the token');
    await count(page.getByTestId('whoami'), 0);
    await page.reload();
    await visible(page.getByLabel('Bearer token', { exact: true }));
    await ui.shot(page, 'signed out');
  });
}, { principals: ['alice', 'bob'] });
