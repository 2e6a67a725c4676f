import assert from 'node:assert/strict'

import {type ClientLoop, redisSideTraffic} from '../support/client-loop.js'
import {failedConnections, ForwardStack, type Forward} from '../support/forward-stack.js'
import {PostgresServer, postgresMissing} from '../support/postgres-server.js'
import {RedisServer, redisMissing, redisTool} from '../support/redis-server.js'
import {skipOrFail} from '../support/require-tool.js'
import {assertSucceeded, hashTool, runTool} from '../support/run-tool.js'

const MB = 1000 * 1000

/**
 * DDL, data, queries and the client-side features that change what travels on the wire:
 * COPY in both directions, a large result, an error, notices, a rolled-back transaction,
 * server-side prepared statements and a cursor.
 */
const SCRIPT = String.raw`
\pset footer on
CREATE TABLE customer (id serial PRIMARY KEY, name text NOT NULL UNIQUE, joined date,
  credit numeric(12, 2) DEFAULT 0, tags text[], profile jsonb);
CREATE TABLE purchase (id bigserial PRIMARY KEY, customer_id int REFERENCES customer,
  item text, amount numeric(10, 2), raw bytea);
CREATE INDEX purchase_by_customer ON purchase (customer_id);
CREATE VIEW spend AS SELECT c.name, count(p.id) AS purchases, coalesce(sum(p.amount), 0) AS total
  FROM customer c LEFT JOIN purchase p ON p.customer_id = c.id GROUP BY c.name;
CREATE FUNCTION shout(t text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'shouting %', t;
  RETURN upper(t) || '!';
END $$;
INSERT INTO customer (name, joined, credit, tags, profile) VALUES
  ('Ada', '2020-01-02', 10.5, '{a,b}', '{"city": "Zürich", "vip": true}'),
  ('Brahmagupta', '2019-12-31', 0, '{}', '{"city": "Ujjain"}'),
  ('Chen Jing-run', NULL, 99999.99, '{"x y",z}', NULL);
COPY purchase (customer_id, item, amount, raw) FROM STDIN;
1	tea	3.50	\\x00ff10
1	scone	2.25	\\x
2	ink	12.00	\N
3	abacus	45.10	\\xdeadbeef
\.
SELECT * FROM customer ORDER BY id;
SELECT * FROM spend ORDER BY total DESC, name;
SELECT shout(name) FROM customer ORDER BY id;
INSERT INTO customer (name) VALUES ('Ada');
BEGIN;
UPDATE customer SET credit = credit + 1000;
SELECT name, credit FROM customer ORDER BY id;
ROLLBACK;
SELECT name, credit FROM customer ORDER BY id;
PREPARE by_item (text) AS SELECT customer_id, amount FROM purchase WHERE item = $1;
EXECUTE by_item('ink');
EXECUTE by_item('abacus');
SELECT count(*) AS n, sum(g) AS total, md5(string_agg(g::text, ',' ORDER BY g)) AS digest
  FROM generate_series(1, 200000) g;
\x on
SELECT * FROM customer WHERE id = 1;
\x off
SELECT g, md5(g::text), repeat('ü', g % 7) FROM generate_series(1, 20000) g;
BEGIN;
DECLARE walk CURSOR FOR SELECT g FROM generate_series(1, 1000) g;
FETCH 3 FROM walk;
MOVE 500 IN walk;
FETCH 2 FROM walk;
COMMIT;
COPY (SELECT id, name, tags FROM customer ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER);
SELECT id, item, raw FROM purchase ORDER BY id;
ALTER TABLE purchase ADD COLUMN note text DEFAULT 'none';
DROP VIEW spend;
SELECT table_name, column_name, data_type FROM information_schema.columns
  WHERE table_schema = 'public' ORDER BY table_name, ordinal_position;
`

describe('PostgreSQL clients through port-forward', function () {
  this.timeout(120_000)

  let pg: PostgresServer
  let redis: RedisServer
  let stack: ForwardStack
  let db: Forward
  let cache: Forward
  let side: ClientLoop

  before(async function () {
    skipOrFail(this, postgresMissing(), redisMissing())

    // One after the other, so that a failed start leaves nothing running that `after` misses.
    pg = await PostgresServer.start()
    redis = await RedisServer.start()
    stack = await ForwardStack.start()
    ;[db, cache] = await Promise.all([
      stack.forward('db', pg.port), stack.forward('cache', redis.port),
    ])

    side = redisSideTraffic(redisTool('redis-cli'), cache)
  })

  after(async () => {
    await side?.stop()
    await stack?.close()
    await Promise.all([pg?.stop(), redis?.stop()])
  })

  it('runs a psql script of DDL and queries with the same output as run directly', async () => {
    const mark = side.rounds
    await pg.sql('postgres', 'CREATE DATABASE direct_run')
    await pg.sql('postgres', 'CREATE DATABASE tunnel_run')

    const psql = (database: string, port: number) => runTool(pg.tool('psql'),
      ['--no-psqlrc', '--echo-all', '--file', '-', ...pg.connection(database, port)],
      {env: {LC_ALL: 'C.UTF-8'}, input: SCRIPT})
    const direct = await psql('direct_run', pg.port)
    const tunnelled = await psql('tunnel_run', db.port)

    assertSucceeded(direct, 'psql run directly')
    assertSucceeded(tunnelled, 'psql through the tunnel')
    assert.match(direct.stdout.toString(), /Chen Jing-run/)
    assert.match(direct.stderr, /duplicate key value/)
    assert.equal(tunnelled.stdout.toString('utf8'), direct.stdout.toString('utf8'))
    assert.equal(tunnelled.stderr, direct.stderr)
    await side.assertHealthySince(mark)
  })

  it('runs pgbench with 8 clients for 10 seconds without a failed transaction', async () => {
    const mark = side.rounds
    await pg.sql('postgres', 'CREATE DATABASE bench')
    const init = await runTool(pg.tool('pgbench'),
      ['--initialize', '--scale', '2', '--quiet', ...pg.connection('bench', db.port)])
    assertSucceeded(init, 'pgbench --initialize through the tunnel')

    const run = await runTool(pg.tool('pgbench'), [
      '--client', '8', '--jobs', '2', '--time', '10', '--no-vacuum',
      ...pg.connection('bench', db.port),
    ], {timeoutMs: 60_000})
    assertSucceeded(run, 'pgbench through the tunnel')

    const report = run.stdout.toString('utf8')
    assert.match(report, /number of clients: 8/)
    assert.match(report, /number of failed transactions: 0 /)
    const processed = /number of transactions actually processed: (\d+)/.exec(report)
    assert.ok(processed && Number(processed[1]) > 0, report)
    await side.assertHealthySince(mark)
  })

  it('produces a pg_dump of a 50 MB database byte-equal to a direct pg_dump', async () => {
    const mark = side.rounds
    await pg.sql('postgres', 'CREATE DATABASE dumped')
    await pg.sql('dumped', `CREATE TABLE ledger AS SELECT g AS id, md5(g::text) AS a,
      md5((g * 7)::text) AS b, md5((g * 13)::text) AS c FROM generate_series(1, 470000) g`)
    await pg.sql('dumped', `CREATE TABLE doc AS SELECT g AS id,
      jsonb_build_object('n', g, 'h', md5(g::text)) AS body,
      decode(md5(g::text) || md5((-g)::text), 'hex') AS blob FROM generate_series(1, 20000) g;
      ALTER TABLE ledger ADD PRIMARY KEY (id); CREATE INDEX ON doc ((body ->> 'h'))`)

    // Newer pg_dump versions write a random key into each dump unless given one.
    const help = await runTool(pg.tool('pg_dump'), ['--help'])
    const keyed = /--restrict-key/.test(help.stdout.toString())
    const key = keyed ? ['--restrict-key=caractrl0dump'] : []
    const dump = (port: number) =>
      hashTool(pg.tool('pg_dump'), [...key, ...pg.connection('dumped', port)])
    const direct = await dump(pg.port)
    const tunnelled = await dump(db.port)

    assertSucceeded(direct, 'pg_dump run directly')
    assertSucceeded(tunnelled, 'pg_dump through the tunnel')
    assert.ok(direct.bytes > 48 * MB && direct.bytes < 60 * MB, `dump is ${direct.bytes} bytes`)
    assert.equal(tunnelled.bytes, direct.bytes)
    assert.equal(tunnelled.sha256, direct.sha256)
    await side.assertHealthySince(mark)
  })

  it('reports no failed connection on either forward', () => {
    assert.deepEqual(failedConnections(db), [])
    assert.deepEqual(failedConnections(cache), [])
    assert.ok(side.rounds > 10, `the second forward made ${side.rounds} rounds`)
  })
})
