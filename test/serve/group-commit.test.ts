// Group commit: the requests handled in one turn of the event loop are committed together, and
// each reply still leaves only after its commit. Thirty calls sent at once take fewer commits than
// thirty, every one is acknowledged and every one is there after a restart; calls one after the
// other take a commit each.
import { CreateHITCommand, GetAccountBalanceCommand, ListHITsCommand } from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hitInput, startServe, type ServeWorld } from './helpers.js';

const Group = suite<{ w: ServeWorld }>('serve group commit');

Group.before(async (ctx) => {
  ctx.w = await startServe({ lab: 1000 });
});
Group.after(async (ctx) => {
  await ctx.w.close();
});

Group('calls one after the other take one commit each', async ({ w }) => {
  const lab = w.client('lab');
  const before = w.server.commits;
  for (let i = 0; i < 5; i++) await lab.send(new CreateHITCommand(hitInput()));
  assert.is(w.server.commits - before, 5);
});

Group('calls sent at once share commits, and each acknowledged one survives a restart', async ({ w }) => {
  const lab = w.client('lab');
  // Thirty kept-alive connections first: new ones would be accepted one turn after another.
  await Promise.all(Array.from({ length: 30 }, () => lab.send(new GetAccountBalanceCommand({}))));
  const before = w.server.commits;
  const made = await Promise.all(
    Array.from({ length: 30 }, async () => (await lab.send(new CreateHITCommand(hitInput()))).HIT!.HITId!),
  );
  const commits = w.server.commits - before;
  assert.ok(commits >= 1 && commits < 30, `30 calls at once took ${commits} commits`);
  await w.restart();
  const listed = new Set<string>();
  for (let token: string | undefined, first = true; first || token; first = false) {
    const page = await w.client('lab').send(new ListHITsCommand({ MaxResults: 100, NextToken: token }));
    for (const h of page.HITs ?? []) listed.add(h.HITId!);
    token = page.NextToken;
  }
  for (const id of made) assert.ok(listed.has(id), `HIT ${id} was acknowledged, so it is there after a restart`);
});

Group.run();
