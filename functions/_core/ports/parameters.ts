/**
 * Secret parameters: the webhook's shared token (and any other secret quiesce reads at run time). A port so
 * the handler can be tested with a fixed secret and so the cache policy lives in one adapter, not in every
 * caller: a webhook hit per ArgoCD sync must not cost a Parameter Store call each time.
 */

/** Reads one secret value by name (decrypted). */
export interface SecretParameterPort {
  /**
   * The decrypted value. Throws the AWS error (e.g. `ParameterNotFound`) unchanged: a missing secret is a
   * deployment fault the caller turns into a 5xx, never into "no authentication".
   */
  get(name: string): Promise<string>;
}

/**
 * Plain parameters under one path of a hierarchy: configuration that grows one parameter at a time (the
 * traffic plans, one per ArgoCD app), so no single value's size limit bounds how much of it there is.
 */
export interface ParameterTreePort {
  /**
   * Every parameter directly under `path` (not deeper), all pages, by full name. Throws the AWS error
   * unchanged: an unreadable path is not an empty one.
   */
  children(path: string): Promise<ReadonlyMap<string, string>>;
}
