/**
 * Cloud Map port over the SDK: namespaces, services, instances, deregistration and its operation status.
 */
import {
  DeregisterInstanceCommand,
  GetOperationCommand,
  ListOperationsCommand,
  ListInstancesCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  type ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import type { CloudMapRegistration } from '../../domain/registration.ts';
import type { CloudMapDeregistration, CloudMapOperation, CloudMapPort } from '../../ports/index.ts';
import { awsErrorName } from '../../errors.ts';
import type { ApiBudget } from './budget.ts';

/** The maximum page size of every Cloud Map List* call. */
const PAGE = 100;

const OPERATION_STATES = new Set(['SUBMITTED', 'PENDING', 'SUCCESS', 'FAIL']);

/**
 * {@link CloudMapPort} on the SDK. Paging loops follow NextToken, not page contents: a filtered Cloud Map
 * page can be empty while more pages follow, and stopping there would hide services.
 */
export class AwsCloudMap implements CloudMapPort {
  readonly #client: ServiceDiscoveryClient;
  readonly #budget: ApiBudget;

  constructor(client: ServiceDiscoveryClient, budget: ApiBudget) {
    this.#client = client;
    this.#budget = budget;
  }

  /** Every namespace, all pages. */
  async listNamespaces(): Promise<{ id: string; name: string }[]> {
    const out: { id: string; name: string }[] = [];
    let token: string | undefined;
    do {
      const page = await this.#budget.call('cloudmap-read', 'ListNamespaces', () =>
        this.#client.send(new ListNamespacesCommand({ MaxResults: PAGE, NextToken: token })),
      );
      for (const n of page.Namespaces ?? []) if (n.Id) out.push({ id: n.Id, name: n.Name ?? n.Id });
      token = page.NextToken || undefined;
    } while (token);
    return out;
  }

  /** The services of one namespace (filter NAMESPACE_ID), all pages, empty pages included. */
  async listServices(namespaceId: string): Promise<{ id: string; name: string }[]> {
    const out: { id: string; name: string }[] = [];
    let token: string | undefined;
    do {
      const page = await this.#budget.call('cloudmap-read', 'ListServices', () =>
        this.#client.send(
          new ListServicesCommand({
            Filters: [{ Name: 'NAMESPACE_ID', Values: [namespaceId], Condition: 'EQ' }],
            MaxResults: PAGE,
            NextToken: token,
          }),
        ),
      );
      for (const s of page.Services ?? []) if (s.Id) out.push({ id: s.Id, name: s.Name ?? s.Id });
      token = page.NextToken || undefined;
    } while (token);
    return out;
  }

  /** Every instance of a service, all pages, tagged with the namespace and service they came from. */
  async listInstances(
    service: { id: string; name: string },
    namespace: { id: string; name: string },
  ): Promise<CloudMapRegistration[]> {
    const out: CloudMapRegistration[] = [];
    let token: string | undefined;
    do {
      const page = await this.#budget.call('cloudmap-read', 'ListInstances', () =>
        this.#client.send(new ListInstancesCommand({ ServiceId: service.id, MaxResults: PAGE, NextToken: token })),
      );
      for (const i of page.Instances ?? []) {
        if (!i.Id) continue;
        out.push({
          kind: 'cloudmap',
          namespaceId: namespace.id,
          namespaceName: namespace.name,
          serviceId: service.id,
          serviceName: service.name,
          instanceId: i.Id,
          attributes: { ...(i.Attributes ?? {}) },
        });
      }
      token = page.NextToken || undefined;
    } while (token);
    return out;
  }

  /**
   * DeregisterInstance. InstanceNotFound becomes `not-found` (already gone is the outcome we wanted, and a
   * registration that has not propagated yet is the caller's to revisit). DuplicateRequest, a deregistration
   * racing another operation on the same instance, is rethrown at once: the executor waits the operation out
   * (seconds, not the budget's 100 ms backoff) and asks again.
   */
  async deregisterInstance(serviceId: string, instanceId: string): Promise<CloudMapDeregistration> {
    try {
      const res = await this.#budget.call('cloudmap-write', 'DeregisterInstance', () =>
        this.#client.send(new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: instanceId })),
      );
      return { status: 'submitted', operationId: res.OperationId ?? '' };
    } catch (err) {
      if (awsErrorName(err) === 'InstanceNotFound') return { status: 'not-found' };
      throw err;
    }
  }

  /**
   * GetOperation. An unknown status reads as PENDING (look again later); FAIL carries ErrorCode and
   * ErrorMessage (https://docs.aws.amazon.com/cloud-map/latest/api/API_GetOperation.html).
   */
  async getOperation(operationId: string): Promise<CloudMapOperation> {
    const res = await this.#budget.call('cloudmap-read', 'GetOperation', () =>
      this.#client.send(new GetOperationCommand({ OperationId: operationId })),
    );
    const op = res.Operation;
    const status = (OPERATION_STATES.has(op?.Status ?? '') ? op?.Status : 'PENDING') as CloudMapOperation['status'];
    return status === 'FAIL'
      ? { status, errorCode: op?.ErrorCode ?? 'UNKNOWN', errorMessage: op?.ErrorMessage ?? '' }
      : { status };
  }

  /**
   * ListOperations filtered by TYPE and UPDATE_DATE (BETWEEN, epoch seconds), every page: filters apply per
   * page, so a page may be empty while NextToken is set
   * (https://docs.aws.amazon.com/cloud-map/latest/api/API_ListOperations.html).
   */
  async recentOperationStatuses(type: 'DEREGISTER_INSTANCE', since: Date): Promise<Map<string, CloudMapOperation['status']>> {
    const out = new Map<string, CloudMapOperation['status']>();
    const from = String(Math.floor(since.getTime() / 1000) - 1);
    const to = String(Math.ceil(since.getTime() / 1000) + 86_400);
    let token: string | undefined;
    do {
      const page = await this.#budget.call('cloudmap-read', 'ListOperations', () =>
        this.#client.send(
          new ListOperationsCommand({
            MaxResults: PAGE,
            NextToken: token,
            Filters: [
              { Name: 'TYPE', Values: [type], Condition: 'EQ' },
              { Name: 'UPDATE_DATE', Values: [from, to], Condition: 'BETWEEN' },
            ],
          }),
        ),
      );
      for (const op of page.Operations ?? []) {
        if (op.Id && op.Status && OPERATION_STATES.has(op.Status)) out.set(op.Id, op.Status as CloudMapOperation['status']);
      }
      token = page.NextToken || undefined;
    } while (token);
    return out;
  }
}
