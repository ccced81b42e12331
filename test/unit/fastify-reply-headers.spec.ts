import { CorsService, appendVary, VARY_ORIGIN, type CorsResult } from '../../lib/core/cors.service.js';
import { CorsPolicy } from '../../lib/core/cors-policy.js';
import { ReplyHeaders } from '../../lib/platform/fastify/fastify-cors.hook.js';

/** A Fastify reply as ReplyHeaders uses it: its headers object, its header methods (lower-casing names, as Fastify's), and Node's response. */
function fakeReply(raw: Record<string, string> = {}) {
  const own: Record<string, unknown> = {};
  const calls: string[] = [];
  const reply = {
    raw: { getHeader: (name: string) => raw[name] },
    hijack() {},
    getHeader(name: string) {
      calls.push(`get ${name}`);
      return own[name.toLowerCase()] ?? raw[name.toLowerCase()];
    },
    header(name: string, value: unknown) {
      calls.push(`set ${name}`);
      own[name.toLowerCase()] = value;
      return reply;
    },
  };
  return { reply, own, calls };
}

const cors = new CorsService();
const policy = new CorsPolicy({ origins: ['https://app.example'], exposedHeaders: ['X-Total'], supportsCredentials: true });
const allowed = cors.evaluateOrigin({ method: 'GET', headers: {} }, policy, 'https://app.example', false) as CorsResult;

/** What the Fastify edge writes for an allowed actual request: the decision, then Vary. */
function write(headers: ReplyHeaders): void {
  cors.applyAccessControl(allowed, headers);
  appendVary(headers, VARY_ORIGIN);
}

describe("ReplyHeaders (the Fastify edge's writer of a decision into a reply's headers)", () => {
  it("writes the decision into the reply's headers object itself, with the names Fastify keeps (lower case)", () => {
    const { reply, own, calls } = fakeReply();
    const headers = new ReplyHeaders();
    Object.assign(headers, { reply, own });
    write(headers);
    expect(own).toEqual({
      'access-control-allow-origin': 'https://app.example',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'X-Total',
      vary: 'Origin',
    });
    expect(calls).toEqual([]);
  });

  it("merges Origin into a Vary the reply has, or else Node's response has (a middleware's), as reply.getHeader reads it", () => {
    for (const [inReply, inRaw, expected] of [
      ['Accept', undefined, 'Accept, Origin'],
      [undefined, 'Accept-Language', 'Accept-Language, Origin'],
      ['origin', 'Accept', undefined],
    ] as const) {
      const { reply, own } = fakeReply(inRaw === undefined ? {} : { vary: inRaw });
      if (inReply !== undefined) own.vary = inReply;
      const headers = new ReplyHeaders();
      Object.assign(headers, { reply, own });
      appendVary(headers, VARY_ORIGIN);
      expect(own.vary).toBe(expected ?? inReply);
    }
  });

  it("writes the same headers through the reply's own methods when Fastify's headers object cannot be found", () => {
    const direct = fakeReply();
    const headers = new ReplyHeaders();
    Object.assign(headers, { reply: direct.reply, own: direct.own });
    write(headers);
    const viaReply = fakeReply();
    Object.assign(headers, { reply: viaReply.reply, own: undefined });
    write(headers);
    expect(viaReply.own).toEqual(direct.own);
    expect(viaReply.calls).toEqual([
      'set access-control-allow-origin',
      'set access-control-allow-credentials',
      'set access-control-expose-headers',
      'get vary',
      'set vary',
    ]);
  });
});
