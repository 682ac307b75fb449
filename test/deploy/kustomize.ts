import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const K8S_DIR = resolve(REPO_ROOT, 'deploy/k8s');

/** A rendered Kubernetes object, loosely typed: the schema check gives it its shape. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  [key: string]: unknown;
}

/** Parses YAML documents, failing on any syntax error (the `yaml` package collects them). */
export function parseYamlDocuments(text: string, what: string): unknown[] {
  return parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${what}, document ${i}: ${doc.errors[0]!.message}`);
    return doc.toJS();
  });
}

/** `kubectl kustomize <overlay>`: what `kubectl apply -k` would send, as objects. */
export function renderOverlay(overlay: string): K8sObject[] {
  const text = execFileSync('kubectl', ['kustomize', resolve(K8S_DIR, 'overlays', overlay)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseYamlDocuments(text, overlay).filter((o): o is K8sObject => o !== null);
}

/** The kubernetes-models class of an apiVersion/kind (`apps/v1` Deployment → apps/v1/Deployment). */
export async function modelFor(
  apiVersion: string,
  kind: string,
): Promise<{ new (data: unknown): { validate(): void } }> {
  const module = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<
    string,
    { new (data: unknown): { validate(): void } }
  >;
  const model = module[kind];
  if (!model) throw new Error(`no schema for ${apiVersion} ${kind}`);
  return model;
}

/** Validates one object against the Kubernetes schema of its apiVersion/kind; throws if invalid. */
export async function validateObject(object: K8sObject): Promise<void> {
  const Model = await modelFor(object.apiVersion, object.kind);
  new Model(withUnwrappedBase64(object)).validate();
}

/**
 * Kustomize folds long base64 Secret values over several lines; the API server's decoder skips
 * the line breaks, the schema's `byte` format does not: unfold them before checking.
 */
function withUnwrappedBase64(object: K8sObject): K8sObject {
  if (object.kind !== 'Secret' || !object.data) return object;
  const data = Object.fromEntries(
    Object.entries(object.data).map(([k, v]) => [k, v.replace(/\s+/g, '')]),
  );
  return { ...object, data };
}
