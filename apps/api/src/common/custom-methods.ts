/**
 * Google-style custom methods (`POST /sessions/{id}:start`). Fastify's router cannot match a
 * parameter followed by a literal `:verb` in one segment, so the URL is rewritten before routing
 * to an internal form, `/sessions/{id}/~start`, that controllers declare with `customMethod()`.
 * A client that sends the internal form itself is routed nowhere (404): it is not an alias.
 */
/** `/~`, also percent-encoded (`/%7E`): the router decodes it before matching. */
const INTERNAL_MARK = /\/(?:~|%7e)/i;
const CUSTOM_METHOD =
  /^(\/api\/v1\/(?:(?:sessions|gateways|webhooks)\/[^/?:]+|webhooks\/[^/?:]+\/deliveries\/[^/?:]+)):([a-z][a-z-]*)(\?.*)?$/;

/** The route path a controller declares for `{param}:verb`. */
export const customMethod = (param: string, verb: string): string => `:${param}/~${verb}`;

export function rewriteCustomMethods(url: string): string {
  const path = url.split('?', 1)[0] ?? url;
  if (INTERNAL_MARK.test(path)) return '/__unrouted__';
  const match = CUSTOM_METHOD.exec(url);
  return match ? `${match[1]}/~${match[2]}${match[3] ?? ''}` : url;
}

/** The public form of an internal path, for the OpenAPI document. */
export const publicPath = (path: string): string => path.replace(/\/~([a-z-]+)/g, ':$1');
