import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApolloServerPlugin } from '@apollo/server';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { renderPlaygroundPage } from 'graphql-playground-html';

/*
 * GraphQL Playground, self-hosted. The stock page pulls its JS/CSS/favicon
 * from cdn.jsdelivr.net and its fonts from fonts.googleapis.com; here every
 * asset is served by this service from graphql-playground-react's prebuilt bundle
 * in `vendor/playground/`, so the page works offline / behind a strict CSP and leaks nothing
 * (no third-party requests, no version drift between page and bundle).
 */

/**
 * Absolute path of the Playground bundle: the `build/` folder of graphql-playground-react, put
 * into `vendor/playground/` by `scripts/vendor-playground.mjs` (npm's `prepare`), never installed
 * as a package (its React 15/16 tree would break `npm ls`).
 */
const buildDir = fileURLToPath(new URL('../vendor/playground/', import.meta.url));

/** Thrown at start when the Playground is enabled but its bundle was never fetched. */
export class PlaygroundBundleMissingError extends Error {
  constructor() {
    super(`GraphQL Playground's bundle is missing from ${buildDir}: run \`npm run vendor:playground\` (or set PLAYGROUND=false)`);
    this.name = 'PlaygroundBundleMissingError';
  }
}

/** Version of the vendored bundle (its `VERSION` file). Throws {@link PlaygroundBundleMissingError}. */
function bundleVersion(): string {
  try {
    return readFileSync(path.join(buildDir, 'VERSION'), 'utf8').trim();
  } catch {
    throw new PlaygroundBundleMissingError();
  }
}

/** Files of the build the page needs: `static/{js,css,media}/*`, `favicon.png`, `logo.png`. */
const ASSET_PATH = /^\/(?:static\/(?:js|css|media)\/[^/]+|favicon\.png|logo\.png)$/;

/** Placeholder handed to `renderPlaygroundPage` as its `cdnUrl`, rewritten to `assetsPrefix`. */
const CDN_SENTINEL = '/__playground_cdn__';

/** `/playground` or `/playground/` → `/playground/`. */
function normalizePrefix(prefix: string): string {
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/**
 * Renders the Playground HTML. Every asset URL is `${assetsPrefix}<file>?v=<bundle version>`
 * (`static/css/index.css`, `static/js/middleware.js`, `favicon.png`); the Google Fonts
 * stylesheet is removed (the UI falls back to system fonts). Throws if any `http(s)://`
 * URL (so `endpoint` must be a path) or protocol-relative `//` src/href would remain.
 */
export function renderSelfHostedPlayground(opts: { endpoint: string; assetsPrefix: string; title?: string }): string {
  const prefix = normalizePrefix(opts.assetsPrefix);
  const version = bundleVersion();
  let html = renderPlaygroundPage({
    endpoint: opts.endpoint,
    cdnUrl: CDN_SENTINEL,
    version: '',
    // graphql-playground-html puts the title into <title> unescaped.
    title: (opts.title ?? 'GraphQL Playground').replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`),
  });
  // `${cdnUrl}/graphql-playground-react/build/<file>` → `${prefix}<file>?v=<version>`
  html = html.replace(
    new RegExp(`(["'])${CDN_SENTINEL}/graphql-playground-react/build/([^"']+)\\1`, 'g'),
    (_m, q: string, file: string) => `${q}${prefix}${file}?v=${encodeURIComponent(version)}${q}`,
  );
  html = html.replaceAll(CDN_SENTINEL, prefix.slice(0, -1)); // leftover in the JSON config
  // Drop the Google Fonts (or any other off-site) <link>.
  html = html.replace(/<link\b[^>]*\bhref\s*=\s*["'](?:[a-z][a-z0-9+.-]*:)?\/\/[^>]*>\s*/gi, '');
  // The loading SVG's `xmlns:xlink="http://www.w3.org/1999/xlink"` is a namespace name, never
  // fetched, and redundant in HTML (the parser assigns SVG namespaces); drop it so the page
  // contains no `http` URL at all.
  html = html.replace(/\s+xmlns(?::\w+)?\s*=\s*["']https?:\/\/www\.w3\.org\/[^"']*["']/g, '');
  const external = html.match(/\bhttps?:\/\/[^\s"'<>]*|\b(?:src|href)\s*=\s*["']\/\/[^"']*/gi);
  if (external) throw new Error(`playground page still references external URLs: ${external.join(', ')}`);
  return html;
}

/**
 * Apollo Server 5 plugin serving the self-hosted Playground as the landing page:
 * Apollo calls `renderLandingPage` only for browser `GET <endpoint>` with
 * `Accept: text/html`. The HTML is rendered once, at `serverWillStart`.
 * Pair with {@link registerPlaygroundAssets} using the same `assetsPrefix`.
 *
 * @param opts.endpoint      GraphQL endpoint the UI talks to, e.g. `/graphql`.
 * @param opts.assetsPrefix  URL prefix of the assets on this service, e.g. `/playground/`.
 * @param opts.title         `<title>` of the page (default "GraphQL Playground").
 */
export function playgroundLandingPagePlugin(opts: { endpoint: string; assetsPrefix: string; title?: string }): ApolloServerPlugin {
  return {
    async serverWillStart() {
      const html = renderSelfHostedPlayground(opts);
      return { renderLandingPage: async () => ({ html }) };
    },
  };
}

/**
 * Serves the Playground bundle (`vendor/playground/`, graphql-playground-react's `build/`: `static/js/middleware.js`,
 * `static/css/*.css`, source maps, `static/media/*`, `favicon.png`, `logo.png`; nothing else —
 * not the build's standalone `index.html` nor its sample `.graphql` files) under `assetsPrefix`
 * via `@fastify/static` (`decorateReply: false`, so other static registrations can coexist).
 * Responses are `Cache-Control: public, max-age=31536000, immutable`: the page requests them
 * with `?v=<graphql-playground-react version>`, so an upgrade changes the URLs.
 */
export async function registerPlaygroundAssets(app: FastifyInstance, opts: { assetsPrefix: string }): Promise<void> {
  bundleVersion();
  await app.register(fastifyStatic, {
    root: buildDir,
    prefix: normalizePrefix(opts.assetsPrefix),
    decorateReply: false,
    index: false,
    list: false,
    dotfiles: 'deny',
    maxAge: '365d',
    immutable: true,
    allowedPath: (pathName) => ASSET_PATH.test(pathName),
  });
}

/** Apollo Server 5 plugin answering a browser's `GET <endpoint>` with a fixed HTML page. */
export function staticLandingPagePlugin(html: string): ApolloServerPlugin {
  return {
    serverWillStart() {
      return Promise.resolve({ renderLandingPage: () => Promise.resolve({ html }) });
    },
  };
}
