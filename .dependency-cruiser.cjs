/**
 * The layering rules of src/ (README §Layout), checked by `npm run lint:layers` in `npm test`.
 * Every rule names folders by pattern, so a new domain, plugin or CLI is held to them unlisted.
 */
const FASTIFY = '(^|/)node_modules/(fastify|fastify-plugin|@fastify/[^/]+)/';

module.exports = {
  forbidden: [
    {
      name: 'core-is-framework-free',
      comment: 'src/aitp/ and src/lib/ are framework-free: no Fastify, no plugin, no domain, no route.',
      severity: 'error',
      from: { path: '^src/(aitp|lib)/' },
      to: { path: [FASTIFY, '^src/(plugins|domains|routes|cli|boot)/', '^src/(app|server)\\.ts$'] },
    },
    {
      name: 'schema-knows-no-domain',
      comment: 'The drizzle tables (src/db/schema/) import no domain, plugin or route.',
      severity: 'error',
      from: { path: '^src/db/schema/' },
      to: { path: '^src/(domains|plugins|routes)/' },
    },
    {
      name: 'db-knows-no-app',
      comment: 'src/db/ (pool, migrations, SQL helpers) imports no plugin, domain or route.',
      severity: 'error',
      from: { path: '^src/db/' },
      to: { path: '^src/(domains|plugins|routes)/' },
    },
    {
      name: 'plugins-know-no-domain',
      comment: 'A cross-cutting plugin serves every domain and depends on none.',
      severity: 'error',
      from: { path: '^src/plugins/' },
      to: { path: '^src/domains/' },
    },
    {
      name: 'domains-meet-at-index',
      comment: "A domain uses another domain only through that domain's index.ts.",
      severity: 'error',
      from: { path: '^src/domains/([^/]+)/' },
      to: { path: '^src/domains/', pathNot: ['^src/domains/$1/', '^src/domains/[^/]+/index\\.ts$'] },
    },
    {
      name: 'routes-reach-services',
      comment: 'Route files call services: no repository, no src/db/.',
      severity: 'error',
      from: { path: ['^src/routes/', '^src/domains/[^/]+/[^/]*routes[.]ts$'] },
      to: { path: ['^src/db/', 'repository[.]ts$'] },
    },
    {
      name: 'no-folder-cycles',
      comment: 'Folders depend on each other one way only.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
