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
