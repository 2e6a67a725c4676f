/**
 * Fixed bounds of the tunnel. Together they cap what one connection can hold in this
 * process, whatever the speed of either peer.
 */

/** Largest binary message sent to the agent; a larger socket read is split. */
export const MAX_OUTBOUND_MESSAGE = 64 * 1024

/**
 * Largest message accepted from the agent. Agents send what one read gives them (32 KiB for
 * cara-agent); the margin admits agents with larger buffers without admitting a flood.
 */
export const MAX_INBOUND_MESSAGE = 1024 * 1024

/** Unflushed bytes towards the agent at which reading from the local client pauses. */
export const HIGH_WATER_BYTES = 1024 * 1024

/** Unflushed bytes towards the agent at which reading from the local client resumes. */
export const LOW_WATER_BYTES = 256 * 1024

/**
 * How long a closing side waits for its peer to finish closing before cutting: the agent's
 * answer to a close frame, or the local client's FIN after ours.
 */
export const CLOSE_TIMEOUT_MS = 3000

/**
 * How long a stream stays open after the local client finished sending while the agent sends
 * nothing: long enough for a reply to a request-then-FIN client, short enough that a closed
 * client does not hold a tunnel (and a drain) open.
 */
export const HALF_CLOSE_IDLE_MS = 10_000

/** The same wait once the forward is stopping, so that a drain is not held by closed clients. */
export const DRAINING_HALF_CLOSE_IDLE_MS = 1000

/** Pending connections the kernel queues for the listener: a burst of 1000 fits. */
export const LISTEN_BACKLOG = 4096
