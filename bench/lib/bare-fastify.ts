// The yardstick of issue #11: a bare Fastify 5 server answering every GET / with the same static
// 1 KB JSON document. Run by bench/lib/server.ts as its own process: node --import tsx bare-fastify.ts <port>
import Fastify from 'fastify';

const item = (i: number) => ({ id: i, name: `item-${i}`, value: 'x'.repeat(48) });
const document = { items: Array.from({ length: 12 }, (_, i) => item(i)) };

const app = Fastify();
app.get('/', async () => document);
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
