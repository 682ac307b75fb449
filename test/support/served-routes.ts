import type { NestFastifyApplication } from '@nestjs/platform-fastify';

export interface ServedRoute {
  method: string;
  /** Path template as the OpenAPI document writes it: `{param}`, and `:verb` for custom methods. */
  template: string;
}

/** Every (method, path template) the Fastify router serves, read from its own route tree. */
export function servedRoutes(app: NestFastifyApplication): ServedRoute[] {
  const tree = app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const routes: ServedRoute[] = [];
  for (const line of tree.split('\n')) {
    const at = line.search(/[├└]── /);
    if (at < 0) continue;
    const match = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(at + 4))!;
    stack.length = at / 4;
    stack.push(match[1]!);
    // `:param` → `{param}`; a custom method's internal route `/~verb` is the public `:verb`.
    const template = stack
      .join('')
      .replace(/:([A-Za-z0-9_]+)/g, '{$1}')
      .replace(/\/~([a-z-]+)/g, ':$1');
    for (const method of match[2]?.split(', ') ?? []) routes.push({ method, template });
  }
  return routes;
}
