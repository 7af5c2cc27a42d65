// Rewriting the server's JSON answers in the browser (page.route).

const pathIs = (p) => (url) => url.pathname === p;

// Passes every 200 answer of `path` through `mutate(json, url)` (which
// changes it in place, or only looks); returns a counter of the answers it
// saw (a tampering test whose route was never hit would prove nothing).
export async function rewrite(page, path, mutate) {
  const hits = { n: 0 };
  await page.route(pathIs(path), async (route) => {
    const response = await route.fetch();
    if (response.status() !== 200) {
      await route.fulfill({ response });
      return;
    }
    const json = await response.json();
    await mutate(json, new URL(route.request().url()));
    hits.n += 1;
    await route.fulfill({ response, json });
  });
  return hits;
}
