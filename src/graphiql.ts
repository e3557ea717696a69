import type { FastifyInstance } from 'fastify';
import { ruruHTML } from 'ruru/server';
import { getStaticFile } from 'ruru/static';

/*
 * The maintained IDE beside GraphQL Playground: Ruru (GraphiQL 5 with the explorer), served
 * entirely by this service. Its page and assets come from the installed `ruru` package
 * (`ruru/server` renders the page, `ruru/static` holds the bundle in memory, brotli-compressed),
 * so a browser loads nothing from a CDN.
 */

/**
 * Options of {@link registerGraphiql}.
 * - `path`: where the IDE page is served, e.g. `/graphiql` (assets under `<path>/static/`).
 * - `endpoint`: the GraphQL endpoint the IDE talks to, a path such as `/graphql`.
 * - `unavailable`: when set, the page is this HTML instead of the IDE (see {@link ideUnavailablePage}),
 *   and no asset is served.
 */
export interface GraphiqlOptions {
  path: string;
  endpoint: string;
  unavailable?: string;
}

/**
 * Registers `GET <path>` (the Ruru page, `text/html`) and `GET <path>/static/*` (its assets, with
 * the bundle's ETag: `If-None-Match` answers 304). Source maps are not served. Assets are
 * brotli-compressed when the client accepts `br`, decompressed otherwise.
 */
export async function registerGraphiql(app: FastifyInstance, opts: GraphiqlOptions): Promise<void> {
  const staticPath = `${opts.path.replace(/\/$/, '')}/static/`;
  const html = opts.unavailable ?? ruruHTML({ endpoint: opts.endpoint, staticPath });
  app.get(opts.path, async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html));
  if (opts.unavailable !== undefined) return;
  app.get(`${staticPath}*`, async (request, reply) => {
    const file = await getStaticFile({ staticPath, urlPath: request.url, acceptEncoding: request.headers['accept-encoding'], disallowDevAssets: true });
    if (!file) return reply.status(404).type('text/plain; charset=utf-8').send('Not found');
    const etag = file.headers.etag;
    if (etag !== undefined && request.headers['if-none-match'] === etag) return reply.status(304).header('etag', etag).send();
    return reply.headers({ ...file.headers, 'cache-control': 'public, max-age=3600' }).send(file.content);
  });
}

/**
 * The page served instead of an IDE that could not work: the IDE is enabled but introspection is
 * off (production's default), so it would wait forever for a schema it may not read. The page
 * says which variable enables introspection and how gateways read the schema instead.
 */
export function ideUnavailablePage(ide: string): string {
  const name = ide.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8" /><title>${name} is unavailable</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>${name} is unavailable here</h1>
<p>This service has its IDE enabled but introspection turned off, so the IDE could not load the schema.</p>
<ul>
<li>To use the IDE, start the service with <code>INTROSPECTION=true</code> (the default outside production).</li>
<li>To hide it, set <code>PLAYGROUND=false</code> and <code>GRAPHIQL=false</code> (the defaults in production).</li>
<li>Gateways read the schema without introspection: <code>{ _sdl }</code> with the <code>x-composition-token</code> header
set to <code>COMPOSITION_TOKEN</code>.</li>
</ul>
<p>The GraphQL endpoint itself is unaffected: POST queries to <code>/graphql</code>.</p>
</body>
</html>
`;
}
