/**
 * `image-pull`: a container of a pod cannot get its image.
 *
 * Kubernetes sources: pkg/kubelet/images/image_manager.go and pkg/kubelet/events/event.go.
 * - `state.waiting.reason` `ErrImagePull`, `ImagePullBackOff`, `InvalidImageName`,
 *   `ImageInspectError`, `ErrImageNeverPull`, `RegistryUnavailable`, `SignatureValidationFailed`.
 * - Events: Warning `Failed` `Failed to pull image "%s": %v`, `Error: ErrImagePull`,
 *   `Error: ImagePullBackOff`; Normal `BackOff` `Back-off pulling image "%s"`; Warning
 *   `InspectFailed`; Warning `ErrImageNeverPull` `Container image %q is not present with pull
 *   policy of Never`.
 * - From 1.32 the waiting message carries the last pull error: `Back-off pulling image "%s":
 *   <reason>: <error>`; before, only `Back-off pulling image "%s"`. Both are read.
 * Kubernetes does not classify pull failures; the runtime's text does. The cause is a heuristic
 * over that text, with `unknown` when it says nothing recognisable.
 */
import type { Pod } from '../snapshot/types.js';
import { REVISION_LABEL } from '../snapshot/view.js';
import { podEvents, templateFixedFor, waitingContainers, waitingEvidence } from './facts.js';
import { deletePodOption, rollbackOption } from './offers.js';
import { eventEvidence, fieldEvidence, ref, stsRef, type Finding, type RecoveryOption, type Rule } from './types.js';

const PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ImageInspectError', 'ErrImageNeverPull', 'RegistryUnavailable', 'SignatureValidationFailed']);

/** Why a pull failed. */
export type PullCause = 'not-found' | 'unauthorized' | 'unreachable' | 'rate-limited' | 'invalid-name' | 'never-pull' | 'signature' | 'unknown';

const PATTERNS: [PullCause, RegExp][] = [
  ['rate-limited', /\b429\b|toomanyrequests|too many requests|rate limit/i],
  ['unauthorized', /pull access denied|\b401\b|unauthori[sz]ed|\b403\b|forbidden|insufficient_scope|authori[sz]ation failed|authentication required|denied: requested access/i],
  ['not-found', /not found|manifest unknown|name unknown|no such image|does not exist/i],
  ['unreachable', /dial tcp|no such host|i\/o timeout|connection refused|x509:|tls: |network is unreachable|context deadline exceeded|server misbehaving|EOF/i],
];

/**
 * Classifies a pull failure from the waiting reason and the runtime's messages.
 * @param reason `state.waiting.reason`
 * @param texts waiting message and event messages, newest first
 */
export function pullCause(reason: string, texts: string[]): PullCause {
  if (reason === 'InvalidImageName') return 'invalid-name';
  if (reason === 'ErrImageNeverPull') return 'never-pull';
  if (reason === 'SignatureValidationFailed') return 'signature';
  if (reason === 'RegistryUnavailable') return 'unreachable';
  const text = texts.join('\n');
  for (const [cause, re] of PATTERNS) if (re.test(text)) return cause;
  return 'unknown';
}

const CAUSE_WORDS: Record<PullCause, string> = {
  'not-found': 'the image or tag does not exist',
  unauthorized: 'the registry refused access',
  unreachable: 'the registry cannot be reached',
  'rate-limited': 'the registry is rate-limiting pulls',
  'invalid-name': 'the image name is invalid',
  'never-pull': 'the image is not on the node and imagePullPolicy is Never',
  signature: 'the image signature is not valid',
  unknown: 'the runtime gave no recognisable reason',
};

function imageOf(pod: Pod, container: string): string | undefined {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((c) => c.name === container)?.image;
}

export const imagePull: Rule = {
  id: 'image-pull',
  title: 'Image cannot be pulled',
  rank: 40,
  doc: {
    severities: ['critical'],
    meaning: 'A container cannot get its image, with the cause: not found, unauthorized (and whether `imagePullSecrets` is set), registry unreachable, rate limited, invalid name, never-pull, signature, or unknown.',
    signals: '`state.waiting.reason` `ErrImagePull`/`ImagePullBackOff`/`InvalidImageName`/`ErrImageNeverPull`/...; events `Failed` "Failed to pull image ...", `BackOff`, `InspectFailed`; the 1.32+ waiting message',
    recoveries: 'manual fix of the image or pull secret, `rollback`',
  },
  evaluate({ view, sts }) {
    const out: Finding[] = [];
    for (const pod of view.podsOf(sts)) {
      for (const w of waitingContainers(pod)) {
        const reason = w.status.state!.waiting!.reason!;
        if (!PULL_REASONS.has(reason)) continue;
        const image = imageOf(pod, w.status.name) ?? w.status.image ?? '';
        const events = podEvents(view, pod, 'Failed', 'BackOff', 'InspectFailed', 'ErrImageNeverPull').filter(
          (e) => !image || (e.message ?? '').includes(image) || /^Error: /.test(e.message ?? ''),
        );
        const texts = [w.status.state!.waiting!.message ?? '', ...events.map((e) => e.message ?? '')];
        const cause = pullCause(reason, texts);
        const evidence = [waitingEvidence(pod, w)];
        // The most informative events first: the runtime's error, then the back-off.
        const detailed = events.filter((e) => /Failed to pull image|Failed to inspect|Failed to apply default image tag|not present with pull policy/.test(e.message ?? ''));
        for (const e of [...detailed.slice(0, 2), ...events.filter((e) => !detailed.includes(e)).slice(0, 1)]) evidence.push(eventEvidence(e));
        const secrets = pod.spec.imagePullSecrets?.map((s) => s.name) ?? [];
        if (cause === 'unauthorized') {
          evidence.push(fieldEvidence(pod, 'Pod', 'spec.imagePullSecrets', secrets.length ? secrets.join(', ') : '(none)', undefined, 'spec'));
        }
        // Has the template moved on since this pod was created (the image fixed already)?
        const templateImage = [...(sts.spec.template.spec.initContainers ?? []), ...sts.spec.template.spec.containers].find((c) => c.name === w.status.name)?.image;
        // Fixed: this container's image changed, or what the pod runs changed since it was created
        // (it is not on the update revision): deleting it brings the new template; a rollback would not.
        const fixed = (templateImage !== undefined && templateImage !== image) || templateFixedFor(view, sts, pod);
        const recoveries: RecoveryOption[] = fixed
          ? [
              deletePodOption(
                pod,
                `${templateImage !== undefined && templateImage !== image ? `The pod template now has image "${templateImage}" for container ${w.status.name}` : `The pod template changed since ${pod.metadata.name} was created (revision ${pod.metadata.labels?.[REVISION_LABEL] ?? '?'}; update revision ${sts.status?.updateRevision ?? '?'})`}, but ${pod.metadata.name} was created from an older template. The controller does not replace a pod that never became Ready (kubernetes#67250): delete it and it is recreated from the current template (its PVCs are kept).`,
              ),
            ]
          : [];
        if (!fixed) recoveries.push(
          {
            id: 'manual',
            title: cause === 'unauthorized' ? 'Give the pods credentials for the registry' : 'Fix the image reference in the pod template',
            description:
              cause === 'unauthorized'
                ? secrets.length
                  ? `The pod uses imagePullSecrets ${secrets.join(', ')}: check that they hold valid credentials for this registry.`
                  : 'The pod has no imagePullSecrets: create a docker-registry Secret and reference it in the template (or the ServiceAccount).'
                : `Correct the image of container ${w.status.name} (now "${image}"), then delete the stuck pod: under OrderedReady the controller does not replace a pod that never became Ready (kubernetes#67250).`,
            automated: false,
            commands:
              cause === 'unauthorized'
                ? [
                    `kubectl -n ${pod.metadata.namespace ?? view.snapshot.namespace} create secret docker-registry regcred --docker-server=<registry> --docker-username=<user> --docker-password=<password>`,
                    `kubectl -n ${pod.metadata.namespace ?? view.snapshot.namespace} patch sts ${sts.metadata.name} -p '{"spec":{"template":{"spec":{"imagePullSecrets":[{"name":"regcred"}]}}}}'`,
                  ]
                : [`kubectl -n ${pod.metadata.namespace ?? view.snapshot.namespace} set image sts/${sts.metadata.name} ${w.status.name}=<image:tag>`, `kubectl -n ${pod.metadata.namespace ?? view.snapshot.namespace} delete pod ${pod.metadata.name}`],
          },
        );
        if (fixed && templateImage !== undefined) evidence.push(fieldEvidence(sts, 'StatefulSet', `spec.template.spec.containers[${w.status.name}].image`, templateImage, undefined, 'spec'));
        const rollback = fixed ? undefined : rollbackOption(view, sts);
        if (rollback) recoveries.push(rollback);
        out.push({
          rule: 'image-pull',
          severity: 'critical',
          statefulSet: stsRef({ view, sts }),
          subject: ref(pod, 'Pod'),
          summary: `Pod ${pod.metadata.name} cannot pull image "${image}": ${CAUSE_WORDS[cause]} (${reason})`,
          explanation:
            `Container ${w.status.name}${w.init ? ' (init)' : ''} of ${pod.metadata.name} is waiting with ${reason}: ${CAUSE_WORDS[cause]}. ` +
            'The kubelet retries with a back-off of up to 5 minutes; the pod never starts until the image can be pulled.',
          evidence,
          recoveries,
          // An image that does not exist, with the template unchanged, never starts by itself.
          ...(cause === 'not-found' && !fixed ? { permanent: true } : {}),
          // The 1.32+ waiting message names the cause by itself; older kubelets leave it to the events.
          confidence: view.canSee('events') || pullCause(reason, [w.status.state!.waiting!.message ?? '']) !== 'unknown' ? 'high' : 'low',
          details: { container: w.status.name, image, reason, cause, imagePullSecrets: secrets, ...(fixed ? { templateImage, templateFixed: true } : {}) },
        });
      }
    }
    return out;
  },
};
