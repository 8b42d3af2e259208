import fp from 'fastify-plugin';
import FindMyWay from 'find-my-way';
import { routeAuthMode, type AuthMode } from './route-policy.js';

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RouteTable;
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  auth: AuthMode;
  /** Whether the route declared a response schema (the OpenAPI coverage test reads this). */
  hasResponseSchema: boolean;
}

export interface RouteTable {
  /** Methods served at this concrete URL; empty when no route path matches it (→ 404, not 405). */
  methodsFor(url: string): string[];
  /** Every (method, url) pair registered, for tests and the OpenAPI coverage check. */
  all(): RouteEntry[];
}

/**
 * Fastify answers 404 for a known path with an unsupported method; the contract wants 405 with
 * `Allow`. A second router keyed by path (not method) tells the two apart. Register this plugin
 * before any route so its onRoute hook sees them all.
 */
export default fp(
  async (app) => {
    const byPath = FindMyWay({ ignoreTrailingSlash: false, caseSensitive: true });
    const routes: RouteEntry[] = [];
    const methodSets = new Map<string, Set<string>>();

    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const config = route.config as { auth?: AuthMode } | undefined;
      const hasResponseSchema = route.schema?.response !== undefined;
      for (const method of methods) routes.push({ method, url: route.url, auth: routeAuthMode(method, config), hasResponseSchema });
      if (route.url === '*' || route.url === '/*') return;
      let set = methodSets.get(route.url);
      if (!set) {
        set = new Set();
        methodSets.set(route.url, set);
        byPath.on('GET', route.url, () => undefined, { methods: set });
      }
      for (const method of methods) set.add(method);
    });

    app.decorate('routeTable', {
      methodsFor(url: string): string[] {
        const path = url.split('?')[0] ?? url;
        let found: { store?: { methods: Set<string> } } | null;
        try {
          found = byPath.find('GET', path) as typeof found;
        } catch {
          return [];
        }
        if (!found?.store) return [];
        return [...found.store.methods, 'OPTIONS'].filter((m, i, all) => all.indexOf(m) === i);
      },
      all: () => [...routes],
    });
  },
  { name: 'route-table' },
);
