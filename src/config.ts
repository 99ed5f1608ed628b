/**
 * Every tunable of a Hearsay node, in one place, each with its default and the reason for it
 * (STYLE.md §2). A node reads one JSON file; `loadConfig` validates it against the table below,
 * names the offending field and its allowed range on error, and returns a frozen object.
 *
 * Profiles are derived from one base: `lan` is the base, `wan` stretches timers for higher latency
 * and loss, `local` shrinks them for loopback clusters (demo, tests). A file picks a profile and may
 * override any field.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { HearsayError } from './errors.js';

export type Profile = 'lan' | 'wan' | 'local';
export type BackendName = 'node' | 'noble';
export type LogLevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface HearsayConfig {
  profile: Profile;
  /** Cluster name; bound into certificates, link keys and packet headers. */
  cluster: string;
  /** Hex Ed25519 public key of the cluster authority: the trust anchor. */
  authorityPublicKey: string;
  /** Folder with this node's `node.key`, `node.kx.key` and `node.cert`. */
  identityDir: string;
  /** Folder for this node's SQLite databases. */
  dataDir: string;
  /** Optional path to a signed policy document adopted at start (a newer one may arrive by gossip). */
  policyFile: string;
  /** Optional path to a signed revocation list adopted at start. */
  revocationFile: string;
  /** Period of policy/revocation version offers to `fanout` random peers (src/policy/policy-gossip.ts). */
  policyOfferIntervalMs: number;
  /** How often policyFile and revocationFile are re-read for a newer signed version; 0 = only at start. */
  policyReloadIntervalMs: number;
  /** Authorization decisions memoized per policy version, across all (tenant, roles) profiles. */
  policyCacheSize: number;
  signatureBackend: BackendName;
  logLevel: LogLevelName;

  bindHost: string;
  bindPort: number;
  /** Address other nodes should use to reach this one; empty means bindHost. */
  advertiseHost: string;
  seeds: string[];
  maxPacketBytes: number;
  maxFrameBytes: number;
  streamTimeoutMs: number;
  replayWindow: number;
  maxClockSkewMs: number;
  /** Packets per second accepted from one authenticated sender before the excess is dropped. */
  peerPacketsPerSecond: number;
  /** HELLO packets (unauthenticated first contacts) accepted per second from all sources. */
  hellosPerSecond: number;

  fanout: number;
  gossipIntervalMs: number;
  lazyFanout: number;
  historyRounds: number;
  gossipRounds: number;
  seenCacheSize: number;
  seenTtlMs: number;
  maxIHaveIds: number;
  maxIWantPerPeerPerRound: number;
  maxMessageBytes: number;
  holdbackLimit: number;
  holdbackTimeoutMs: number;
  iwantTimeoutMs: number;
  maxCachedMessages: number;
  maxCausalDeps: number;

  maxMembers: number;
  probeIntervalMs: number;
  probeTimeoutMs: number;
  indirectChecks: number;
  suspicionMult: number;
  suspicionMaxTimeoutMult: number;
  retransmitMult: number;
  awarenessMaxMultiplier: number;
  pushPullIntervalMs: number;
  reconnectIntervalMs: number;
  deadReapMs: number;
  outboundPeerShare: number;
  membershipGossipIntervalMs: number;
  membershipGossipFanout: number;
  pushPullScaleMembers: number;
  pushPullPerSecond: number;
  healthyReachShare: number;
  leaveTimeoutMs: number;

  maxKeyBytes: number;
  maxValueBytes: number;
  antiEntropyIntervalMs: number;
  tombstoneGraceMs: number;
  maxPendingVersions: number;

  reputationTickMs: number;
  /** Peers the reputation engine tracks, in memory and in SQLite; the quietest neutral ones are forgotten first. */
  reputationMaxPeers: number;
  /** Rows of the reputation audit log kept (oldest pruned first). */
  reputationMaxEvents: number;
  /** Audit events, and neutral peers not seen, older than this are pruned. */
  reputationRetentionMs: number;
  /** Proofs of equivocation kept and re-gossiped (each up to two envelopes and a certificate). */
  reputationMaxEvidence: number;
  /** How long a verified proof of equivocation bans its origin. */
  equivocationBanMs: number;

  /** Serve the admin HTTP API (src/admin/) on adminHost:adminPort; it answers only policy bearer tokens. */
  adminEnabled: boolean;
  adminHost: string;
  /** 0 picks a free port (tests); the bound port is `node.adminAddress`. */
  adminPort: number;
  adminAuthFailuresPerMinute: number;
  /** Period of the admin API's score samples (the dashboard's reputation chart). */
  adminScoreSampleMs: number;
  /** Score samples kept per sampled peer (a ring; the oldest is overwritten). */
  adminScoreHistory: number;
}

type Spec =
  | { kind: 'int'; min: number; max: number; reason: string }
  | { kind: 'string'; pattern: RegExp; patternText: string; reason: string }
  | { kind: 'enum'; values: readonly string[]; reason: string }
  | { kind: 'fraction'; reason: string }
  | { kind: 'bool'; reason: string }
  | { kind: 'addresses'; maxItems: number; reason: string };

const MIB = 1024 * 1024;
const HOUR = 3_600_000;

/**
 * The base (`lan`) profile. Each default's reason is beside it; the `SPEC` table below holds the
 * allowed ranges.
 */
export const BASE_CONFIG: Readonly<HearsayConfig> = Object.freeze({
  profile: 'lan',
  cluster: 'hearsay',
  authorityPublicKey: '',
  identityDir: 'keys/node',
  dataDir: 'data',
  policyFile: '',
  revocationFile: '',
  // Revocations and policy changes reach every node within ~(log_{fanout+1} N + 3) offer rounds
  // (spreadBoundMs); 1 s keeps that to seconds on a LAN for two tiny packets per node per second.
  policyOfferIntervalMs: 1000,
  // An operator can drop a newer signed file in place without restarting; stat() every 5 s is free.
  policyReloadIntervalMs: 5000,
  // A cluster has few (tenant, roles) profiles and a bounded set of hot topics and keys; 64 Ki
  // decisions (~5 MiB) make every steady-state decision a map hit.
  policyCacheSize: 65_536,
  // OpenSSL verifies ~16x faster than pure JS on this hardware (ARCHITECTURE.md); verification bounds throughput.
  signatureBackend: 'node',
  logLevel: 'info',

  // Loopback by default: exposing a node is an explicit decision of its operator.
  bindHost: '127.0.0.1',
  bindPort: 7400,
  advertiseHost: '',
  seeds: [],
  // Stays under the 1500-byte Ethernet MTU minus IP/UDP headers, so datagrams are never fragmented.
  maxPacketBytes: 1400,
  // Bounds a full-state push-pull or anti-entropy frame; a peer cannot make us buffer more.
  maxFrameBytes: 4 * MIB,
  // A stream exchange on a LAN takes milliseconds; 5 s tolerates a loaded peer without hanging on a dead one.
  streamTimeoutMs: 5000,
  // RFC 6479 suggests a window of at least a few hundred packets for reordering; 1024 bits costs 128 bytes per peer.
  replayWindow: 1024,
  // NTP keeps hosts within milliseconds; 30 s tolerates a badly synced host while preventing far-future pinning.
  maxClockSkewMs: 30_000,
  // Far above what gossip needs (a few packets per round per peer); stops one sender from flooding us.
  peerPacketsPerSecond: 2000,
  // First contacts cost a signature verification each; this bounds the CPU an unauthenticated flood can take.
  hellosPerSecond: 200,

  // Fanout 3 spreads a rumor to N nodes in about log_3(N) rounds (7 rounds for 1,000 nodes).
  fanout: 3,
  // One lazy-gossip round every 200 ms: IHAVE batches stay small and pulls are quick.
  gossipIntervalMs: 200,
  // IHAVE goes to this many peers per round (GossipSub's D_lazy is 6).
  lazyFanout: 6,
  // Messages stay retrievable by IWANT for 8 rounds (GossipSub's mcache_len is 5; we keep answering
  // for 3 rounds after the last advertisement so a pull started late still succeeds).
  historyRounds: 8,
  // Ids of the last 5 rounds are advertised in IHAVE. GossipSub's mcache_gossip is 3, but relays here
  // only announce (they do not push), so a node relies on IHAVE alone: with 3 rounds, 1 delivery in
  // 2,000 was lost at 20% packet loss (50-node reputation scenario), with 5 none (seeds 7, 8, 9).
  gossipRounds: 5,
  // Remembered message ids; bounded so a flood of unique ids cannot grow memory without limit.
  seenCacheSize: 65_536,
  // Two minutes outlasts any dissemination (a few seconds) many times over.
  seenTtlMs: 120_000,
  // GossipSub caps IHAVE at 5,000 ids per message; our packets are smaller, 500 fits several packets.
  maxIHaveIds: 500,
  // Bounds the work one peer can request of us per round (GossipSub max_ihave_length).
  maxIWantPerPeerPerRound: 500,
  // Payload of one published message; it must fit, signed and sealed, in one packet.
  maxMessageBytes: 1024,
  // Messages held back for FIFO/causal order per topic; beyond this the oldest gap is skipped and counted.
  holdbackLimit: 1024,
  // A gap that has not filled in 5 s is skipped and counted: delivery never hangs on a lost message.
  holdbackTimeoutMs: 5000,
  // An IWANT unanswered after 150 ms (a hundred LAN round trips) is a broken promise: charge the
  // advertiser and ask the next peer that announced the id. Must be well under the advertising window
  // (gossipRounds × gossipIntervalMs = 600 ms) so a lost pull is retried several times within it.
  iwantTimeoutMs: 150,
  // Full messages kept for IWANT over the historyRounds window; bounds memory under a burst (~12 MiB at 1 KiB each).
  maxCachedMessages: 10_000,
  // Causal context carried in a message: the streams that advanced since the publisher's last causal message on the topic.
  maxCausalDeps: 64,

  // Bounds the membership table a peer can make us hold.
  maxMembers: 20_000,
  // Memberlist's LAN default is 1 s. 200 ms is what lets a crash be known by all 1,000 nodes within
  // 5 s (the suspicion timeout below scales with it); it costs ~10 small packets per node per second
  // (ping + ack, ~100 bytes each), whatever the cluster size.
  probeIntervalMs: 200,
  // Half the probe interval, as memberlist (500 ms of 1 s): a LAN round trip is far below it, and the
  // other half is left for the indirect probes. Lifeguard stretches the interval (not this timeout)
  // while this node looks slow to itself.
  probeTimeoutMs: 100,
  // Memberlist's default: 3 indirect probes make a false suspicion from one bad path unlikely.
  indirectChecks: 3,
  // Suspicion timeout = mult × log10(N+1) × probe interval (memberlist's default multiplier is 4):
  // 2.4 s at N = 1,000 once confirmed by mult - 2 = 2 independent suspicions (Lifeguard).
  suspicionMult: 4,
  // Lifeguard: an unconfirmed suspicion waits up to 6× the minimum (14.4 s at N = 1,000), which is what
  // gives a falsely suspected node time to refute under heavy loss; confirmations shrink it to the minimum.
  suspicionMaxTimeoutMult: 6,
  // Each update is retransmitted about retransmitMult × log10(N+1) times (memberlist's default 4).
  retransmitMult: 4,
  // Lifeguard local health: timeouts stretch up to 8× while this node sees signs of its own slowness.
  awarenessMaxMultiplier: 8,
  // Full-state exchange with one random member every 30 s (memberlist LAN) in clusters of up to
  // pushPullScaleMembers; larger clusters stretch it (below). A joining node and a node reconnecting
  // after a partition push-pull at once, whatever the interval.
  pushPullIntervalMs: 30_000,
  // Dead members and seeds are retried every 10 s (one cheap ping each), so partitions heal by themselves.
  reconnectIntervalMs: 10_000,
  // Dead members are forgotten after 1 hour, long enough to reconnect across a typical partition.
  deadReapMs: HOUR,
  // Half the peers a node gossips with are ones it chose itself, so inbound sybils cannot take over its view.
  outboundPeerShare: 0.5,
  // Membership updates (joins, suspicions, deaths) are pushed to membershipGossipFanout random members
  // every 200 ms while the transmit queue holds any, besides riding on probes (memberlist's GossipInterval
  // 200 ms, GossipNodes 3): an update reaches 1,000 nodes in about a second. Nothing is sent when idle.
  membershipGossipIntervalMs: 200,
  membershipGossipFanout: 3,
  // A push-pull carries the whole member list, so its bytes grow with N: beyond this many members the
  // interval grows in proportion to N (at 1,000 members every 16 min, at 10,000 every 2.6 h), which
  // keeps push-pull bytes per node per second flat (~0.75 KB/s) instead of linear in N. memberlist
  // scales beyond the same 32 members, but logarithmically, so its push-pull bytes still grow with N.
  // Gossip, not push-pull, carries updates in large clusters; joins and reconnects push-pull at once.
  pushPullScaleMembers: 32,
  // Push-pull requests this node answers per second: a full state costs up to maxFrameBytes to build and
  // send, so a flood of requests (or a mass restart) cannot monopolise it; refused requesters retry.
  pushPullPerSecond: 50,
  // Health: "healthy" while this node reaches at least 90% of the members it knows (and a seed, if any);
  // "partitioned" when it reaches half or less (it cannot be in a majority); "degraded" in between.
  healthyReachShare: 0.9,
  // Graceful leave: the signed leave goes at once to a few members, then stop() waits up to 1 s for their
  // acknowledgements, so the leave has spread before the node goes silent. Bounded: stop() never hangs.
  leaveTimeoutMs: 1000,

  // Keys are identifiers, not documents.
  maxKeyBytes: 256,
  // A signed write must fit in one packet with its envelope.
  maxValueBytes: 800,
  // Anti-entropy digest exchange with one random peer every second.
  antiEntropyIntervalMs: 1000,
  // Tombstones are kept a day so a node that was away for less than that still sees deletes.
  tombstoneGraceMs: 24 * HOUR,
  // Writes held above a gap in an origin's versions (they arrived by gossip before their predecessors);
  // bounds what a peer can make us buffer for one origin.
  maxPendingVersions: 4096,

  // Reputation decays and is persisted once per second: one SQLite transaction per tick.
  reputationTickMs: 1000,
  // Covers maxMembers (20,000) twice over for churn; ~0.3 KB each in memory, so at most ~15 MB.
  reputationMaxPeers: 50_000,
  // A week of a busy attack's events at a few per second; ~150 B a row, so ~15 MB of SQLite.
  reputationMaxEvents: 100_000,
  // A week: an operator back from a weekend still finds the events behind a ban.
  reputationRetentionMs: 7 * 24 * HOUR,
  // Each proof is one equivocating origin, so this is far more than a sane cluster ever needs,
  // and bounds the table (two rumors and a certificate are ~3 KB) if someone tries to fill it.
  reputationMaxEvidence: 256,
  // A proof means a malicious or cloned key: a week gives the operator time to revoke its certificate.
  equivocationBanMs: 7 * 24 * HOUR,

  // On, but only on loopback: the operator CLI and dashboard run on the node's host, and the API
  // answers nothing without a token from the signed policy (no policy, no access).
  adminEnabled: true,
  // Loopback: exposing the admin API beyond the host is an explicit decision (put TLS in front).
  adminHost: '127.0.0.1',
  // The port after the gossip port's default (7400), so one node's two ports are easy to remember.
  adminPort: 7401,
  // Failed bearer-token attempts per minute per client before 429: guessing tokens must be slow.
  adminAuthFailuresPerMinute: 10,
  // One sample of every watched peer's score each 10 s: a penalty burst and its decay (minutes to
  // hours of half-life) are visible, and 360 samples cover the last hour.
  adminScoreSampleMs: 10_000,
  // 360 × 10 s = one hour; × 128 watched peers × 16 bytes is under 1 MiB.
  adminScoreHistory: 360,
});

const HOSTPORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

const SPEC: { readonly [K in keyof HearsayConfig]: Spec } = {
  profile: { kind: 'enum', values: ['lan', 'wan', 'local'], reason: 'timer profile' },
  cluster: { kind: 'string', pattern: /^[a-z0-9][a-z0-9-]{0,62}$/, patternText: '1-63 characters of a-z, 0-9 and -', reason: 'cluster name' },
  authorityPublicKey: { kind: 'string', pattern: /^[0-9a-f]{64}$/, patternText: '64 lowercase hex characters (an Ed25519 public key)', reason: 'trust anchor' },
  identityDir: { kind: 'string', pattern: /^.{1,4096}$/, patternText: 'a path', reason: 'key folder' },
  dataDir: { kind: 'string', pattern: /^.{1,4096}$/, patternText: 'a path', reason: 'data folder' },
  policyFile: { kind: 'string', pattern: /^.{0,4096}$/, patternText: 'a path or empty', reason: 'policy' },
  revocationFile: { kind: 'string', pattern: /^.{0,4096}$/, patternText: 'a path or empty', reason: 'revocations' },
  policyOfferIntervalMs: { kind: 'int', min: 10, max: 600_000, reason: 'policy gossip' },
  policyReloadIntervalMs: { kind: 'int', min: 0, max: 3_600_000, reason: 'policy file reload' },
  policyCacheSize: { kind: 'int', min: 1024, max: 10_000_000, reason: 'policy decision cache' },
  signatureBackend: { kind: 'enum', values: ['node', 'noble'], reason: 'signature backend' },
  logLevel: { kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], reason: 'log level' },
  bindHost: { kind: 'string', pattern: /^[0-9A-Za-z.:-]{1,255}$/, patternText: 'an IP address or host name', reason: 'bind' },
  bindPort: { kind: 'int', min: 0, max: 65535, reason: 'bind' },
  advertiseHost: { kind: 'string', pattern: /^[0-9A-Za-z.:-]{0,255}$/, patternText: 'an IP address, host name or empty', reason: 'advertise' },
  seeds: { kind: 'addresses', maxItems: 64, reason: 'seeds' },
  maxPacketBytes: { kind: 'int', min: 576, max: 65_507, reason: 'UDP payload' },
  maxFrameBytes: { kind: 'int', min: 65_536, max: 64 * MIB, reason: 'TCP frame' },
  streamTimeoutMs: { kind: 'int', min: 100, max: 120_000, reason: 'stream timeout' },
  replayWindow: { kind: 'int', min: 64, max: 65_536, reason: 'replay window bits' },
  maxClockSkewMs: { kind: 'int', min: 100, max: 3_600_000, reason: 'clock skew' },
  peerPacketsPerSecond: { kind: 'int', min: 10, max: 1_000_000, reason: 'rate limit' },
  hellosPerSecond: { kind: 'int', min: 1, max: 100_000, reason: 'hello rate limit' },
  fanout: { kind: 'int', min: 1, max: 16, reason: 'fanout' },
  gossipIntervalMs: { kind: 'int', min: 5, max: 60_000, reason: 'gossip interval' },
  lazyFanout: { kind: 'int', min: 0, max: 64, reason: 'lazy fanout' },
  historyRounds: { kind: 'int', min: 1, max: 100, reason: 'history' },
  gossipRounds: { kind: 'int', min: 1, max: 100, reason: 'gossip rounds' },
  seenCacheSize: { kind: 'int', min: 1024, max: 10_000_000, reason: 'seen cache' },
  seenTtlMs: { kind: 'int', min: 1000, max: 86_400_000, reason: 'seen ttl' },
  maxIHaveIds: { kind: 'int', min: 1, max: 5000, reason: 'ihave' },
  maxIWantPerPeerPerRound: { kind: 'int', min: 1, max: 5000, reason: 'iwant' },
  maxMessageBytes: { kind: 'int', min: 1, max: 60_000, reason: 'message size' },
  holdbackLimit: { kind: 'int', min: 1, max: 1_000_000, reason: 'holdback' },
  holdbackTimeoutMs: { kind: 'int', min: 10, max: 3_600_000, reason: 'holdback timeout' },
  iwantTimeoutMs: { kind: 'int', min: 5, max: 60_000, reason: 'iwant deadline' },
  maxCachedMessages: { kind: 'int', min: 16, max: 1_000_000, reason: 'message cache' },
  maxCausalDeps: { kind: 'int', min: 1, max: 1024, reason: 'causal context' },
  maxMembers: { kind: 'int', min: 2, max: 1_000_000, reason: 'members' },
  probeIntervalMs: { kind: 'int', min: 10, max: 60_000, reason: 'probe interval' },
  probeTimeoutMs: { kind: 'int', min: 5, max: 60_000, reason: 'probe timeout' },
  indirectChecks: { kind: 'int', min: 0, max: 16, reason: 'indirect probes' },
  suspicionMult: { kind: 'int', min: 1, max: 100, reason: 'suspicion' },
  suspicionMaxTimeoutMult: { kind: 'int', min: 1, max: 100, reason: 'suspicion max' },
  retransmitMult: { kind: 'int', min: 1, max: 100, reason: 'retransmits' },
  awarenessMaxMultiplier: { kind: 'int', min: 1, max: 100, reason: 'local health' },
  pushPullIntervalMs: { kind: 'int', min: 100, max: 3_600_000, reason: 'push-pull' },
  reconnectIntervalMs: { kind: 'int', min: 100, max: 3_600_000, reason: 'reconnect' },
  deadReapMs: { kind: 'int', min: 1000, max: 30 * 24 * HOUR, reason: 'reap' },
  outboundPeerShare: { kind: 'fraction', reason: 'outbound share' },
  membershipGossipIntervalMs: { kind: 'int', min: 5, max: 60_000, reason: 'membership gossip interval' },
  membershipGossipFanout: { kind: 'int', min: 1, max: 16, reason: 'membership gossip fanout' },
  pushPullScaleMembers: { kind: 'int', min: 1, max: 1_000_000, reason: 'push-pull scaling' },
  pushPullPerSecond: { kind: 'int', min: 1, max: 10_000, reason: 'push-pull rate' },
  healthyReachShare: { kind: 'fraction', reason: 'health threshold' },
  leaveTimeoutMs: { kind: 'int', min: 0, max: 60_000, reason: 'leave wait' },
  maxKeyBytes: { kind: 'int', min: 1, max: 4096, reason: 'key size' },
  maxValueBytes: { kind: 'int', min: 0, max: 60_000, reason: 'value size' },
  antiEntropyIntervalMs: { kind: 'int', min: 10, max: 3_600_000, reason: 'anti-entropy' },
  tombstoneGraceMs: { kind: 'int', min: 1000, max: 365 * 24 * HOUR, reason: 'tombstones' },
  maxPendingVersions: { kind: 'int', min: 1, max: 1_000_000, reason: 'pending versions' },
  reputationTickMs: { kind: 'int', min: 10, max: 60_000, reason: 'reputation tick' },
  reputationMaxPeers: { kind: 'int', min: 100, max: 10_000_000, reason: 'reputation peers' },
  reputationMaxEvents: { kind: 'int', min: 1000, max: 100_000_000, reason: 'reputation audit log' },
  reputationRetentionMs: { kind: 'int', min: 60_000, max: 365 * 24 * HOUR, reason: 'reputation retention' },
  reputationMaxEvidence: { kind: 'int', min: 1, max: 100_000, reason: 'equivocation proofs' },
  equivocationBanMs: { kind: 'int', min: 60_000, max: 365 * 24 * HOUR, reason: 'equivocation ban' },
  adminEnabled: { kind: 'bool', reason: 'admin' },
  adminHost: { kind: 'string', pattern: /^[0-9A-Za-z.:-]{1,255}$/, patternText: 'an IP address or host name', reason: 'admin bind' },
  adminPort: { kind: 'int', min: 0, max: 65535, reason: 'admin bind' },
  adminAuthFailuresPerMinute: { kind: 'int', min: 1, max: 10_000, reason: 'auth failures' },
  adminScoreSampleMs: { kind: 'int', min: 100, max: 3_600_000, reason: 'score chart sampling' },
  adminScoreHistory: { kind: 'int', min: 2, max: 10_000, reason: 'score chart length' },
};

/** `wan` stretches every timer for cross-datacenter latency and loss (memberlist's WAN profile does the same). */
const WAN_OVERRIDES: Partial<HearsayConfig> = {
  profile: 'wan',
  probeIntervalMs: 5000,
  probeTimeoutMs: 3000,
  suspicionMult: 6,
  membershipGossipIntervalMs: 500,
  gossipIntervalMs: 500,
  pushPullIntervalMs: 60_000,
  antiEntropyIntervalMs: 5000,
  streamTimeoutMs: 10_000,
  policyOfferIntervalMs: 5000,
  iwantTimeoutMs: 400,
};

/** `local` shrinks timers for loopback clusters (demo, tests), where a round trip takes microseconds. */
const LOCAL_OVERRIDES: Partial<HearsayConfig> = {
  profile: 'local',
  // Loopback round trips take microseconds, but ten node processes may share two cores: 75 ms
  // leaves room for scheduling delays, and Lifeguard stretches the interval when a node falls behind.
  probeIntervalMs: 150,
  probeTimeoutMs: 75,
  gossipIntervalMs: 100,
  pushPullIntervalMs: 5000,
  reconnectIntervalMs: 1000,
  antiEntropyIntervalMs: 250,
  streamTimeoutMs: 2000,
  policyOfferIntervalMs: 250,
  iwantTimeoutMs: 50,
  reputationTickMs: 250,
  // A demo or test watches a chart fill within seconds.
  adminScoreSampleMs: 1000,
};

export function profileDefaults(profile: Profile): HearsayConfig {
  const base = { ...BASE_CONFIG, seeds: [...BASE_CONFIG.seeds] };
  if (profile === 'wan') return { ...base, ...WAN_OVERRIDES };
  if (profile === 'local') return { ...base, ...LOCAL_OVERRIDES };
  return base;
}

function configError(field: string, message: string): HearsayError {
  return new HearsayError('HEARSAY_ERR_CONFIG', `config field "${field}": ${message}`);
}

function checkField(field: keyof HearsayConfig, value: unknown): unknown {
  const spec = SPEC[field];
  switch (spec.kind) {
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < spec.min || value > spec.max) {
        throw configError(field, `must be an integer from ${spec.min} to ${spec.max} (got ${describe(value)})`);
      }
      return value;
    case 'fraction':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
        throw configError(field, `must be a number from 0 to 1 (got ${describe(value)})`);
      }
      return value;
    case 'string':
      if (typeof value !== 'string' || !spec.pattern.test(value)) {
        throw configError(field, `must be ${spec.patternText} (got ${describe(value)})`);
      }
      return value;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) {
        throw configError(field, `must be one of ${spec.values.join(', ')} (got ${describe(value)})`);
      }
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw configError(field, `must be true or false (got ${describe(value)})`);
      return value;
    case 'addresses': {
      if (!Array.isArray(value) || value.length > spec.maxItems) {
        throw configError(field, `must be a list of at most ${spec.maxItems} "host:port" strings`);
      }
      value.forEach((a, i) => {
        if (typeof a !== 'string' || !HOSTPORT.test(a) || Number(a.slice(a.lastIndexOf(':') + 1)) > 65535) {
          throw configError(`${field}[${i}]`, `must be "host:port" with a port from 0 to 65535 (got ${describe(a)})`);
        }
      });
      return [...value] as string[];
    }
  }
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return typeof v;
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Builds a validated, frozen config from a partial one: profile defaults first, then the given
 * fields. Unknown fields are refused, so a typo never silently falls back to a default.
 */
export function resolveConfig(input: unknown): Readonly<HearsayConfig> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new HearsayError('HEARSAY_ERR_CONFIG', 'config must be a JSON object');
  }
  const raw = input as Record<string, unknown>;
  const profile = raw.profile === undefined ? 'lan' : checkField('profile', raw.profile) as Profile;
  const out = profileDefaults(profile) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(raw)) {
    if (!Object.hasOwn(SPEC, k)) {
      throw configError(k, `is not a known field (see src/config.ts for the list)`);
    }
    out[k] = checkField(k as keyof HearsayConfig, v);
  }
  if (out.authorityPublicKey === '') {
    throw configError('authorityPublicKey', 'is required: the hex public key printed by `hearsay authority init`');
  }
  const cfg = out as unknown as HearsayConfig;
  if (cfg.probeTimeoutMs >= cfg.probeIntervalMs) {
    throw configError('probeTimeoutMs', `must be less than probeIntervalMs (${cfg.probeIntervalMs})`);
  }
  if (cfg.gossipRounds > cfg.historyRounds) {
    throw configError('gossipRounds', `must be at most historyRounds (${cfg.historyRounds})`);
  }
  if (cfg.iwantTimeoutMs >= cfg.gossipRounds * cfg.gossipIntervalMs) {
    throw configError('iwantTimeoutMs', `must be less than gossipRounds × gossipIntervalMs (${cfg.gossipRounds * cfg.gossipIntervalMs} ms), so a lost pull can be retried while the id is still advertised`);
  }
  if (cfg.maxFrameBytes < cfg.maxPacketBytes) {
    throw configError('maxFrameBytes', `must be at least maxPacketBytes (${cfg.maxPacketBytes})`);
  }
  Object.freeze(cfg.seeds);
  return Object.freeze(cfg);
}

/** Reads and validates a JSON config file. Relative paths inside it are taken relative to the file. */
export function loadConfig(path: string): Readonly<HearsayConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new HearsayError('HEARSAY_ERR_CONFIG_FILE', `cannot read config file ${path}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new HearsayError('HEARSAY_ERR_CONFIG_FILE', `config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  const cfg = resolveConfig(parsed);
  const base = dirname(resolve(path));
  const rel = (p: string): string => (p === '' ? p : resolve(base, p));
  return Object.freeze({
    ...cfg,
    identityDir: rel(cfg.identityDir),
    dataDir: rel(cfg.dataDir),
    policyFile: rel(cfg.policyFile),
    revocationFile: rel(cfg.revocationFile),
  });
}

/** The documented fields, for tests and `hearsay config --help`. */
export function configFields(): Array<{ field: keyof HearsayConfig; kind: string; reason: string }> {
  return (Object.keys(SPEC) as Array<keyof HearsayConfig>).map((field) => ({ field, kind: SPEC[field].kind, reason: SPEC[field].reason }));
}
