// The lean decoder of HIT listings (src/mturk/listing-decoder.ts): through the real SDK against
// the simulator, every HIT it decodes is the HIT the SDK's own deserializer and `toHITInfo` give
// for the same answer; errors and every other operation still go through the SDK untouched.
import {
  GetHITCommand,
  ListHITsCommand,
  MTurkClient,
  paginateListHITs,
  paginateListReviewableHITs,
} from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeListingBody, listedHITsOf } from '../../src/mturk/listing-decoder.js';
import { toHITInfo, type HITInfo } from '../../src/mturk/records.js';
import { simWorld, TASK_URL, value, type SimWorld } from './sim-helpers.js';

interface Ctx {
  w: SimWorld;
  /** An SDK client as the SDK comes, without hitstate's middlewares. */
  plain: MTurkClient;
  hitTypeId: string;
}

const Decoder = suite<Ctx>('gateway listing decoder (simulator)', {} as Ctx);
const NAME = 'lister';

Decoder.before(async (ctx) => {
  ctx.w = await simWorld();
  const gw = ctx.w.gateway(NAME);
  ctx.plain = new MTurkClient({
    endpoint: ctx.w.sim.url,
    region: 'us-east-1',
    credentials: { accessKeyId: `AKID${NAME.toUpperCase()}`, secretAccessKey: 'sim-secret' },
    maxAttempts: 1,
  });
  const type = value(
    await ctx.w.run(
      gw.createHITType({
        title: 'Label images',
        description: 'Label 10 images',
        keywords: ['images', 'labels'],
        rewardUsd: '0.25',
        assignmentDurationSec: 900,
        autoApprovalDelaySec: 3600,
      }),
    ),
  );
  ctx.hitTypeId = type.hitTypeId;
  // 130 HITs (two pages): with and without a hitstate annotation, one to three assignments, some expired.
  for (let i = 0; i < 130; i++) {
    const created = value(
      await ctx.w.run(
        gw.createHITWithHITType({
          hitTypeId: type.hitTypeId,
          runId: `run-${i % 3}`,
          unitId: `unit-${i}`,
          maxAssignments: 1 + (i % 3),
          lifetimeSec: 3600 + i,
          question: { externalUrl: `${TASK_URL}?i=${i}` },
          ...(i % 5 === 0 ? { storeId: 'st-0123456789ab' } : {}),
        }),
      ),
    );
    if (i % 4 === 0) value(await ctx.w.run(gw.expireHIT(created.hit.hitId)));
  }
});

Decoder.after(async (ctx) => {
  ctx.plain.destroy();
  await ctx.w.close();
});

/** Every page of a listing through the plain SDK, converted as hitstate converted SDK records before. */
async function viaSdk(ctx: Ctx, reviewable: boolean): Promise<HITInfo[]> {
  const out: HITInfo[] = [];
  const pages = reviewable
    ? paginateListReviewableHITs(
        { client: ctx.plain, pageSize: 100 },
        { HITTypeId: ctx.hitTypeId, Status: 'Reviewable' },
      )
    : paginateListHITs({ client: ctx.plain, pageSize: 100 }, {});
  for await (const page of pages) out.push(...(page.HITs ?? []).map(toHITInfo));
  return out;
}

Decoder('when HITs are listed then each decoded HIT is the one the SDK and toHITInfo give', async (ctx) => {
  const gw = ctx.w.gateway(NAME);
  const expected = await ctx.w.run(viaSdk(ctx, false));
  assert.is(expected.length, 130);
  assert.ok(expected.some((h) => h.hitStatus === 'Reviewable') && expected.some((h) => h.hitStatus === 'Assignable'));
  assert.ok(expected.some((h) => h.annotation?.storeId !== undefined));
  const listed = value(await ctx.w.run(gw.listHITs()));
  assert.equal(listed, expected);
  const page = await ctx.w.run(gw.client.send(new ListHITsCommand({ MaxResults: 100 })));
  assert.is(page.HITs, undefined, 'the SDK deserializer never saw the HITs');
  assert.is(page.NumResults, 100);
  assert.is(typeof page.NextToken, 'string');
  assert.equal(
    listedHITsOf(page).map((h) => h.info()),
    expected.slice(0, 100),
  );

  const pages: HITInfo[][] = [];
  const read = (async () => {
    for await (const page of gw.paginateHITsForHITType({ hitTypeId: ctx.hitTypeId })) {
      for (const h of page) {
        const info = h.info();
        // What a status sync compares is read at once, and agrees with the full record.
        assert.equal(
          [h.hitId, h.hitTypeId, h.hitStatus, h.assignmentsAvailable, h.assignmentsPending, h.assignmentsCompleted],
          [
            info.hitId,
            info.hitTypeId,
            info.hitStatus,
            info.assignmentsAvailable,
            info.assignmentsPending,
            info.assignmentsCompleted,
          ],
        );
        assert.is(h.expiresAtMs, info.expiresAtMs);
        assert.ok(h.info() === info, 'the full record is built once');
      }
      pages.push(page.map((h) => h.info()));
    }
  })();
  await ctx.w.run(read);
  assert.equal(
    pages.map((p) => p.length),
    [100, 30],
  );
  assert.equal(pages.flat(), expected);

  const reviewable = value(await ctx.w.run(gw.listReviewableHITs({ hitTypeId: ctx.hitTypeId })));
  assert.is(reviewable.length, Math.ceil(130 / 4));
  assert.equal(reviewable, await ctx.w.run(viaSdk(ctx, true)));
});

Decoder('when a listing call is refused then the error is the one the SDK gives without the decoder', async (ctx) => {
  const gw = ctx.w.gateway(NAME);
  const refusal = async (client: MTurkClient) => {
    try {
      await client.send(new ListHITsCommand({ MaxResults: 100, NextToken: 'not-a-token' }));
    } catch (err) {
      return { name: (err as Error).name, message: (err as Error).message };
    }
    throw new Error('the simulator accepted an unknown NextToken');
  };
  const plain = await ctx.w.run(refusal(ctx.plain));
  const decoded = await ctx.w.run(refusal(gw.client));
  assert.is(decoded.name, plain.name);
  assert.is(decoded.message.replace(/\(\d+\)/g, ''), plain.message.replace(/\(\d+\)/g, ''));
});

Decoder('when another operation is sent then the SDK decodes it as always', async (ctx) => {
  const gw = ctx.w.gateway(NAME);
  const [first] = value(await ctx.w.run(gw.listHITs()));
  const out = await ctx.w.run(gw.client.send(new GetHITCommand({ HITId: first!.hitId })));
  assert.ok(out.HIT?.CreationTime instanceof Date, 'GetHIT is read by the SDK (dates as Date)');
  assert.equal(toHITInfo(out.HIT!), first);
});

Decoder('when a listing body cannot be read here then it is left to the SDK', () => {
  assert.is(decodeListingBody('not json'), undefined);
  assert.is(decodeListingBody('[1, 2]'), undefined);
  assert.is(decodeListingBody('{"HITs": {"HITId": "x"}}'), undefined);
  assert.is(decodeListingBody('{"HITs": [1]}'), undefined);
  const empty = decodeListingBody('{"NumResults": 0, "NextToken": "t"}');
  assert.equal(empty?.hits, []);
  assert.equal(JSON.parse(empty!.rest), { NumResults: 0, NextToken: 't' });
  const one = decodeListingBody(
    '{"NumResults": 1, "HITs": [{"HITId": "h1", "HITTypeId": "t1", "Expiration": "1767225600.5"}]}',
  );
  assert.equal(JSON.parse(one!.rest), { NumResults: 1 });
  assert.equal(one!.hits[0]!.info(), {
    hitId: 'h1',
    hitTypeId: 't1',
    hitStatus: 'Assignable',
    maxAssignments: 1,
    assignmentsAvailable: 0,
    assignmentsPending: 0,
    assignmentsCompleted: 0,
    expiresAtMs: 1_767_225_600_500,
    annotation: null,
  });
});

Decoder.run();
